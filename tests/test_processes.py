"""What the fake asks the OS about local-run processes (``execution/processes.py``, ``supervisor.process_alive``), and
the backend's side of it: it knows no processes and takes only what its injected process check accepts."""

from __future__ import annotations

import ast
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import amlmock.backend
from amlmock.backend.errors import ValidationError
from amlmock.backend.service import Backend
from amlmock.execution import supervisor
from amlmock.execution.processes import (
    ProcessStat,
    leads_session_under,
    local_run_processes,
    parse_stat,
    read_stat,
)
from amlmock.execution.supervisor import process_alive
from tests.helpers import wait_for

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
ODD_NAME = "a) b )"  # a comm with spaces and ')': the fields after it count from the last ')'


# ------------------------------------------------------------------------------------------ /proc/<pid>/stat
def test_stat_fields_are_counted_from_the_last_parenthesis():
    line = b"4242 (a) b ) (x) Z 17 4242 4243 34816 0 -1 4194560 105 0 0 0\n"
    assert parse_stat(line) == ProcessStat(state="Z", ppid=17, pgrp=4242, session=4243)
    assert parse_stat(b"4242 (sleep) S 1 2 3 0\n") == ProcessStat("S", 1, 2, 3)
    for garbage in (b"", b"4242 sleep S 1 2 3", b"4242 (sleep) S", b"4242 (sleep) S x 2 3", b"1 (\xff) \xff 1 2 3"):
        assert parse_stat(garbage) is None, garbage


@pytest.fixture
def odd_python(tmp_path) -> str:
    """A copy of this Python whose file name (and so its process's comm) is ``ODD_NAME``."""
    path = tmp_path / ODD_NAME
    shutil.copy(sys.executable, path)
    return str(path)


def _spawn_session_grandchild(python: str) -> tuple[subprocess.Popen[str], int]:
    """A helper process (the "driver") that starts ``python`` in its own session (the "script"); both sleep."""
    helper = subprocess.Popen(
        [sys.executable, "-c", ("import subprocess, sys, time\n"
         "p = subprocess.Popen([sys.argv[1], '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
         "print(p.pid, flush=True)\ntime.sleep(60)"), python],
        stdout=subprocess.PIPE, text=True,
    )
    return helper, int(helper.stdout.readline())


@needs_proc
def test_a_real_stat_line_of_a_process_named_with_spaces_and_parentheses(odd_python):
    child = subprocess.Popen([odd_python, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        # the case is the real one (the name changes a moment after the parent's Popen returns)
        assert wait_for(lambda: Path(f"/proc/{child.pid}/comm").read_text() == ODD_NAME + "\n", 10)
        stat = read_stat(child.pid)
        assert stat is not None and stat.state in "RSD"
        assert (stat.ppid, stat.pgrp, stat.session) == (os.getpid(), child.pid, child.pid)
        assert leads_session_under(child.pid, os.getpid())
        assert not leads_session_under(child.pid, os.getppid())
        child.kill()
        assert wait_for(lambda: read_stat(child.pid).state == "Z", 10)  # ended, not reaped: still readable
        assert not process_alive(child.pid)
    finally:
        child.kill()
        assert child.wait(timeout=10) == -signal.SIGKILL  # the exit status is still its owner's
    assert read_stat(child.pid) is None


@needs_proc
def test_the_process_check_takes_a_driver_and_its_session_leading_script(odd_python):
    helper, script = _spawn_session_grandchild(odd_python)
    loner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # not leading a session
    try:
        assert wait_for(lambda: Path(f"/proc/{script}/comm").read_text() == ODD_NAME + "\n", 10)
        assert local_run_processes({"driver": helper.pid, "script": script}) is None
        for refused in (
            {"driver": script, "script": helper.pid},  # swapped
            {"driver": os.getpid(), "script": script},  # the fake's own process
            {"driver": helper.pid, "script": os.getpgrp()},
            {"driver": helper.pid, "script": loner.pid},
            {"driver": loner.pid, "script": script},  # not the script's parent
            {"driver": helper.pid, "script": 4_194_304},  # no such process
        ):
            assert local_run_processes(refused) is not None, refused
    finally:
        for process in (helper, loner):
            process.kill()
            process.wait()
        try:
            os.killpg(script, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ------------------------------------------------------------------------------------------ process_alive never reaps
@pytest.mark.parametrize("proc", ["/proc", "waitid"])
def test_checking_a_process_leaves_its_exit_status_to_its_popen(proc, monkeypatch):
    """The driver is the SDK's ``Popen`` child: reaping it in ``process_alive`` made that ``Popen`` see 0 (ECHILD)."""
    if proc == "/proc" and not os.path.isdir("/proc/self"):
        pytest.skip("needs Linux /proc")
    if proc == "waitid":
        if not hasattr(os, "waitid"):
            pytest.skip("needs os.waitid")
        monkeypatch.setattr(supervisor, "read_stat", lambda pid: None)
        monkeypatch.setattr(supervisor, "has_proc", lambda: False)
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
    try:
        assert wait_for(lambda: not process_alive(process.pid), 20)
        assert not process_alive(process.pid)  # asked again: still there to ask about
    finally:
        assert process.wait(timeout=10) == 3


def test_a_running_process_is_alive():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_alive(process.pid)
        assert process_alive(os.getpid())
    finally:
        process.kill()
        process.wait()
    assert not process_alive(process.pid)


# ------------------------------------------------------------------------------------------ the backend's side
def _local_run(backend: Backend):
    workspace = backend.create_workspace("sub", "rg", "ws")
    experiment = backend.create_experiment(workspace, "exp")
    return backend.create_local_run(workspace, experiment, "local_1", {"script": "train.py"})


def test_a_backend_without_a_process_check_records_no_processes():
    backend = Backend()
    run = _local_run(backend)
    with pytest.raises(ValidationError):
        backend.record_processes(run, {"driver": 4000, "script": 4001})
    assert run.processes == {}


def test_the_backend_records_what_its_process_check_accepts_and_only_that():
    seen = []

    def check(processes):
        seen.append(dict(processes))
        return None if processes["script"] == 4001 else "no"

    backend = Backend(process_check=check)
    run = _local_run(backend)
    for bad in ({"driver": 4000, "script": 1}, {"driver": 4000, "script": True}, {"driver": None, "script": 4001}):
        with pytest.raises(ValidationError):  # the backend's own checks come first: the check sees only pids
            backend.record_processes(run, bad)
    assert seen == []
    with pytest.raises(ValidationError, match="no"):
        backend.record_processes(run, {"driver": 4000, "script": 4002})
    assert run.processes == {}
    backend.record_processes(run, {"driver": 4000, "script": 4001})
    assert run.processes == {"driver": 4000, "script": 4001}
    assert seen == [{"driver": 4000, "script": 4002}, {"driver": 4000, "script": 4001}]


def test_the_backend_imports_nothing_that_reaches_processes():
    for path in Path(amlmock.backend.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                assert name.split(".")[0] not in {"os", "subprocess", "signal", "socket"}, (path.name, name)
        assert "/proc" not in path.read_text(encoding="utf-8"), path.name
