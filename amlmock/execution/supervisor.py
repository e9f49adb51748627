"""Stopping local runs that are still going when the fake stops: no process is left behind."""

from __future__ import annotations

import os
import signal
import time

from ..backend.lifecycle import EVENT_PREFIX, is_terminal
from ..backend.service import Backend

GRACE_SECONDS = 3.0


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a finished child of this process is reaped, not counted)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a finished child of this process is a zombie until reaped
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A process that has exited but whose parent has not reaped it (Linux ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


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
    with backend.lock:
        active = [
            run
            for workspace in backend.workspaces.values()
            for run in workspace.runs.values()
            if any(process_alive(pid) for pid in run.processes.values())
        ]
        for run in active:
            if not is_terminal(run.status):
                backend.post_event(run, EVENT_PREFIX + "Canceled", {"RunId": run.run_id, "Reason": "amlmock stopped"})
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
