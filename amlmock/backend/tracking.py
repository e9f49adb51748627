"""MLflow's view of the runs: parameters, metric points, tags, status, deletion and searches.

MLflow is a second door into the same runs: a metric point is a row of the run's metric series (so v1
``run.get_metrics()`` reads it), an MLflow tag is a run tag, an MLflow status is the v1 status (changed
only through the v1 state machine), a nested run is a child run. Parameters are MLflow's own: the v1
run service has no field for them (see ``docs/lifecycle.md``). The rules are listed there with sources.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from ..defaults import USER_NAME_KEY
from . import limits
from . import mlflow_messages as messages
from .changes import MetricRow
from .errors import ImmutablePropertyError, NotFoundError, ValidationError
from .lifecycle import EVENT_PREFIX, is_terminal
from .locking import locked
from .metric_series import MetricSeries
from .models import Experiment, Run, Workspace, new_id
from .run_filter import Clause, OrderKey, matches
from .runs import RunOperations
from .values import RunEvent

# MLflow's own limits (mlflow.utils.validation, mlflow-skinny 3.15).
MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_RESULTS_PER_SEARCH = 50000
# The metric store keeps a value's time as an ISO 8601 time of years 1000 to 9999 (as v1 ``createdUtc``).
EARLIEST_MS = int(datetime(1000, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
LATEST_MS = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp() * 1000)
MLFLOW_METRIC_TYPE = "azureml.v1.scalar"  # what the SDK's run.log writes for a number

# v1 status -> MLflow status; MLflow status -> the v1 status event it asks for.
SCHEDULED = ("NotStarted", "Unapproved", "Queued", "Preparing", "Provisioning", "Starting")
ENDED = {"Completed": "FINISHED", "Failed": "FAILED", "Canceled": "KILLED"}
STATUS_EVENTS = {"RUNNING": "Start", "FINISHED": "Completed", "FAILED": "Failed", "KILLED": "Canceled"}
MLFLOW_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
PARENT_TAG = "mlflow.parentRunId"  # how MLflow names a nested run's parent


@dataclass(frozen=True)
class MetricPoint:
    """One MLflow metric value: ``timestamp`` in milliseconds since the epoch."""

    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True)
class TrackingBatch:
    """What one MLflow log call carries: metric points, parameters and tags, in order."""

    metrics: Sequence[MetricPoint] = ()
    params: Sequence[tuple[str, str]] = ()
    tags: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class RunSearch:
    """An MLflow run search: experiments, parsed filter and order, view type, one page by offset."""

    experiment_ids: Sequence[str]
    clauses: Sequence[Clause] = ()
    order: Sequence[OrderKey] = ()
    view_type: str = "ACTIVE_ONLY"
    max_results: int = 1000
    offset: int = 0


@dataclass
class TrackingPage:
    """One page of an MLflow search: the runs and the offset of the next page (None on the last)."""

    runs: list[Run]
    next_offset: int | None


def mlflow_status(run: Run) -> str:
    """The MLflow status of a run's v1 status."""
    if run.status in ENDED:
        return ENDED[run.status]
    return "SCHEDULED" if run.status in SCHEDULED else "RUNNING"


def epoch_ms(value: datetime | None) -> int | None:
    """A service time as MLflow's milliseconds since the epoch."""
    return None if value is None else int(value.timestamp() * 1000)


def metric_points(series: MetricSeries) -> list[MetricPoint]:
    """The numeric values of a metric series as MLflow points (a row without a step takes its position)."""
    points = []
    for position, row in enumerate(series.read()):
        value = row.data.get(series.name) if len(row.data) == 1 else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        logged = datetime.fromisoformat(row.created_utc.replace("Z", "+00:00"))
        points.append(MetricPoint(series.name, float(value), epoch_ms(logged) or 0, position if row.step is None else row.step))
    return points


