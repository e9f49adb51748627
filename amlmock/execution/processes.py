"""What the operating system says about a process: the one reader of ``/proc/<pid>/stat`` and of
``/proc/<pid>/cmdline`` (Linux), and the check on the process ids a local run's driver reports
(``Backend(process_check=local_run_processes)``)."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import Mapping, Sequence

from .invocation import driver_command


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


def parse_cmdline(data: bytes) -> list[str]:
    """The arguments in one ``/proc/<pid>/cmdline`` (each ended by a NUL; a process that rewrote its own may lack the
    last one), decoded as the file system's names are (``os.fsdecode``). Empty for a zombie or a kernel thread."""
    arguments = data.split(b"\0")
    if data.endswith(b"\0") or not data:
        arguments.pop()
    return [os.fsdecode(argument) for argument in arguments]


def read_cmdline(pid: int) -> list[str] | None:
    """``/proc/<pid>/cmdline`` parsed; None when it cannot be read (no such process, or no ``/proc`` on this system)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return parse_cmdline(handle.read())
    except (OSError, ValueError, OverflowError):
        return None


def is_driver_command(arguments: Sequence[str]) -> bool:
    """``arguments`` are amlmock's local-run driver's command line, ``invocation.driver_command()``: this Python,
    this amlmock's ``driver.py`` (an absolute path) and ``azureml-setup/amlmock-run.json``, exactly.

    All three are matched: the driver's path alone would also take an editor or pager opened on that file.
    """
    return list(arguments) == driver_command()


def runs_driver(pid: int) -> bool:
    """``pid``'s command line (``/proc/<pid>/cmdline``) runs amlmock's local-run driver (``is_driver_command``);
    False when it cannot be read."""
    arguments = read_cmdline(pid)
    return arguments is not None and is_driver_command(arguments)


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

    The fake signals these processes when it stops (the script's whole process group, and the driver), so it takes
    only its own driver and what that driver starts: neither the fake's own process, its parent nor its group; on
    Linux, a driver whose command line is the one ``Invocation.sh`` execs (``runs_driver``: else any process with a
    child that leads its own session, a tmux server and one of its shells, say, would pass for a driver and its
    script); and a script that leads its own session as a child of the driver (``driver.py`` starts it so). Without
    ``/proc`` (not Linux) neither the command line nor the parent can be read: only the script's session is checked.
    A process can rewrite its own command line, so this keeps the fake's hands off processes that were already
    there, not off one started to pass for a driver (whoever can start that can signal its children anyway).
    ``Backend`` has already checked the ids' types.
    """
    if set(processes.values()) & {os.getpid(), os.getppid(), os.getpgrp()}:
        return "Process ids must not name the fake's own process, parent or group"
    script, driver = processes.get("script"), processes.get("driver")
    if has_proc() and (driver is None or not runs_driver(driver)):
        command = shlex.join(driver_command())
        return f"Process {driver} is not amlmock's local-run driver: its command line is not {command}"
    if script is not None and not leads_session_under(script, driver):
        return f"Process {script} is not a script started by driver {driver}"
    return None
