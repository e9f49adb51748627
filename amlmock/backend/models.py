"""The domain model: workspaces, experiments, runs and artifacts (metric storage: ``metric_series``). No HTTP here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from ..defaults import DEFAULT_CREATOR
from .index import RunIndex
from .metric_series import MetricSeries
from .query import MISSING
from .registry import ModelRegistry

DEFAULT_USER = DEFAULT_CREATOR  # the fake has one user (shared: nothing mutates it)


def new_id() -> str:
    """A fresh GUID string, as the service hands out."""
    return str(uuid.uuid4())


@dataclass
class StatusEvent:
    """One status event as the run received it, applied or ignored."""

    name: str
    received_utc: datetime
    status_before: str
    status_after: str
    applied: bool
    reason: str
    data: dict[str, Any]


@dataclass
class Artifact:
    """A file stored for a run (outputs, logs, images) or for a snapshot."""

    origin: str
    container: str
    path: str
    created_utc: datetime
    content: bytes | None = None

    @property
    def artifact_id(self) -> str:
        return f"{self.origin}/{self.container}/{self.path}"


@dataclass(slots=True)
class Run:
    """A run and everything the service keeps about it."""

    run_id: str
    experiment_id: str
    experiment_name: str
    run_number: int
    root_run_id: str
    parent_run_id: str | None
    created_utc: datetime
    created_by: Mapping[str, str]
    status: str = "NotStarted"
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    target: str | None = None
    run_type: str | None = None
    run_type_v2: dict[str, Any] | None = None
    script_name: str | None = None
    hidden: bool = False
    start_time_utc: datetime | None = None
    end_time_utc: datetime | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str | None] = field(default_factory=dict)
    run_definition: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    # Most runs never get warnings, children, metrics or processes, and a stored run may have no events yet:
    # these containers are made on first use (each costs memory, and a list is visited by the garbage
    # collector, for each of many runs). A data container named the usual way is not stored either.
    _warnings: list[dict[str, Any]] | None = None
    _status_history: list[StatusEvent] | None = None
    _children: list[str] | None = None
    _metrics: dict[str, MetricSeries] | None = None
    _processes: dict[str, int] | None = None
    _data_container_id: str | None = None
    _params: dict[str, str] | None = None
    deleted: bool = False  # MLflow's lifecycle stage: a deleted run is hidden from MLflow searches

    @property
    def params(self) -> dict[str, str]:
        """MLflow parameters by key, in the order first logged (read-only: ``add_params`` adds them)."""
        return self._params if self._params is not None else {}

    def add_params(self, params: Mapping[str, str]) -> None:
        """Keep new parameters (the caller has checked that none changes a value)."""
        if self._params is None:
            self._params = {}
        self._params.update(params)

    @property
    def data_container_id(self) -> str:
        """The artifact container of the run's files: ``dcid.<run id>`` unless the run was created with another."""
        return self._data_container_id or f"dcid.{self.run_id}"

    @property
    def metrics(self) -> dict[str, MetricSeries]:
        """The run's metrics by name, in the order first logged (read-only: ``add_metric`` adds one)."""
        return self._metrics if self._metrics is not None else {}

    @property
    def processes(self) -> dict[str, int]:
        """The process ids of a local run (read-only: ``record_processes`` sets them)."""
        return self._processes if self._processes is not None else {}

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Warnings posted to the run (read-only: ``add_warning`` adds one)."""
        return self._warnings if self._warnings is not None else []

    @property
    def status_history(self) -> list[StatusEvent]:
        """Every status event received, applied or not, in order (read-only: ``record_event`` adds one)."""
        return self._status_history if self._status_history is not None else []

    @property
    def children(self) -> list[str]:
        """Ids of the direct children, oldest first (read-only: ``add_child`` adds one)."""
        return self._children if self._children is not None else []

    def add_warning(self, warning: dict[str, Any]) -> None:
        """Keep a warning posted to the run."""
        self._warnings = _appended(self._warnings, warning)

    def record_event(self, event: StatusEvent) -> None:
        """Keep a status event."""
        self._status_history = _appended(self._status_history, event)

    def add_child(self, run_id: str) -> None:
        """Record a new direct child."""
        self._children = _appended(self._children, run_id)

    def add_metric(self, series: MetricSeries) -> None:
        """Keep a new metric."""
        if self._metrics is None:
            self._metrics = {}
        self._metrics[series.name] = series

    def record_processes(self, processes: Mapping[str, int]) -> None:
        """Keep the process ids of a local run."""
        self._processes = dict(processes)

    @property
    def order_time(self) -> datetime:
        """Start time, or creation time for a run that has not started."""
        return self.start_time_utc or self.created_utc

    def filter_value(self, name: str) -> object:
        """Field lookup for OData filters (see ``query.Filterable``)."""
        if name.startswith("Tags/"):
            return self.tags.get(name[5:], MISSING)
        if name.startswith("Properties/"):
            return self.properties.get(name[11:], MISSING)
        if name.startswith("RunTypeV2/Traits/"):
            traits = (self.run_type_v2 or {}).get("traits") or []
            return name[17:] if name[17:] in traits else MISSING
        if name == "RunTypeV2/Orchestrator":
            return (self.run_type_v2 or {}).get("orchestrator")
        return getattr(self, RUN_FILTER_FIELDS[name])


def _appended(items: list[Any] | None, item: Any) -> list[Any]:
    """``items`` with ``item`` at the end; the list is made on first use."""
    if items is None:
        return [item]
    items.append(item)
    return items


RUN_FILTER_FIELDS = {
    "RunId": "run_id",
    "ParentRunId": "parent_run_id",
    "RootRunId": "root_run_id",
    "Status": "status",
    "RunType": "run_type",
    "Target": "target",
    "CreatedUtc": "created_utc",
    "StartTimeUtc": "start_time_utc",
    "EndTimeUtc": "end_time_utc",
    "Name": "name",
    "DisplayName": "display_name",
    "RunNumber": "run_number",
    "ExperimentId": "experiment_id",
}
RUN_FILTER_PREFIXES = ("Tags/", "Properties/", "RunTypeV2/Traits/")


def is_run_filter_field(name: str) -> bool:
    """Whether ``name`` is a run field the fake can filter on."""
    if name.startswith(RUN_FILTER_PREFIXES):
        return len(name.split("/", 1)[1]) > 0
    return name in RUN_FILTER_FIELDS or name == "RunTypeV2/Orchestrator"


@dataclass
class Experiment:
    """An experiment: a named group of runs in a workspace."""

    experiment_id: str
    name: str
    created_utc: datetime
    description: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    archived_time: datetime | None = None
    run_ids: list[str] = field(default_factory=list)
    index: RunIndex = field(default_factory=RunIndex)

    def filter_value(self, name: str) -> object:
        """Field lookup for experiment list filters."""
        if name.startswith("Tags/"):
            return self.tags.get(name[5:], MISSING)
        return {"name": self.name, "ExperimentId": self.experiment_id, "CreatedUtc": self.created_utc}[name]


def is_experiment_filter_field(name: str) -> bool:
    """Whether ``name`` is an experiment field the fake can filter on."""
    return name in ("name", "ExperimentId", "CreatedUtc") or (name.startswith("Tags/") and len(name) > 5)


SNAPSHOT_CONTAINER = "snapshots"  # the blob container that holds the files of every snapshot


@dataclass
class Snapshot:
    """A committed project snapshot."""

    snapshot_id: str
    parent_id: str | None
    files: dict[str, int]  # the files uploaded with this snapshot: path -> size
    created_utc: datetime
    tree: tuple[str, ...] = ()  # every file of the snapshot, uploaded now or with an ancestor
    blobs: dict[str, str] = field(default_factory=dict)  # uploaded file path -> its blob in SNAPSHOT_CONTAINER


@dataclass
class Workspace:
    """A workspace and all its state."""

    subscription_id: str
    resource_group: str
    name: str
    location: str
    workspace_id: str
    experiments: dict[str, Experiment] = field(default_factory=dict)
    experiments_by_id: dict[str, Experiment] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    artifacts: dict[tuple[str, str], Artifact] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    registry: ModelRegistry = field(default_factory=ModelRegistry)
    run_counter: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return workspace_key(self.subscription_id, self.resource_group, self.name)

    @property
    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.name}"
        )

    def add_experiment(self, experiment: Experiment) -> None:
        """Keep a new experiment, found by name and by id."""
        self.experiments[experiment.name] = experiment
        self.experiments_by_id[experiment.experiment_id] = experiment

    def experiment_by_id(self, experiment_id: str) -> Experiment | None:
        """The experiment with this id, if any."""
        return self.experiments_by_id.get(experiment_id)


def workspace_key(subscription_id: str, resource_group: str, name: str) -> tuple[str, str, str]:
    """ARM names are case-insensitive."""
    return (subscription_id.lower(), resource_group.lower(), name.lower())