def tracking_tags(run: Run) -> dict[str, str]:
    """The run's tags as MLflow shows them: a valueless v1 tag as ``""``, and a child run's parent as ``mlflow.parentRunId``."""
    parent = {PARENT_TAG: run.parent_run_id} if run.parent_run_id else {}
    return {**parent, **{key: value or "" for key, value in run.tags.items()}}


def latest_metrics(run: Run) -> dict[str, MetricPoint]:
    """Each metric's latest point, as MLflow picks it: the highest step, then the latest time, then the highest value."""
    latest = {}
    for name, series in run.metrics.items():
        points = metric_points(series)
        if points:
            latest[name] = max(points, key=lambda p: (p.step, p.timestamp, p.value))
    return latest


@dataclass
class _Row:
    """A run as a search reads it."""

    run: Run
    metrics: dict[str, MetricPoint] = field(default_factory=dict)

    def tracking_value(self, kind: str, key: str) -> Any:
        if kind == "metric":
            point = self.metrics.get(key)
            return None if point is None else point.value
        if kind == "param":
            return self.run.params.get(key)
        if kind == "tag":
            return tracking_tags(self.run).get(key)
        return _attribute(self.run, key)


def _attribute(run: Run, key: str) -> Any:
    values = {
        "run_id": lambda: run.run_id,
        "run_name": lambda: run.display_name or run.name or run.run_id,
        "status": lambda: mlflow_status(run),
        "user_id": lambda: run.created_by.get(USER_NAME_KEY),
        "lifecycle_stage": lambda: "deleted" if run.deleted else "active",
        "start_time": lambda: epoch_ms(run.start_time_utc or run.created_utc),
        "end_time": lambda: epoch_ms(run.end_time_utc),
        "artifact_uri": lambda: None,
    }
    return values[key]()


