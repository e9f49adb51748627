"""The backend's state (one lock, the workspaces, a change log for a store) and the queries over all of it.

Every aggregate's operations (``workspaces``, ``runs``, ``local_runs``, ``metrics``, ``artifacts``,
``tracking``) extend ``BackendState``; nothing outside ``backend/`` touches its lock or containers.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterable, Iterator

from . import messages
from .changes import ChangeLog, Changes, NoChangeLog
from .errors import NotFoundError
from .locking import locked
from .models import Experiment, Run, Workspace


class BackendState:
    """The state every operation works on, under one re-entrant lock."""

    def __init__(self, record_changes: bool = False) -> None:
        self._lock = threading.RLock()
        self._workspaces: dict[tuple[str, str, str], Workspace] = {}
        self._changes: ChangeLog = ChangeLog() if record_changes else NoChangeLog()

    # ---------------------------------------------------------------- persistence
    @contextlib.contextmanager
    def exclusively(self) -> Iterator[None]:
        """Hold the backend for one whole transaction (a request and its commit), so no other change interleaves."""
        with self._lock:
            yield

    @locked
    def take_changes(self) -> Changes:
        """What changed since the last call, each object with its workspace; the log starts afresh."""
        log, self._changes = self._changes, type(self._changes)()
        owners = {id(run): ws for ws in self._workspaces.values() for run in log.runs.values() if ws.runs.get(run.run_id) is run}
        experiment_owner = {
            id(e): ws for ws in self._workspaces.values() for e in log.experiments.values()
            if ws.experiment_by_id(e.experiment_id) is e
        }
        return Changes(
            reset=log.reset,
            workspaces=list(log.workspaces.values()),
            experiments=[(experiment_owner[i], e) for i, e in log.experiments.items() if i in experiment_owner],
            runs=[(owners[i], run) for i, run in log.runs.items() if i in owners],
            metrics=[(owners[id(row.run)], row) for row in log.metrics if id(row.run) in owners],
            artifacts=list(log.artifacts.values()),
            snapshots=list(log.snapshots.values()),
            registries=list(log.registries.values()),
        )

    @locked
    def restore(self, workspaces: Iterable[Workspace]) -> None:
        """Replace the whole state with ``workspaces`` (a store's load, or its undo of a failed commit)."""
        self._workspaces = {ws.key: ws for ws in workspaces}
        self._changes = type(self._changes)()

    @locked
    def reset(self) -> None:
        """Forget every workspace."""
        self._workspaces.clear()
        self._changes.forget_all()

    # ------------------------------------------------------------------ inspection
    @locked
    def all_workspaces(self) -> list[Workspace]:
        """Every workspace, in creation order."""
        return list(self._workspaces.values())

    @locked
    def all_experiments(self) -> list[Experiment]:
        """Every experiment of every workspace, in creation order."""
        return [e for ws in self._workspaces.values() for e in ws.experiments.values()]

    @locked
    def all_runs(self, experiment_name: str | None = None) -> list[Run]:
        """Every run (of the experiments with this name, when given), in creation order."""
        return [
            run
            for ws in self._workspaces.values()
            for run in ws.runs.values()
            if experiment_name is None or run.experiment_name == experiment_name
        ]

    @locked
    def find_run(self, run_id: str) -> tuple[Workspace, Run]:
        """The run with this id in whichever workspace holds it, or NotFoundError."""
        for workspace in self._workspaces.values():
            if run_id in workspace.runs:
                return workspace, workspace.runs[run_id]
        raise NotFoundError(messages.run_in_workspace_not_found(run_id), target="runId")
