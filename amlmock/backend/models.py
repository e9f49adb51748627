"""The domain model: workspaces, experiments, runs, metrics and artifacts. No HTTP here."""

from __future__ import annotations

import bisect
import re
import uuid
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, NamedTuple

from .index import RunIndex
from .query import MISSING
from .registry import ModelRegistry

DEFAULT_USER = {
    "userObjectId": "00000000-0000-0000-0000-0000000a11ce",
    "userTenantId": "00000000-0000-0000-0000-00000000aaaa",
    "userName": "amlmock-user",
}


def utcnow() -> datetime:
    """The service clock."""
    return datetime.now(timezone.utc)


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


def parse_time(text: str) -> datetime:
    """Read an ISO 8601 time with any number of fraction digits (msrest trims trailing zeros)."""
    match = _ISO_TIME.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 time: {text!r}")
    *fields, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timezone.utc
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
    year, month, day, hour, minute, second = map(int, fields)
    parsed = datetime(year, month, day, hour, minute, second, micro, tzinfo=offset)
    return parsed if offset is timezone.utc else parsed.astimezone(timezone.utc)


_ISO_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?$")


class MetricValue(NamedTuple):
    """One logged row of a metric, as it is read back."""

    metric_id: str
    created_utc: str
    step: int | None
    data: dict[str, Any]


class MetricSeries:
    """All values logged under one metric name, in logging order.

    Stored column-wise to stay small (the service may hold millions of values): client times
    as floats, metric ids as 16 bytes, and a single-column row as its bare value.
    """

    __slots__ = ("name", "columns", "ux_metric_type", "_times", "_ids", "_steps", "_cells", "_seen")

    def __init__(self, name: str, columns: dict[str, str], ux_metric_type: str | None) -> None:
        self.name = name
        self.columns = columns
        self.ux_metric_type = ux_metric_type
        self._times = array("d")
        self._ids: list[bytes | str] = []
        self._steps: list[int | None] = []
        self._cells: list[Any] = []
        self._seen = IdFilter()

    def __len__(self) -> int:
        return len(self._times)

    def add(self, metric_id: str, logged_at: float, step: int | None, data: dict[str, Any]) -> bool:
        """Insert by the client's timestamp (POSIX seconds), so out-of-order batches still read back
        in logging order (rows with equal times keep their arrival order). A metric id already stored is
        not stored again (a retried batch): returns whether the value was new."""
        compact = _compact_id(metric_id)
        if self._seen.may_hold(compact) and compact in self._ids:
            return False
        self._seen.add(compact)
        if self._seen.full():
            self._seen.rebuild([*self._ids, compact])
        index = len(self._times)
        if index and self._times[-1] > logged_at:
            index = bisect.bisect_right(self._times, logged_at)
        self._times.insert(index, logged_at)
        self._ids.insert(index, compact)
        self._steps.insert(index, step)
        single = len(data) == 1 and self.name in data and not isinstance(data[self.name], (dict, list))
        self._cells.insert(index, data[self.name] if single else dict(data))
        return True

    def read(self, start: int = 0, end: int | None = None) -> list[MetricValue]:
        """Rows ``start`` to ``end`` in logging order."""
        return [
            MetricValue(_full_id(self._ids[i]), _time_text(self._times[i]), self._steps[i], self._row(i))
            for i in range(start, min(len(self), len(self) if end is None else end))
        ]

    def _row(self, index: int) -> dict[str, Any]:
        cell = self._cells[index]
        return dict(cell) if isinstance(cell, dict) else {self.name: cell}


class IdFilter:
    """A Bloom filter of the metric ids of one series: about 2 bytes per id (a set would cost 50 to 100), so a
    repeated id is found by a scan of the ids only when the filter says it may be there (about 1 in 400 new ids)."""

    __slots__ = ("_bits", "_count")
    BITS_PER_ID = 16
    HASHES = 4

    def __init__(self) -> None:
        self._bits = bytearray(8)
        self._count = 0

    def _positions(self, item: bytes | str) -> list[int]:
        size = len(self._bits) * 8
        value = hash(item) & 0xFFFFFFFFFFFFFFFF
        first, second = value & 0xFFFFFFFF, (value >> 32) | 1
        return [(first + i * second) % size for i in range(self.HASHES)]

    def may_hold(self, item: bytes | str) -> bool:
        """False when ``item`` was surely never added."""
        return all(self._bits[p >> 3] & (1 << (p & 7)) for p in self._positions(item))

    def add(self, item: bytes | str) -> None:
        """Note ``item`` (the filter is rebuilt twice as large when full: ``rebuild`` is given every id)."""
        self._count += 1
        for position in self._positions(item):
            self._bits[position >> 3] |= 1 << (position & 7)

    def full(self) -> bool:
        """Whether the filter holds more ids than it was sized for."""
        return self._count * self.BITS_PER_ID > len(self._bits) * 8

    def rebuild(self, items: list[bytes | str]) -> None:
        """Size the filter for twice ``items`` and note them all."""
        self._bits = bytearray(max(8, len(items) * self.BITS_PER_ID // 4))
        self._count = 0
        for item in items:
            self.add(item)


def _compact_id(metric_id: str) -> bytes | str:
    """16 bytes for an id in the canonical lower-case GUID form (which reads back unchanged)."""
    if _CANONICAL_GUID.fullmatch(metric_id):
        return bytes.fromhex(metric_id.replace("-", ""))
    return metric_id


def _full_id(stored: bytes | str) -> str:
    if isinstance(stored, str):
        return stored
    text = stored.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_CANONICAL_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def timestamp_text(value: datetime) -> str:
    """A service time as ISO 8601 text in UTC with a ``Z``, as the service writes times."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _time_text(epoch: float) -> str:
    return timestamp_text(datetime.fromtimestamp(epoch, timezone.utc))


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
