"""Stopping local runs that are still going when the fake stops: no process is left behind."""

from __future__ import annotations

import os
import signal
import time

from ..backend.lifecycle import EVENT_PREFIX, is_terminal
from ..backend.service import Backend
from ..backend.values import RunEvent
from .processes import has_proc, read_stat

GRACE_SECONDS = 3.0


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs; a process that has ended but is not reaped yet (a zombie) is not counted.

    It never reaps: the processes it looks at belong to others (the driver is a child of the SDK's
    ``subprocess.Popen`` in the test's process, or of another process under ``amlmock serve``; the script is
    the driver's child), and reaping one here would steal its exit status from its owner's ``wait()``.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = read_stat(pid)
    if stat is not None:
        return stat.state not in ("Z", "X")
    if has_proc():
        return False  # reaped between the two looks
    return _child_running(pid)


def _child_running(pid: int) -> bool:
    """Without ``/proc``: False for a child of this process that has ended, without reaping it."""
    if hasattr(os, "waitid"):
        try:  # WNOWAIT: look at the child's state and leave it waitable by its owner
            return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            return True  # not a child of this process: it exists (os.kill said so)
    try:  # neither /proc nor waitid (macOS before Python 3.13): only reaping tells a finished child
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    remaining = [pid for pid in pids if process_alive(pid)]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = [pid for pid in remaining if process_alive(pid)]
    return remaining


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_local_runs(backend: Backend) -> list[str]:
    """Stop every local run's processes; runs that had not ended become Canceled.

    A run already Failed (``run.fail()`` leaves its script running, as the service does) keeps
    its status, but its processes are stopped too. Returns the ids of the runs it stopped.
    """
    with backend.exclusively():  # no run ends between the look and the cancel
        active = [run for run in backend.runs_with_processes() if any(map(process_alive, run.processes.values()))]
        for run in active:
            if not is_terminal(run.status):
                backend.post_event(run, RunEvent(EVENT_PREFIX + "Canceled", {"RunId": run.run_id, "Reason": "amlmock stopped"}))
    scripts = [run.processes["script"] for run in active if "script" in run.processes]
    drivers = [run.processes["driver"] for run in active if "driver" in run.processes]
    for pid in scripts:
        _signal_group(pid, signal.SIGTERM)
    for pid in _wait_gone(scripts, GRACE_SECONDS):
        _signal_group(pid, signal.SIGKILL)
    for pid in _wait_gone(drivers, GRACE_SECONDS):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _wait_gone(drivers, 1.0)
    return [run.run_id for run in active]
