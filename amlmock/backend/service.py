"""The in-memory service: every operation the API layer maps requests onto.

All state lives in one ``Backend``; every public method takes its lock, validates the whole
request first and only then changes state, so a rejected request leaves nothing half-written.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from . import limits
from .changes import ChangeLog, Changes, MetricRow, NoChangeLog
from .errors import ConflictError, NotFoundError, NotImplementedByFake, ServiceError, ValidationError
from .labels import check_properties_added
from .lifecycle import apply_status_event, event_kind
from .locking import locked
from .models import (
    DEFAULT_USER,
    SNAPSHOT_CONTAINER,
    Artifact,
    Experiment,
    MetricSeries,
    MetricValue,
    Run,
    Snapshot,
    StatusEvent,
    Workspace,
    is_experiment_filter_field,
    is_run_filter_field,
    new_id,
    parse_time,
    utcnow,
    workspace_key,
)
from .tracking import TrackingMixin
from .query import Node, OrderBy, evaluate, parse_filter, parse_orderby
from .registry import is_registry_container
from .registry_service import RegistryService

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000
RUN_ORDER_FIELDS = ("StartTimeUtc", "CreatedUtc", "EndTimeUtc", "RunNumber")
DEFAULT_RUN_ORDER = OrderBy("StartTimeUtc", descending=True)
MAX_PID = 4_194_304  # the largest pid_max Linux allows (2**22)

# Vets the process ids a local run's driver reports: why they are refused, or None (see Backend.record_processes).
ProcessCheck = Callable[[Mapping[str, int]], str | None]


def refuse_processes(processes: Mapping[str, int]) -> str | None:
    """The process check of a backend given none: it records no process ids."""
    return "This amlmock backend records no process ids (it has no process check)"


# Fields of a run create/patch body that the fake stores (CreateRunDto in the REST spec).
_RUN_TEXT_FIELDS = {
    "name": ("name", limits.MAX_DISPLAY_NAME_LENGTH),
    "displayName": ("display_name", limits.MAX_DISPLAY_NAME_LENGTH),
    "description": ("description", limits.MAX_DESCRIPTION_LENGTH),
    "target": ("target", limits.MAX_VALUE_LENGTH),
    "runType": ("run_type", limits.MAX_VALUE_LENGTH),
    "scriptName": ("script_name", limits.MAX_VALUE_LENGTH),
}


@dataclass
class Page:
    """One page of a listing and the token for the next one (None on the last page)."""

    items: list[Any]
    continuation_token: str | None


@dataclass
class MetricError:
    """A metric the service refused in a batch, with the reason."""

    name: str
    error: ValidationError


class Backend(TrackingMixin):
    """All workspaces of one fake service (MLflow's view of its runs: ``tracking.TrackingMixin``)."""

    def __init__(self, process_check: ProcessCheck | None = None, record_changes: bool = False) -> None:
        """``process_check`` vets the process ids a local run's driver reports (``record_processes``): it returns
        why they are refused, or None. The backend knows no processes itself; without a check it records none
        (``amlmock.execution.processes.local_run_processes`` is the check ``mock_aml()`` and ``amlmock serve`` use).
        ``record_changes`` keeps a change log for a store (``take_changes``); the backend itself writes nothing."""
        self._lock = threading.RLock()
        self._workspaces: dict[tuple[str, str, str], Workspace] = {}
        self.process_check: ProcessCheck = process_check or refuse_processes
        self.registry = RegistryService(self._lock, self.list_artifacts, lambda: self._changes)
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
        owners = {id(run): ws for ws in self._workspaces.values() for run in _changed_runs(ws, log)}
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
    def all_workspaces(self) -> list[Workspace]:
        """Every workspace, in creation order."""
        return list(self._workspaces.values())

    # ------------------------------------------------------------------ inspection
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
    def list_runs(self, workspace: Workspace) -> list[Run]:
        """Every run of the workspace, in creation order."""
        return list(workspace.runs.values())

    @locked
    def find_run(self, run_id: str) -> tuple[Workspace, Run]:
        """The run with this id in whichever workspace holds it, or NotFoundError."""
        for workspace in self._workspaces.values():
            if run_id in workspace.runs:
                return workspace, workspace.runs[run_id]
        raise NotFoundError(f"amlmock has no run {run_id!r}", target="runId")

    @locked
    def runs_with_processes(self) -> list[Run]:
        """The local runs whose process ids are recorded (the supervisor stops them)."""
        return [run for ws in self._workspaces.values() for run in ws.runs.values() if run.processes]

    @locked
    def read_metrics(self, run: Run) -> dict[str, list[MetricValue]]:
        """Every metric of the run: name -> its values in logging order."""
        return {name: series.read() for name, series in run.metrics.items()}

    # ----------------------------------------------------------------- workspaces
    @locked
    def create_workspace(
        self, subscription_id: str, resource_group: str, name: str, location: str = "eastus"
    ) -> Workspace:
        """Create the workspace, or return it when it exists already."""
        key = workspace_key(subscription_id, resource_group, name)
        if key not in self._workspaces:
            self._workspaces[key] = Workspace(subscription_id, resource_group, name, location, new_id())
            self._changes.workspace(self._workspaces[key])
        return self._workspaces[key]

    @locked
    def get_workspace(self, subscription_id: str, resource_group: str, name: str) -> Workspace:
        """The workspace, or NotFoundError."""
        workspace = self._workspaces.get(workspace_key(subscription_id, resource_group, name))
        if workspace is None:
            raise NotFoundError(
                f"Workspace {name!r} was not found in resource group {resource_group!r} "
                f"of subscription {subscription_id!r}",
                target="workspace",
            )
        return workspace

    @locked
    def workspace_by_id(self, workspace_id: str) -> Workspace:
        """The workspace with this workspace id (blob URLs carry it), or NotFoundError."""
        for workspace in self._workspaces.values():
            if workspace.workspace_id == workspace_id:
                return workspace
        raise NotFoundError(f"No workspace has the id {workspace_id!r}", target="workspaceId")

    @locked
    def subscriptions(self) -> list[str]:
        """Every subscription that holds a workspace."""
        return sorted({ws.subscription_id for ws in self._workspaces.values()})

    @locked
    def list_workspaces(self) -> list[Workspace]:
        """Every workspace, by subscription, resource group and name."""
        return [self._workspaces[key] for key in sorted(self._workspaces)]

    @locked
    def list_experiments(self, workspace: Workspace) -> list[Experiment]:
        """Every experiment of the workspace (archived ones too), oldest first."""
        return list(workspace.experiments.values())

    @locked
    def metric_names(self, run: Run) -> list[str]:
        """The names of the run's metrics, in the order they were first logged."""
        return list(run.metrics)

    @locked
    def status_history(self, run: Run) -> list[StatusEvent]:
        """The status events the run received, oldest first (refused ones too)."""
        return list(run.status_history)

    @locked
    def reset(self) -> None:
        """Forget every workspace."""
        self._workspaces.clear()
        self._changes.forget_all()

    # ---------------------------------------------------------------- experiments
    @locked
    def get_experiment(self, workspace: Workspace, name: str) -> Experiment:
        """The experiment by name, or NotFoundError."""
        experiment = workspace.experiments.get(name)
        if experiment is None:
            raise NotFoundError(f"Experiment {name!r} was not found", target="experimentName")
        return experiment

    @locked
    def create_experiment(self, workspace: Workspace, name: str) -> Experiment:
        """Create the experiment, or return it when it exists already."""
        limits.check_experiment_name(name)
        if name not in workspace.experiments:
            workspace.add_experiment(Experiment(new_id(), name, utcnow()))
            self._changes.experiment(workspace.experiments[name])
        return workspace.experiments[name]

    @locked
    def get_experiment_by_id(self, workspace: Workspace, experiment_id: str) -> Experiment:
        """The experiment by id, or NotFoundError."""
        experiment = workspace.experiment_by_id(experiment_id)
        if experiment is None:
            raise NotFoundError(f"Experiment with id {experiment_id!r} was not found", target="experimentId")
        return experiment

    @locked
    def update_experiment(
        self, experiment: Experiment, tags: Mapping[str, Any] | None = None, archive: bool | None = None
    ) -> Experiment:
        """Merge tags and/or archive or restore the experiment."""
        if tags is not None:
            if not isinstance(tags, dict):
                raise ValidationError("tags must be an object of strings", target="tags")
            merged = {**experiment.tags, **tags}
            limits.check_string_map(
                "tags", merged, max_entries=limits.MAX_TAGS, max_key=limits.MAX_EXPERIMENT_TAG_KEY_LENGTH
            )
            experiment.tags = merged
        if archive is not None:
            experiment.archived_time = utcnow() if archive else None
        self._changes.experiment(experiment)
        return experiment

    def query_experiments(
        self, workspace: Workspace, view_type: str, filter_text: str | None, token: str | None, top: int | None
    ) -> Page:
        """Experiments by view type (ActiveOnly, ArchivedOnly, All) and filter, oldest first.

        The filter is parsed before the lock is taken: a slow parse never holds up other requests.
        """
        views = {
            "ActiveOnly": lambda e: e.archived_time is None,
            "ArchivedOnly": lambda e: e.archived_time is not None,
            "All": lambda e: True,
        }
        if not isinstance(view_type, str) or view_type not in views:
            raise ValidationError(f"viewType must be one of {', '.join(views)}, not {view_type!r}", target="viewType")
        predicate = _parse_filter(filter_text, is_experiment_filter_field)
        with self._lock:
            matches = [
                e
                for e in workspace.experiments.values()
                if views[view_type](e) and (predicate is None or evaluate(predicate, e))
            ]
            return _offset_page(matches, token, top)

    # ----------------------------------------------------------------------- runs
    @locked
    def get_run(self, workspace: Workspace, run_id: str, experiment: Experiment | None = None) -> Run:
        """The run by id (within ``experiment`` when given), or NotFoundError."""
        run = workspace.runs.get(run_id)
        if run is None or (experiment is not None and run.experiment_id != experiment.experiment_id):
            where = f" in experiment {experiment.name!r}" if experiment else ""
            raise NotFoundError(f"Run {run_id!r} was not found{where}", target="runId")
        return run

    @locked
    def create_or_update_run(self, workspace: Workspace, experiment: Experiment, run_id: str, body: Mapping[str, Any]) -> Run:
        """PATCH semantics: create the run when new, else merge tags and add properties."""
        if body.get("runId") not in (None, run_id):
            raise ValidationError(f"runId {body['runId']!r} in the body does not match {run_id!r} in the path")
        existing = workspace.runs.get(run_id)
        if existing is None:
            return self._create_run(workspace, experiment, run_id, body)
        if existing.experiment_id != experiment.experiment_id:
            raise ConflictError(f"Run {run_id!r} already exists in another experiment", target="runId")
        self._update_run(experiment, existing, body)
        return existing

    @locked
    def create_runs(
        self, workspace: Workspace, experiment: Experiment, bodies: Sequence[Mapping[str, Any]]
    ) -> tuple[dict[str, Run], dict[str, ServiceError]]:
        """Batch create or update; each run succeeds or fails on its own."""
        created: dict[str, Run] = {}
        errors: dict[str, ServiceError] = {}
        for body in bodies:
            run_id = str(body.get("runId") or "")
            try:
                created[run_id] = self.create_or_update_run(workspace, experiment, run_id, body)
            except ServiceError as error:
                errors[run_id] = error
        return created, errors

    def _create_run(self, workspace: Workspace, experiment: Experiment, run_id: str, body: Mapping[str, Any]) -> Run:
        limits.check_run_id(run_id)
        _check_parent_field(body)
        parent = None
        if body.get("parentRunId"):
            parent = self.get_run(workspace, body["parentRunId"], experiment)
        fields = _validated_fields(body)
        tags = _validated_map("tags", {}, body.get("tags"), limits.MAX_TAGS)
        properties = _validated_properties({}, body.get("properties"))
        container = body.get("dataContainerId") or f"dcid.{run_id}"
        limits.check_length("dataContainerId", container, 261)
        return self._add_run(workspace, experiment, run_id, parent, fields, tags, properties, container)

    def _add_run(
        self,
        workspace: Workspace,
        experiment: Experiment,
        run_id: str,
        parent: Run | None,
        fields: Mapping[str, Any],
        tags: dict[str, Any],
        properties: dict[str, Any] | None = None,
        container: str | None = None,
    ) -> Run:
        """Store a new run from validated values (run fields by attribute name)."""
        properties = properties or {}
        workspace.run_counter += 1
        run = Run(
            run_id=run_id,
            experiment_id=experiment.experiment_id,
            experiment_name=experiment.name,
            run_number=workspace.run_counter,
            root_run_id=parent.root_run_id if parent else run_id,
            parent_run_id=parent.run_id if parent else None,
            created_utc=utcnow(),
            created_by=DEFAULT_USER,  # shared: the fake has one user, and nothing mutates it
            _data_container_id=None if container in (None, f"dcid.{run_id}") else container,
            tags=tags,
            properties=properties,
        )
        _apply_fields(run, fields)
        workspace.runs[run_id] = run
        experiment.run_ids.append(run_id)
        experiment.index.add_run(run_id, run.root_run_id)
        run.tags = experiment.index.update("Tags/", run_id, {}, tags)
        run.properties = experiment.index.update("Properties/", run_id, {}, properties)
        if parent:
            parent.add_child(run_id)
        self._changes.workspace(workspace)
        self._changes.run(run)
        return run

    def _update_run(self, experiment: Experiment, run: Run, body: Mapping[str, Any]) -> None:
        _check_parent_field(body)
        fields = _validated_fields(body)
        tags = _validated_map("tags", run.tags, body.get("tags"), limits.MAX_TAGS)
        properties = _validated_properties(run.properties, body.get("properties"))
        if body.get("parentRunId") not in (None, run.parent_run_id):
            raise ValidationError(f"The parent of run {run.run_id!r} cannot be changed", target="parentRunId")
        _apply_fields(run, fields)
        run.tags = experiment.index.update("Tags/", run.run_id, run.tags, tags)
        run.properties = experiment.index.update("Properties/", run.run_id, run.properties, properties)
        self._changes.run(run)

    @locked
    def submit_local_run(
        self, workspace: Workspace, experiment_name: str, run_id: str, configuration: Mapping[str, Any]
    ) -> Run:
        """``create_local_run`` in the named experiment, created only together with the run."""
        self._check_new_run_id(workspace, run_id)
        return self.create_local_run(workspace, self.create_experiment(workspace, experiment_name), run_id, configuration)

    @locked
    def create_local_run(
        self, workspace: Workspace, experiment: Experiment, run_id: str, configuration: Mapping[str, Any]
    ) -> Run:
        """A submitted ``ScriptRunConfig`` run on target local: Starting until its driver starts it."""
        self._check_new_run_id(workspace, run_id)
        definition = _rehydratable(configuration)
        body = {
            "runId": run_id,
            "name": run_id,
            "target": configuration.get("target") or "local",
            "runType": "azureml.scriptrun",
            "scriptName": configuration.get("script"),
            "runDefinition": definition,
            "properties": {"_azureml.ComputeTargetType": "local", "azureml.runsource": "experiment"},
        }
        run = self._create_run(workspace, experiment, run_id, body)
        run.status = "Starting"
        run.record_event(
            StatusEvent("amlmock.LocalRunSubmitted", utcnow(), "NotStarted", "Starting", True, "submitted to target local", {})
        )
        return run

    @staticmethod
    def _check_new_run_id(workspace: Workspace, run_id: str) -> None:
        if run_id in workspace.runs:
            raise ConflictError(f"Run {run_id!r} already exists", target="runId")

    @locked
    def record_processes(self, run: Run, processes: Mapping[str, Any]) -> Run:
        """Remember the process ids running a local run (to stop them when the fake stops).

        The fake signals these processes (the script's whole process group) when it stops, so it takes only
        what its driver reports: once, for a local run, ids from 2 to ``MAX_PID`` that the injected
        ``process_check`` accepts (the OS side: not the fake's own process, parent or group, a driver running
        amlmock's driver command, and a script that leads its own session as a child of the driver).
        """
        if run.properties.get("_azureml.ComputeTargetType") != "local":
            raise ValidationError(f"Run {run.run_id!r} is not a local run", target="runId")
        if run.processes:
            raise ConflictError(f"The processes of run {run.run_id!r} are already recorded", target="processes")
        if not all(isinstance(v, int) and not isinstance(v, bool) and 1 < v <= MAX_PID for v in processes.values()):
            raise ValidationError(f"Process ids must be integers from 2 to {MAX_PID}", target="processes")
        refused = self.process_check(dict(processes))
        if refused is not None:
            raise ValidationError(refused, target="processes")
        run.record_processes(processes)
        self._changes.run(run)
        return run

    @locked
    def remove_tags(self, experiment: Experiment, run: Run, keys: Iterable[str]) -> Run:
        """Delete tags; keys that are not set are ignored."""
        keys = list(keys)
        if not all(isinstance(key, str) for key in keys):
            raise ValidationError("Tag names to delete must be strings", target="tags")
        remaining = {k: v for k, v in run.tags.items() if k not in keys}
        run.tags = experiment.index.update("Tags/", run.run_id, run.tags, remaining)
        self._changes.run(run)
        return run

    @locked
    def post_event(self, run: Run, name: str, data: Mapping[str, Any] | None) -> StatusEvent:
        """Apply a status event (see ``lifecycle``); the event is kept whatever its effect."""
        kind = event_kind(name) if isinstance(name, str) else None
        if kind is None:
            raise ValidationError(f"amlmock does not know the run event {name!r}", target="name")
        if data is not None and not isinstance(data, dict):
            raise ValidationError("The event's data must be an object", target="data")
        data = dict(data or {})
        if kind == "Error":
            error = data.get("ErrorResponse") or data.get("errorResponse")
            if not isinstance(error, dict):
                raise ValidationError("An Error event needs data.ErrorResponse", target="data")
            inner = error.get("error")
            if inner is not None and not isinstance(inner, dict):
                raise ValidationError("data.ErrorResponse.error must be an object", target="data")
            message = (inner or {}).get("message")
            limits.check_length("error message", message, limits.MAX_ERROR_MESSAGE_LENGTH)
            run.error = error
        if kind == "Warning":
            run.add_warning({"source": data.get("Source"), "message": data.get("Message")})
        transition = apply_status_event(run.status, kind)
        event = StatusEvent(name, utcnow(), run.status, transition.status, transition.applied, transition.reason, data)
        if transition.applied:
            run.status = transition.status
            if transition.status == "Running" and run.start_time_utc is None:
                run.start_time_utc = event.received_utc
            if transition.status in ("Completed", "Failed", "Canceled"):
                run.end_time_utc = event.received_utc
        run.record_event(event)
        self._changes.run(run)
        return event

    def query_runs(
        self,
        workspace: Workspace,
        experiment: Experiment | None,
        filter_text: str | None,
        orderby: str | None = None,
        top: int | None = None,
        token: str | None = None,
    ) -> Page:
        """Runs of the experiment (or the workspace) matching the OData filter, one page.

        The filter is parsed before the lock is taken: a slow parse never holds up other requests.
        """
        order = _parse_orderby(orderby)
        predicate = _parse_filter(filter_text, is_run_filter_field)
        with self._lock:
            narrowed = experiment.index.candidates(predicate) if experiment is not None and predicate is not None else None
            run_ids: Iterable[str] = (
                narrowed if narrowed is not None else experiment.run_ids if experiment is not None else workspace.runs
            )
            candidates = (workspace.runs[run_id] for run_id in run_ids)
            matches = [run for run in candidates if predicate is None or evaluate(predicate, run)]
            return _keyset_page(matches, order, token, top)

    @locked
    def list_children(
        self, workspace: Workspace, parent: Run, orderby: str | None, top: int | None, token: str | None
    ) -> Page:
        """Direct children of ``parent``, one page."""
        order = _parse_orderby(orderby)
        return _keyset_page([workspace.runs[c] for c in parent.children], order, token, top)

    # -------------------------------------------------------------------- metrics
    @locked
    def post_metrics(self, run: Run, values: Sequence[Mapping[str, Any]]) -> list[MetricError]:
        """Store a batch of MetricV2 entries; returns the metrics refused one by one."""
        if not isinstance(values, list):
            raise ValidationError("values must be a list of metrics", target="values")
        if not all(isinstance(v, dict) and isinstance(v.get("value") or [], list) for v in values):
            raise ValidationError("Each metric must be an object whose value is a list", target="values")
        rows = sum(len(v.get("value") or []) for v in values)
        if rows > limits.MAX_METRIC_ROWS_PER_BATCH:
            raise ValidationError(
                f"A metric batch can hold at most {limits.MAX_METRIC_ROWS_PER_BATCH} rows; this one has {rows}",
                target="values",
            )
        errors: list[MetricError] = []
        for entry in values:
            try:
                self._store_metric(run, entry)
            except ValidationError as error:
                errors.append(MetricError(str(entry.get("name")), error))
        return errors

    def _store_metric(self, run: Run, entry: Mapping[str, Any]) -> None:
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise ValidationError("Each metric needs a non-empty name", target="name")
        name = entry["name"]
        limits.check_length("metric name", name, limits.MAX_METRIC_COLUMN_LENGTH)
        columns = entry.get("columns") or {}
        if not isinstance(columns, dict) or len(columns) > limits.MAX_METRIC_COLUMNS:
            raise ValidationError(f"Metric {name!r} must have at most {limits.MAX_METRIC_COLUMNS} columns", target=name)
        for column, column_type in columns.items():
            limits.check_length(f"column name of metric {name!r}", column, limits.MAX_METRIC_COLUMN_LENGTH)
            if not isinstance(column_type, str):
                raise ValidationError(f"The type of column {column!r} of metric {name!r} must be a string", target=name)
        properties = entry.get("properties") or {}
        if not isinstance(properties, dict) or not isinstance(properties.get("uxMetricType"), (str, type(None))):
            raise ValidationError(f"properties of metric {name!r} must be an object with a string uxMetricType", target=name)
        series = run.metrics.get(name)
        if series is None and len(run.metrics) >= limits.MAX_METRIC_NAMES_PER_RUN:
            raise ValidationError(
                f"Run {run.run_id!r} already has {limits.MAX_METRIC_NAMES_PER_RUN} metric names; "
                f"metric {name!r} was not stored",
                target=name,
            )
        rows = entry.get("value") or []
        logged_at: list[float] = []
        for row in rows:
            data = row.get("data") if isinstance(row, dict) else None
            if not isinstance(data, dict):
                raise ValidationError(f"Each value of metric {name!r} needs a data object", target=name)
            created = row.get("createdUtc")
            logged_at.append(_metric_time(created, name) if created is not None else utcnow().timestamp())
            step = row.get("step")
            if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
                raise ValidationError(f"step {step!r} of metric {name!r} must be an integer", target=name)
            for column, cell in data.items():
                if isinstance(cell, str):
                    limits.check_length(f"value of column {column!r} of metric {name!r}", cell, limits.MAX_METRIC_COLUMN_LENGTH)
        if series is None:
            ux_type = properties.get("uxMetricType")
            series = MetricSeries(name, dict(columns), ux_type)
            run.add_metric(series)
        else:
            series.columns.update(columns)
        self._changes.run(run)
        for row, time in zip(rows, logged_at):
            metric_id = str(row.get("metricId") or new_id())
            if series.add(metric_id, time, row.get("step"), row["data"]):  # a repeated id is stored once
                self._changes.metric(MetricRow(run, name, metric_id, time, row.get("step"), row["data"]))

    @locked
    def get_metric(self, run: Run, name: str) -> MetricSeries:
        """One metric of the run, or NotFoundError."""
        if not isinstance(name, str):
            raise ValidationError(f"metricName must be a string, not {type(name).__name__}", target="metricName")
        series = run.metrics.get(name)
        if series is None:
            raise NotFoundError(f"Metric {name!r} was not found for run {run.run_id!r}", target="metricName")
        return series

    # ------------------------------------------------------------------ artifacts
    @locked
    def create_artifacts(self, workspace: Workspace, origin: str, container: str, paths: Sequence[str]) -> list[Artifact]:
        """Register artifact paths (content comes later, through the blob store)."""
        _check_writable(container)
        clean = [normalise_artifact_path(p) for p in paths]
        created = []
        for path in clean:
            key = (container, path)
            if key not in workspace.artifacts:
                workspace.artifacts[key] = Artifact(origin, container, path, utcnow())
                self._changes.artifact(workspace, workspace.artifacts[key])
            created.append(workspace.artifacts[key])
        return created

    @locked
    def list_artifacts(self, workspace: Workspace, container: str, prefix: str = "") -> list[Artifact]:
        """Artifacts of a container, optionally under a path prefix, sorted by path."""
        prefix = normalise_artifact_path(prefix) if prefix else ""
        return sorted(
            (a for (c, p), a in workspace.artifacts.items() if c == container and p.startswith(prefix)),
            key=lambda a: a.path,
        )

    @locked
    def get_artifact(self, workspace: Workspace, container: str, path: str) -> Artifact:
        """One artifact, or NotFoundError."""
        artifact = workspace.artifacts.get((container, normalise_artifact_path(path)))
        if artifact is None:
            raise NotFoundError(f"Artifact {path!r} was not found in container {container!r}", target="path")
        return artifact

    @locked
    def write_blob(self, workspace: Workspace, container: str, path: str, content: bytes, append: bool = False) -> Artifact:
        """Store (or append to) an artifact's bytes; registers the artifact when needed."""
        _check_writable(container)
        path = normalise_artifact_path(path)
        artifact = workspace.artifacts.get((container, path))
        if artifact is None:
            artifact = workspace.artifacts[(container, path)] = Artifact("ExperimentRun", container, path, utcnow())
        artifact.content = (artifact.content or b"") + content if append else content
        self._changes.artifact(workspace, artifact)
        return artifact

    # ------------------------------------------------------------------ snapshots
    @locked
    def latest_snapshot(self, workspace: Workspace) -> Snapshot | None:
        """The most recently committed snapshot."""
        return max(workspace.snapshots.values(), key=lambda s: s.created_utc, default=None)

    @locked
    def commit_snapshot(
        self,
        workspace: Workspace,
        snapshot_id: str,
        parent_id: str | None,
        files: Mapping[str, int],
        tree: Sequence[str] = (),
        blobs: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Record a snapshot: ``tree`` lists all its files; ``files`` and ``blobs`` those uploaded for it
        (to the blob store, before), the others are unchanged since an ancestor."""
        snapshot = Snapshot(snapshot_id, parent_id, dict(files), utcnow(), tuple(tree), dict(blobs or {}))
        workspace.snapshots[snapshot_id] = snapshot
        self._changes.snapshot(workspace, snapshot)
        return snapshot

    @locked
    def snapshot_contents(self, workspace: Workspace, snapshot_id: str) -> dict[str, bytes]:
        """Every file of a snapshot with its bytes, each from the nearest snapshot (itself or an ancestor)
        that uploaded it. A file whose bytes the fake never received is a NotImplementedByFake error."""
        snapshot = workspace.snapshots.get(snapshot_id)
        if snapshot is None:
            raise NotFoundError(f"Snapshot {snapshot_id!r} was not found", target="snapshotId")
        contents: dict[str, bytes] = {}
        missing = []
        for path in snapshot.tree:
            content = self._snapshot_file(workspace, snapshot, path)
            if content is None:
                missing.append(path)
            else:
                contents[path] = content
        if missing:
            raise NotImplementedByFake(
                f"amlmock has no content for {len(missing)} file(s) of snapshot {snapshot_id} ({', '.join(missing[:5])}): "
                "snapshots taken by a process that reached the fake over loopback HTTP are recorded without their files",
                target="snapshotId",
            )
        return contents

    def _snapshot_file(self, workspace: Workspace, snapshot: Snapshot, path: str) -> bytes | None:
        seen: set[str] = set()
        current: Snapshot | None = snapshot
        while current is not None and current.snapshot_id not in seen:
            seen.add(current.snapshot_id)
            if path in current.blobs:
                artifact = workspace.artifacts.get((SNAPSHOT_CONTAINER, current.blobs[path]))
                return artifact.content if artifact is not None else None
            current = workspace.snapshots.get(current.parent_id) if current.parent_id else None
        return None


def _check_writable(container: str) -> None:
    """The files of a registered model's asset never change."""
    if is_registry_container(container):
        raise ConflictError(f"Container {container!r} holds the files of a registered model, which cannot change", target="container")


def _changed_runs(workspace: Workspace, log: ChangeLog) -> Iterator[Run]:
    """The runs of ``workspace`` the log names (looked up by id: a workspace holds each run id once)."""
    for run in log.runs.values():
        if workspace.runs.get(run.run_id) is run:
            yield run


def _parse_filter(text: str | None, known_field: Callable[[str], bool]) -> Node | None:
    """A query's ``filter`` (None when absent): a string of at most ``MAX_FILTER_LENGTH`` characters that parses."""
    if text is None or text == "":
        return None
    limits.check_length("filter", text, limits.MAX_FILTER_LENGTH)
    return parse_filter(text, known_field)


def _parse_orderby(text: str | None) -> OrderBy:
    """A run query's ``orderby`` (a string), or the default order."""
    if text is not None and not isinstance(text, str):
        raise ValidationError(f"orderby must be a string, not {type(text).__name__}", target="orderby")
    return parse_orderby(text, RUN_ORDER_FIELDS, DEFAULT_RUN_ORDER)


def _metric_time(value: Any, metric: str) -> float:
    """A value's ``createdUtc`` as POSIX seconds, as the metric store keeps it; it must be an ISO 8601
    time the store can give back as ISO 8601 (years 1000 to 9999)."""
    try:
        seconds = parse_time(value).timestamp()
        if datetime.fromtimestamp(seconds, timezone.utc).year >= 1000:  # as the store reads it back
            return seconds
    except (TypeError, ValueError, AttributeError, OverflowError, OSError):
        pass
    raise ValidationError(f"createdUtc {value!r} of metric {metric!r} is not an ISO 8601 time", target=metric)


_FORBIDDEN_PATH_CHARACTER = re.compile(r"[\x00-\x1f\x7f\\]")
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


def normalise_artifact_path(path: str) -> str:
    """``./outputs/a.txt`` and ``outputs/a.txt`` name the same artifact.

    The path is an opaque key (never a file name), but it must survive a blob URL: ``.`` and ``..``
    segments are refused, because HTTP clients remove them from URLs (RFC 3986, 5.2.4), and so is
    text that is not valid Unicode (lone surrogates), which no URL can carry. Control characters,
    backslashes and a leading drive letter (``C:``) are refused too: such a name could not be
    written back to a file by ``download_files`` (docs/lifecycle.md, artifact names).
    """
    if not isinstance(path, str) or not path.strip("./"):
        raise ValidationError(f"Artifact path {path!r} is invalid", target="path")
    limits.check_length("artifact path", path, limits.MAX_ARTIFACT_PATH_LENGTH)
    while path.startswith("./"):
        path = path[2:]
    path = path.lstrip("/")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise ValidationError(f"Artifact path {path!r} must not contain '.' or '..' segments", target="path")
    if _FORBIDDEN_PATH_CHARACTER.search(path):
        raise ValidationError(f"Artifact path {path!r} must not contain control characters or backslashes", target="path")
    if _DRIVE_LETTER.match(path):
        raise ValidationError(f"Artifact path {path!r} must not start with a drive letter", target="path")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"Artifact path {path!r} is not valid Unicode", target="path") from None
    return path


def _rehydratable(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The run definition as stored: without ``condaDependenciesFile``, which the SDK cannot rebuild."""
    definition = json.loads(json.dumps(configuration))
    python = (definition.get("environment") or {}).get("python")
    if isinstance(python, dict) and "condaDependenciesFile" in python:
        python["condaDependenciesFile"] = None
    return definition


def _validated_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, (attribute, limit) in _RUN_TEXT_FIELDS.items():
        if body.get(key) is not None:
            limits.check_length(key, body[key], limit)
            fields[attribute] = body[key]
    if body.get("hidden") is not None:
        if not isinstance(body["hidden"], bool):
            raise ValidationError("hidden must be true or false", target="hidden")
        fields["hidden"] = body["hidden"]
    for key, attribute in (("runTypeV2", "run_type_v2"), ("runDefinition", "run_definition")):
        if body.get(key) is not None:
            if not isinstance(body[key], dict):
                raise ValidationError(f"{key} must be an object", target=key)
            fields[attribute] = dict(body[key])
    if "run_type_v2" in fields:
        _check_run_type_v2(fields["run_type_v2"])
    return fields


def _check_run_type_v2(value: Mapping[str, Any]) -> None:
    """``runTypeV2``: ``orchestrator`` a string or null, ``traits`` a list of strings or null (queries read both)."""
    if not isinstance(value.get("orchestrator"), (str, type(None))):
        raise ValidationError("runTypeV2.orchestrator must be a string", target="runTypeV2")
    traits = value.get("traits")
    if traits is not None and not (isinstance(traits, list) and all(isinstance(t, str) for t in traits)):
        raise ValidationError("runTypeV2.traits must be a list of strings", target="runTypeV2")


def _check_parent_field(body: Mapping[str, Any]) -> None:
    """``parentRunId``: a run id (string) or null."""
    if not isinstance(body.get("parentRunId"), (str, type(None))):
        raise ValidationError("parentRunId must be a string", target="parentRunId")


def _apply_fields(run: Run, fields: Mapping[str, Any]) -> None:
    for attribute, value in fields.items():
        if value == run.run_id:  # names are often the run id: keep that string once
            value = run.run_id
        setattr(run, attribute, value)


def _validated_map(what: str, current: Mapping[str, Any], update: Any, max_entries: int) -> dict[str, Any]:
    if update is None:
        return dict(current)
    if not isinstance(update, dict):
        raise ValidationError(f"{what} must be an object of strings", target=what)
    merged = {**current, **update}
    limits.check_string_map(what, merged, max_entries=max_entries)
    return {sys.intern(key): value for key, value in merged.items()}  # keys repeat across runs: store each once


def _validated_properties(current: Mapping[str, Any], update: Any) -> dict[str, Any]:
    merged = _validated_map("properties", current, update, limits.MAX_PROPERTIES)
    check_properties_added(current, update or {})
    return merged


def _encode_token(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_token(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, AttributeError, RecursionError):
        raise ValidationError(f"The continuation token {token!r} is invalid", target="continuationToken") from None


def _page_size(top: int | None) -> int:
    if top is None:
        return DEFAULT_PAGE_SIZE
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise ValidationError(f"top must be a positive integer, not {top!r}", target="top")
    return min(top, MAX_PAGE_SIZE)


def _run_sort_key(run: Run, field_name: str) -> tuple[str, int]:
    value: datetime | int | None = {
        "StartTimeUtc": run.order_time,
        "CreatedUtc": run.created_utc,
        "EndTimeUtc": run.end_time_utc or run.order_time,
        "RunNumber": run.run_number,
    }[field_name]
    text = value.isoformat() if isinstance(value, datetime) else f"{value:020d}"
    return (text, run.run_number)


def _keyset_page(runs: list[Run], order: OrderBy, token: str | None, top: int | None) -> Page:
    """Sort, then return the runs after the token's key: inserts between pages never shift a page."""
    size = _page_size(top)
    keyed = sorted(((_run_sort_key(r, order.field), r) for r in runs), key=lambda kr: kr[0], reverse=order.descending)
    if token:
        last = _decode_token(token)
        if not (isinstance(last, list) and len(last) == 2 and isinstance(last[0], str) and isinstance(last[1], int)):
            raise ValidationError(f"The continuation token {token!r} is invalid", target="continuationToken")
        last = tuple(last)
        if order.descending:
            keyed = [kr for kr in keyed if kr[0] < last]
        else:
            keyed = [kr for kr in keyed if kr[0] > last]
    page = keyed[:size]
    next_token = _encode_token(list(page[-1][0])) if len(keyed) > size else None
    return Page([run for _, run in page], next_token)


def _offset_page(items: list[T], token: str | None, top: int | None) -> Page:
    size = _page_size(top)
    start = _decode_token(token) if token else 0
    if not isinstance(start, int) or start < 0:
        raise ValidationError(f"The continuation token {token!r} is invalid", target="continuationToken")
    page = items[start:start + size]
    return Page(page, _encode_token(start + size) if start + size < len(items) else None)
