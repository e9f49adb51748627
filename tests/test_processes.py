"""What the fake asks the OS about local-run processes (``execution/processes.py``, ``supervisor.process_alive``), and
the backend's side of it: it knows no processes and takes only what its injected process check accepts."""

from __future__ import annotations

import ast
import io
import os
import shlex
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import amlmock.backend
from amlmock.backend.errors import ValidationError
from amlmock.backend.service import Backend
from amlmock.execution import processes, supervisor
from amlmock.execution.invocation import CONFIG_PATH, DRIVER, driver_command, invocation_zip
from amlmock.execution.processes import (
    ProcessStat,
    is_driver_command,
    leads_session_under,
    local_run_processes,
    parse_cmdline,
    parse_stat,
    read_cmdline,
    read_stat,
    runs_driver,
)
from amlmock.execution.supervisor import process_alive
from tests.helpers import wait_for
from amlmock.backend.values import LocalRunSpec

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


SLEEP = "import time; time.sleep(60)"
# Imported by the "driver" of spawn_pair before its main script, which it never reaches: starts the "script".
PAIR_SITECUSTOMIZE = """import os, subprocess, time
os.environ.pop("PYTHONPATH")
script = subprocess.Popen([os.environ.pop("PAIR_PYTHON"), "-c", os.environ.pop("PAIR_CODE")],
                          start_new_session=os.environ.pop("PAIR_NEW_SESSION") == "1")
print(script.pid, flush=True)
time.sleep(60)
os._exit(0)
"""


def spawn_pair(
    directory: Path, arguments: list[str], *, python: str = sys.executable, code: str = SLEEP, new_session: bool = True
) -> tuple[subprocess.Popen[str], int]:
    """A "driver", ``sys.executable *arguments``, that starts a "script" (``python -c code``, in its own session when
    ``new_session``) and sleeps; and the script's pid. The driver's Python does it in a ``sitecustomize`` (from
    ``directory``) before it gets to ``arguments``, so its command line is exactly ``sys.executable *arguments``:
    a real driver's (``spawn_driver``) or any other."""
    directory.mkdir(exist_ok=True)
    (directory / "sitecustomize.py").write_text(PAIR_SITECUSTOMIZE)
    env = {**os.environ, "PYTHONPATH": str(directory), "PAIR_PYTHON": python, "PAIR_CODE": code,
           "PAIR_NEW_SESSION": "1" if new_session else "0"}
    driver = subprocess.Popen([sys.executable, *arguments], stdout=subprocess.PIPE, text=True, env=env, cwd=directory)
    return driver, int(driver.stdout.readline())


def spawn_driver(directory: Path, **kwargs) -> tuple[subprocess.Popen[str], int]:
    """A stand-in for a local run's driver, with the command line ``Invocation.sh`` gives the real one, and its
    script (see ``spawn_pair``)."""
    return spawn_pair(directory, driver_command()[1:], **kwargs)


def end_pair(driver: subprocess.Popen[str], script: int) -> None:
    driver.kill()
    driver.wait()
    for kill in (os.killpg, os.kill):
        try:
            kill(script, signal.SIGKILL)
        except ProcessLookupError:
            pass


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
def test_the_process_check_takes_a_driver_and_its_session_leading_script(odd_python, tmp_path):
    driver, script = spawn_driver(tmp_path / "pair", python=odd_python)
    loner = subprocess.Popen([sys.executable, "-c", SLEEP])  # not leading a session
    try:
        assert wait_for(lambda: Path(f"/proc/{script}/comm").read_text() == ODD_NAME + "\n", 10)
        assert read_cmdline(driver.pid) == driver_command() and runs_driver(driver.pid)
        assert local_run_processes({"driver": driver.pid, "script": script}) is None
        for refused in (
            {"driver": script, "script": driver.pid},  # swapped
            {"driver": os.getpid(), "script": script},  # the fake's own process
            {"driver": driver.pid, "script": os.getpgrp()},
            {"driver": driver.pid, "script": loner.pid},
            {"driver": loner.pid, "script": script},  # not a driver, nor the script's parent
            {"driver": driver.pid, "script": 4_194_304},  # no such process
            {"driver": 4_194_304, "script": script},
            {"script": script},
        ):
            assert local_run_processes(refused) is not None, refused
    finally:
        loner.kill()
        loner.wait()
        end_pair(driver, script)


# ------------------------------------------------------------------------------------------ the driver's command line
def test_a_cmdline_is_split_at_its_nuls():
    assert parse_cmdline(b"/usr/bin/python3\0/x/driver.py\0azureml-setup/amlmock-run.json\0") == [
        "/usr/bin/python3", "/x/driver.py", "azureml-setup/amlmock-run.json"]
    assert parse_cmdline(b"a\0\0b c\0") == ["a", "", "b c"]  # an empty argument; spaces are not separators
    assert parse_cmdline(b"rewritten title") == ["rewritten title"]  # no NUL at the end
    assert parse_cmdline(b"") == []  # a zombie, or a kernel thread
    assert parse_cmdline(b"\xff\0") == [os.fsdecode(b"\xff")]


