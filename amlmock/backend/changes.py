"""What the requests of one transaction changed, for a store adapter to write (the backend writes nothing).

The backend notes each object it changes in a ``ChangeLog``; a store takes the notes after the request
(``Backend.take_changes``, which names each object's workspace) and writes just those rows, so the cost of
a write does not grow with the state already stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import Artifact, Experiment, Run, Snapshot, Workspace


@dataclass(frozen=True)
class MetricRow:
    """One metric value as it arrived (a store keeps values in arrival order and replays them)."""

    run: Run
    name: str
    metric_id: str
    logged_at: float
    step: int | None
    data: dict[str, Any]


class ChangeLog:
    """The objects changed since the last ``clear``, each once (by identity), in first-change order."""

    def __init__(self) -> None:
        self.reset = False
        self.workspaces: dict[int, Workspace] = {}
        self.experiments: dict[int, Experiment] = {}
        self.runs: dict[int, Run] = {}
        self.metrics: list[MetricRow] = []
        self.artifacts: dict[int, tuple[Workspace, Artifact]] = {}
        self.snapshots: dict[int, tuple[Workspace, Snapshot]] = {}
        self.registries: dict[int, Workspace] = {}

    def __bool__(self) -> bool:
        return bool(
            self.reset or self.workspaces or self.experiments or self.runs or self.metrics or self.artifacts or self.snapshots
            or self.registries
        )

    def forget_all(self) -> None:
        """Everything was dropped (a reset): earlier notes are moot."""
        self.__init__()  # type: ignore[misc]
        self.reset = True

    def workspace(self, workspace: Workspace) -> None:
        """The workspace's own fields (its run counter) changed, or it is new."""
        self.workspaces[id(workspace)] = workspace

    def experiment(self, experiment: Experiment) -> None:
        """An experiment is new or changed."""
        self.experiments[id(experiment)] = experiment

    def run(self, run: Run) -> None:
        """A run's fields, tags, properties, events, processes or metric columns changed, or it is new."""
        self.runs[id(run)] = run

    def metric(self, row: MetricRow) -> None:
        """A metric value was stored (its run is noted too: the series may be new)."""
        self.run(row.run)
        self.metrics.append(row)

    def artifact(self, workspace: Workspace, artifact: Artifact) -> None:
        """An artifact is new, or its content changed."""
        self.artifacts[id(artifact)] = (workspace, artifact)

    def snapshot(self, workspace: Workspace, snapshot: Snapshot) -> None:
        """A snapshot was committed."""
        self.snapshots[id(snapshot)] = (workspace, snapshot)

    def registry(self, workspace: Workspace) -> None:
        """The workspace's model registry changed (an asset, a version, its labels)."""
        self.registries[id(workspace)] = workspace


class NoChangeLog(ChangeLog):
    """The change log of a backend nothing persists (``mock_aml()``): it notes nothing."""

    def workspace(self, workspace: Workspace) -> None:
        return None

    def experiment(self, experiment: Experiment) -> None:
        return None

    def run(self, run: Run) -> None:
        return None

    def metric(self, row: MetricRow) -> None:
        return None

    def artifact(self, workspace: Workspace, artifact: Artifact) -> None:
        return None

    def snapshot(self, workspace: Workspace, snapshot: Snapshot) -> None:
        return None

    def registry(self, workspace: Workspace) -> None:
        return None

    def forget_all(self) -> None:
        return None


@dataclass
class Changes:
    """One transaction's changes with each object's workspace: what a store writes."""

    reset: bool
    workspaces: list[Workspace] = field(default_factory=list)
    experiments: list[tuple[Workspace, Experiment]] = field(default_factory=list)
    runs: list[tuple[Workspace, Run]] = field(default_factory=list)
    metrics: list[tuple[Workspace, MetricRow]] = field(default_factory=list)
    artifacts: list[tuple[Workspace, Artifact]] = field(default_factory=list)
    snapshots: list[tuple[Workspace, Snapshot]] = field(default_factory=list)
    registries: list[Workspace] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.reset or self.workspaces or self.experiments or self.runs or self.metrics or self.artifacts or self.snapshots
            or self.registries
        )
