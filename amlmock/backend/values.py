"""The values a request carries into the backend, already read off the wire by the api layer.

Each is frozen: the backend checks the service's rules on them (limits, the state machine, immutable
properties) and never sees a request body. ``None`` means "not sent".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class RunFields:
    """What a run create or update sets; a field left ``None`` stays as it is."""

    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    target: str | None = None
    run_type: str | None = None
    script_name: str | None = None
    hidden: bool | None = None
    run_type_v2: Mapping[str, Any] | None = None
    run_definition: Mapping[str, Any] | None = None
    parent_run_id: str | None = None
    data_container_id: str | None = None
    tags: Mapping[str, Any] | None = None
    properties: Mapping[str, Any] | None = None

    def settings(self) -> dict[str, Any]:
        """The plain run attributes this sets (every field but the parent, container, tags and properties)."""
        values = {name: getattr(self, name) for name in _SETTINGS}
        return {name: dict(value) if isinstance(value, Mapping) else value for name, value in values.items() if value is not None}


_SETTINGS = (
    "name", "display_name", "description", "target", "run_type", "script_name", "hidden", "run_type_v2", "run_definition",
)


@dataclass(frozen=True)
class RunEvent:
    """A status event for one run: its name, what it carried (kept in the status history), and for an
    Error event the error response and its message, for a Warning event the warning."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)
    error: Mapping[str, Any] | None = None
    error_message: str | None = None
    warning: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LocalRunSpec:
    """A ``ScriptRunConfig`` submitted to target local: its script, target and run definition (as stored)."""

    script: str | None
    target: str
    definition: Mapping[str, Any]


@dataclass(frozen=True)
class MetricRowInput:
    """One value of a metric: its cells, the client's time (POSIX seconds; ``None``: now), step and id."""

    data: Mapping[str, Any]
    logged_at: float | None = None
    step: int | None = None
    metric_id: str | None = None


@dataclass(frozen=True)
class MetricInput:
    """One metric of a batch: its name, column types, kind (``uxMetricType``) and values."""

    name: str
    columns: Mapping[str, str]
    ux_type: str | None
    rows: tuple[MetricRowInput, ...]


@dataclass(frozen=True)
class MetricBatch:
    """A batch of metrics; ``row_count`` counts every value sent, refused metrics' too (the batch limit)."""

    metrics: tuple[tuple[int, MetricInput], ...]
    row_count: int


@dataclass(frozen=True)
class PageRequest:
    """A listing's filter, order, page size and continuation token (each ``None`` when not sent)."""

    filter: str | None = None
    order_by: str | None = None
    top: int | None = None
    token: str | None = None