def test_the_driver_is_known_by_its_whole_command_line():
    command = driver_command()
    assert command == [sys.executable, DRIVER, CONFIG_PATH] and os.path.isabs(DRIVER)
    assert is_driver_command(command) and is_driver_command(tuple(command))
    for other in (
        [],
        command[:2],  # the driver's path alone: an editor or a pager on the file has that much
        ["vim", DRIVER, CONFIG_PATH],
        ["less", DRIVER],
        [sys.executable, "-u", DRIVER, CONFIG_PATH],
        [sys.executable, "-c", "pass", DRIVER, CONFIG_PATH],
        [*command, "--more"],
        [sys.executable, "driver.py", CONFIG_PATH],
        [sys.executable, DRIVER, "amlmock-run.json"],
    ):
        assert not is_driver_command(other), other


def test_invocation_sh_execs_the_command_the_check_knows():
    """The SDK runs ``/bin/bash -c .../Invocation.sh``; the script execs the driver, so the driver's pid (the one it
    reports) has exactly ``driver_command()`` as its cmdline (a real submitted run: tests/test_local_runs.py)."""
    with zipfile.ZipFile(io.BytesIO(invocation_zip({}))) as archive:
        script = archive.read("azureml-setup/Invocation.sh").decode()
        assert CONFIG_PATH in archive.namelist()
    [line] = [line for line in script.splitlines() if line.startswith("exec ")]
    words = shlex.split(line)
    assert words[1:4] == driver_command() and words[4:] == [">", "azureml-setup/amlmock-driver.log", "2>&1"]


@needs_proc
def test_a_process_reads_its_own_cmdline():
    process = subprocess.Popen([sys.executable, "-c", SLEEP, "a b", "", "\u00e9"])
    try:
        assert wait_for(lambda: read_cmdline(process.pid) == [sys.executable, "-c", SLEEP, "a b", "", "\u00e9"], 10)
        assert not runs_driver(process.pid)
    finally:
        process.kill()
        process.wait()
    assert read_cmdline(process.pid) is None and not runs_driver(process.pid)


@needs_proc
@pytest.mark.parametrize("arguments", [
    ["-c", "pass"],  # a plain Python (a tmux server, an IDE, a shell, ... would do as well)
    ["-c", "pass", DRIVER, CONFIG_PATH],  # the driver's arguments, not as its command
    [DRIVER],
    [DRIVER, CONFIG_PATH, "--more"],
], ids=["plain", "driver-as-argument", "driver-without-config", "extra-argument"])
def test_a_process_with_a_child_leading_its_own_session_is_not_a_driver(arguments, tmp_path):
    """The hole this closes: a tmux-like pair (a parent, and a child that calls ``os.setsid()`` itself) passed the
    script's checks, so a hostile registration could make the fake kill both when it stops."""
    parent, child = spawn_pair(tmp_path / "pair", arguments, code="import os, time; os.setsid(); time.sleep(60)",
                               new_session=False)
    try:
        assert wait_for(lambda: read_stat(child).session == child, 10)
        assert leads_session_under(child, parent.pid)  # all that was asked before
        why = local_run_processes({"driver": parent.pid, "script": child})
        assert why == (f"Process {parent.pid} is not amlmock's local-run driver: its command line is not "
                       f"{shlex.join(driver_command())}")
        backend = Backend(process_check=local_run_processes)
        run = _local_run(backend)
        with pytest.raises(ValidationError) as refused:
            backend.record_processes(run, {"driver": parent.pid, "script": child})
        assert (refused.value.status, refused.value.code, refused.value.message) == (400, "ValidationError", why)
        assert refused.value.target == "processes" and run.processes == {}
    finally:
        end_pair(parent, child)


def test_without_proc_only_the_scripts_session_is_checked(monkeypatch):
    """Elsewhere than Linux neither the driver's command line nor the script's parent can be read (documented)."""
    monkeypatch.setattr(processes, "has_proc", lambda: False)
    monkeypatch.setattr(processes, "read_stat", lambda pid: None)
    monkeypatch.setattr(processes, "read_cmdline", lambda pid: None)
    leader = subprocess.Popen([sys.executable, "-c", SLEEP], start_new_session=True)
    loner = subprocess.Popen([sys.executable, "-c", SLEEP])
    try:
        assert local_run_processes({"driver": loner.pid, "script": leader.pid}) is None
        assert local_run_processes({"driver": leader.pid, "script": loner.pid}) is not None
        assert local_run_processes({"driver": os.getpid(), "script": leader.pid}) is not None
    finally:
        for process in (leader, loner):
            process.kill()
            process.wait()


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
    return backend.create_local_run(workspace, experiment, "local_1", LocalRunSpec("train.py", "local", {"script": "train.py"}))


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
