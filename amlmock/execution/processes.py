"""What the operating system says about a process: the one reader of ``/proc/<pid>/stat`` (Linux), and the check
on the process ids a local run's driver reports (``Backend(process_check=local_run_processes)``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class ProcessStat:
    """Fields of ``/proc/<pid>/stat`` (proc(5)): ``state`` (``R``, ``S``, ``Z`` for a zombie, ...), the parent's
    pid, the process group and the session id."""

    state: str
    ppid: int
    pgrp: int
    session: int


def parse_stat(data: bytes) -> ProcessStat | None:
    """The fields of one ``/proc/<pid>/stat`` line, or None when it is not one.

    The second field, ``(comm)``, is the executable's name, which may itself hold spaces, parentheses and ``)``:
    the fields after it are counted from the *last* ``)`` of the line.
    """
    end = data.rfind(b")")
    if end < 0:
        return None
    fields = data[end + 1 :].split()
    try:
        return ProcessStat(fields[0].decode("ascii"), int(fields[1]), int(fields[2]), int(fields[3]))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def read_stat(pid: int) -> ProcessStat | None:
    """``/proc/<pid>/stat`` parsed; None when it cannot be read (no such process, or no ``/proc`` on this system)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return parse_stat(handle.read())
    except (OSError, ValueError, OverflowError):
        return None


def has_proc() -> bool:
    """True where ``/proc`` describes processes (Linux)."""
    return os.path.isdir("/proc/self")


def leads_session_under(pid: int, parent: int | None) -> bool:
    """``pid`` leads its own session (``start_new_session``) and, where ``/proc`` tells, is a child of ``parent``."""
    stat = read_stat(pid)
    if stat is not None:
        return stat.session == pid and stat.ppid == parent  # a script that has just ended (a zombie) counts
    if has_proc():
        return False  # gone, or hidden from this process
    try:  # no /proc on this system: the session check has to do
        return os.getsid(pid) == pid
    except OSError:
        return False


def local_run_processes(processes: Mapping[str, int]) -> str | None:
    """Why the fake must not take ``processes`` (``driver`` and ``script`` pids) from a local run's driver, or None.

    The fake signals these processes when it stops (the script's whole process group), so it takes only what its
    driver starts: neither the fake's own process, its parent nor its group, and a script that leads its own
    session as a child of the driver (``driver.py`` starts it so). ``Backend`` has already checked the ids' types.
    """
    if set(processes.values()) & {os.getpid(), os.getppid(), os.getpgrp()}:
        return "Process ids must not name the fake's own process, parent or group"
    script, driver = processes.get("script"), processes.get("driver")
    if script is not None and not leads_session_under(script, driver):
        return f"Process {script} is not a script started by driver {driver}"
    return None