def _check_key(what: str, key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ValidationError(messages.invalid_mlflow_key(what, key), target="key")
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise ValidationError(messages.mlflow_key_too_long(what, key, MAX_ENTITY_KEY_LENGTH), target="key")
    if key.startswith("/") or ".." in key.split("/"):
        raise ValidationError(messages.mlflow_key_is_a_path(what, key), target="key")
    return key


def _check_value(what: str, key: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(messages.mlflow_value_not_text(what, key), target="value")
    if len(value) > limit:
        raise ValidationError(messages.mlflow_value_too_long(what, key, value, limit), target="value")
    return value


def _check_point(point: MetricPoint) -> None:
    _check_key("Metric", point.key)
    if isinstance(point.value, bool) or not isinstance(point.value, (int, float)):
        raise ValidationError(messages.metric_point_not_a_number(point.key, point.value), target="value")
    for name, number in (("timestamp", point.timestamp), ("step", point.step)):
        if isinstance(number, bool) or not isinstance(number, int) or abs(number) >= 2**63:
            raise ValidationError(messages.metric_point_not_int64(point.key, name, number), target=name)
    if not EARLIEST_MS <= point.timestamp <= LATEST_MS:
        raise ValidationError(messages.metric_point_time_out_of_range(point.key, point.timestamp), target="timestamp")
    if not math.isfinite(point.value):
        raise ValidationError(messages.metric_point_not_finite(point.key, point.value), target="value")


def _check_active(run: Run) -> None:
    """MLflow changes only a run in the 'active' lifecycle stage (not one deleted through MLflow)."""
    if run.deleted:
        raise ValidationError(messages.mlflow_run_deleted(run.run_id), target="run_id")


def _check_batch(run: Run, batch: TrackingBatch) -> None:
    """Every MLflow rule of one log call, before anything is stored."""
    counts = ((len(batch.metrics), MAX_METRICS_PER_BATCH, "metrics"), (len(batch.params), MAX_PARAMS_TAGS_PER_BATCH, "params"),
              (len(batch.tags), MAX_PARAMS_TAGS_PER_BATCH, "tags"))
    for count, limit, what in counts:
        if count > limit:
            raise ValidationError(messages.mlflow_batch_too_long(what, count, limit), target=what)
    total = len(batch.metrics) + len(batch.params) + len(batch.tags)
    if total > MAX_ENTITIES_PER_BATCH:
        raise ValidationError(messages.mlflow_batch_too_large(total, MAX_ENTITIES_PER_BATCH), target="batch")
    _check_active(run)
    for point in batch.metrics:
        _check_point(point)
    new_names = {p.key for p in batch.metrics} - set(run.metrics)
    if len(run.metrics) + len(new_names) > limits.MAX_METRIC_NAMES_PER_RUN:
        raise ValidationError(messages.mlflow_too_many_metric_names(run.run_id, limits.MAX_METRIC_NAMES_PER_RUN), target="metrics")
    seen: dict[str, str] = {}
    for key, value in batch.params:
        _check_value("Param", _check_key("Param", key), value, MAX_PARAM_VALUE_LENGTH)
        old = run.params.get(key, seen.get(key))
        if old is not None and old != value:
            raise ImmutablePropertyError(messages.param_changed(key, old, run.run_id, value), target="key")
        seen[key] = value
    for key, value in batch.tags:
        _check_value("Tag", _check_key("Tag", key), value, MAX_TAG_VALUE_LENGTH)


class TrackingMixin(RunOperations):
    """The ``Backend`` methods MLflow's API maps onto (every one under the backend's lock)."""

    @locked
    def create_tracking_run(self, workspace: Workspace, experiment: Experiment, name: str | None,
                            tags: Sequence[tuple[str, str]]) -> Run:
        """An MLflow run: a new run, started at once; the ``mlflow.parentRunId`` tag makes it a child run."""
        tag_map = dict(tags)
        for key, value in tag_map.items():
            _check_value("Tag", _check_key("Tag", key), value, MAX_TAG_VALUE_LENGTH)
        if name is not None:
            limits.check_length("run_name", name, limits.MAX_DISPLAY_NAME_LENGTH)
        parent_id = tag_map.get(PARENT_TAG)
        parent = self.get_run(workspace, parent_id, experiment) if parent_id else None
        run_id = new_id()
        display = name or tag_map.get("mlflow.runName") or run_id
        fields = {"name": display, "display_name": display, "run_type": "mlflow", "target": "local"}
        run = self._add_run(workspace, experiment, run_id, parent, fields, {sys.intern(k): v for k, v in tag_map.items()})
        self.post_event(run, RunEvent(EVENT_PREFIX + "Start"))
        return run

    @locked
    def log_tracking_batch(self, workspace: Workspace, run: Run, batch: TrackingBatch) -> None:
        """Store metric points, parameters and tags of one MLflow log call: all of them, or none."""
        _check_batch(run, batch)
        for point in batch.metrics:
            series = run.metrics.get(point.key)
            if series is None:
                series = MetricSeries(point.key, {point.key: "double"}, MLFLOW_METRIC_TYPE)
                run.add_metric(series)
            metric_id, logged_at, data = new_id(), point.timestamp / 1000, {point.key: point.value}
            series.add(metric_id, logged_at, point.step, data)
            self._changes.metric(MetricRow(run, point.key, metric_id, logged_at, point.step, data))
        run.add_params({k: v for k, v in batch.params if k not in run.params})
        self._changes.run(run)
        if batch.tags:
            self._replace_tags(workspace, run, {**run.tags, **dict(batch.tags)})

    @locked
    def delete_tracking_tag(self, workspace: Workspace, run: Run, key: str) -> None:
        """Remove a tag; MLflow refuses a key the run does not have."""
        _check_active(run)
        if key not in run.tags:
            raise NotFoundError(messages.no_mlflow_tag(key, run.run_id), target="key")
        self._replace_tags(workspace, run, {k: v for k, v in run.tags.items() if k != key})

    def _replace_tags(self, workspace: Workspace, run: Run, tags: dict[str, Any]) -> None:
        experiment = workspace.experiment_by_id(run.experiment_id)
        assert experiment is not None  # a run's experiment is never removed
        run.tags = experiment.index.update("Tags/", run.run_id, run.tags, tags)
        self._changes.run(run)

    @locked
    def update_tracking_run(self, run: Run, status: str | None, name: str | None) -> Run:
        """MLflow's run update: a new status goes through the v1 state machine (a terminal run stays as it is)."""
        if status is not None and status not in MLFLOW_STATUSES:
            raise ValidationError(messages.unknown_mlflow_status(status, MLFLOW_STATUSES), target="status")
        if name is not None:
            limits.check_length("run_name", name, limits.MAX_DISPLAY_NAME_LENGTH)
            run.display_name = name
            self._changes.run(run)
        if status in STATUS_EVENTS and mlflow_status(run) != status and not is_terminal(run.status):
            self.post_event(run, RunEvent(EVENT_PREFIX + STATUS_EVENTS[status]))
        return run

    @locked
    def set_run_deleted(self, run: Run, deleted: bool) -> Run:
        """MLflow's delete and restore: a lifecycle stage, not a removal."""
        run.deleted = deleted
        self._changes.run(run)
        return run

    @locked
    def tracking_metrics(self, run: Run) -> dict[str, MetricPoint]:
        """Each metric's latest numeric value."""
        return latest_metrics(run)

    @locked
    def tracking_params(self, run: Run) -> dict[str, str]:
        """The run's MLflow parameters, in the order first logged."""
        return dict(run.params)

    @locked
    def tracking_metric_history(self, run: Run, key: str) -> list[MetricPoint]:
        """Every numeric value of one metric (none for a key never logged), in logging order."""
        series = run.metrics.get(key)
        return metric_points(series) if series is not None else []

    @locked
    def search_tracking_runs(self, workspace: Workspace, search: RunSearch) -> TrackingPage:
        """The runs of the experiments that match the filter, in order, one page."""
        if search.view_type not in VIEW_TYPES:
            raise ValidationError(messages.unknown_run_view_type(search.view_type, VIEW_TYPES), target="run_view_type")
        if not 0 < search.max_results <= MAX_RESULTS_PER_SEARCH:
            raise ValidationError(messages.max_results_out_of_range(search.max_results, MAX_RESULTS_PER_SEARCH), target="max_results")
        rows = [_Row(run, latest_metrics(run)) for run in self._runs_of(workspace, search.experiment_ids)]
        wanted = {"ACTIVE_ONLY": (False,), "DELETED_ONLY": (True,), "ALL": (False, True)}[search.view_type]
        found = [row for row in rows if row.run.deleted in wanted and matches(search.clauses, row)]
        ordered = _ordered(found, search.order)
        end = search.offset + search.max_results
        return TrackingPage([row.run for row in ordered[search.offset:end]], end if end < len(ordered) else None)

    def _runs_of(self, workspace: Workspace, experiment_ids: Iterable[str]) -> list[Run]:
        runs: list[Run] = []
        for experiment_id in experiment_ids:
            experiment = workspace.experiment_by_id(experiment_id)
            if experiment is None:
                raise NotFoundError(messages.no_mlflow_experiment(experiment_id), target="experiment_ids")
            runs.extend(workspace.runs[run_id] for run_id in experiment.run_ids)
        return runs


def _ordered(rows: list[_Row], order: Sequence[OrderKey]) -> list[_Row]:
    """MLflow's order: the given keys (runs without a value last), then start time descending, then run id."""
    rows = sorted(rows, key=lambda row: row.run.run_id)
    rows.sort(key=lambda row: epoch_ms(row.run.start_time_utc or row.run.created_utc) or 0, reverse=True)
    for key in reversed(order):
        present = [row for row in rows if row.tracking_value(key.kind, key.key) is not None]
        absent = [row for row in rows if row.tracking_value(key.kind, key.key) is None]
        present.sort(key=lambda row: row.tracking_value(key.kind, key.key), reverse=key.descending)
        rows = present + absent
    return rows
