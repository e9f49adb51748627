"""Runs and their lifecycle: create, update, tag, status events, queries and children."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from . import limits, messages
from .errors import ConflictError, NotFoundError, ServiceError, ValidationError
from .labels import check_properties_added
from .lifecycle import apply_status_event, event_kind, is_terminal
from .locking import locked
from .models import DEFAULT_USER, Experiment, Run, StatusEvent, Workspace, is_run_filter_field
from .times import utcnow
from .paging import Page, SortKey, keyset_page, page_size
from .query import OrderBy, evaluate, parse_orderby
from .state import BackendState
from .values import PageRequest, RunEvent, RunFields
from .workspaces import checked_filter

RUN_ORDER_FIELDS = ("StartTimeUtc", "CreatedUtc", "EndTimeUtc", "RunNumber")
DEFAULT_RUN_ORDER = OrderBy("StartTimeUtc", descending=True)
MAX_DATA_CONTAINER_ID_LENGTH = 261

# The longest text each run field may hold (resource-limits-capacity; see docs/lifecycle.md).
TEXT_LIMITS = {
    "name": limits.MAX_DISPLAY_NAME_LENGTH,
    "display_name": limits.MAX_DISPLAY_NAME_LENGTH,
    "description": limits.MAX_DESCRIPTION_LENGTH,
    "target": limits.MAX_VALUE_LENGTH,
    "run_type": limits.MAX_VALUE_LENGTH,
    "script_name": limits.MAX_VALUE_LENGTH,
}


class RunOperations(BackendState):
    """Runs: one record per run id in a workspace, under the state machine of ``lifecycle``."""

    @locked
    def get_run(self, workspace: Workspace, run_id: str, experiment: Experiment | None = None) -> Run:
        """The run by id (within ``experiment`` when given), or NotFoundError."""
        run = workspace.runs.get(run_id)
        if run is None or (experiment is not None and run.experiment_id != experiment.experiment_id):
            raise NotFoundError(messages.run_not_found(run_id, experiment.name if experiment else None), target="runId")
        return run

    @locked
    def create_or_update_run(self, workspace: Workspace, experiment: Experiment, run_id: str, fields: RunFields) -> Run:
        """PATCH semantics: create the run when new, else merge tags and add properties."""
        existing = workspace.runs.get(run_id)
        if existing is None:
            return self._create_run(workspace, experiment, run_id, fields)
        if existing.experiment_id != experiment.experiment_id:
            raise ConflictError(messages.run_in_other_experiment(run_id), target="runId")
        self._update_run(experiment, existing, fields)
        return existing

    @locked
    def create_runs(
        self, workspace: Workspace, experiment: Experiment, runs: Sequence[tuple[str, RunFields]]
    ) -> tuple[dict[str, Run], dict[str, ServiceError]]:
        """Batch create or update; each run succeeds or fails on its own."""
        created: dict[str, Run] = {}
        errors: dict[str, ServiceError] = {}
        for run_id, fields in runs:
            try:
                created[run_id] = self.create_or_update_run(workspace, experiment, run_id, fields)
            except ServiceError as error:
                errors[run_id] = error
        return created, errors

    def _create_run(self, workspace: Workspace, experiment: Experiment, run_id: str, fields: RunFields) -> Run:
        limits.check_run_id(run_id)
        parent = self.get_run(workspace, fields.parent_run_id, experiment) if fields.parent_run_id else None
        settings = _checked_settings(fields)
        tags = _merged_labels("tags", {}, fields.tags, limits.MAX_TAGS)
        properties = _merged_properties({}, fields.properties)
        container = fields.data_container_id or f"dcid.{run_id}"
        limits.check_length(messages.RUN_FIELD_LABELS["data_container_id"], container, MAX_DATA_CONTAINER_ID_LENGTH)
        return self._add_run(workspace, experiment, run_id, parent, settings, tags, properties, container)

    def _add_run(
        self,
        workspace: Workspace,
        experiment: Experiment,
        run_id: str,
        parent: Run | None,
        settings: Mapping[str, Any],
        tags: dict[str, Any],
        properties: dict[str, Any] | None = None,
        container: str | None = None,
    ) -> Run:
        """Store a new run from checked values (``settings``: run attributes by name)."""
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
        _apply_settings(run, settings)
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

    def _update_run(self, experiment: Experiment, run: Run, fields: RunFields) -> None:
        settings = _checked_settings(fields)
        tags = _merged_labels("tags", run.tags, fields.tags, limits.MAX_TAGS)
        properties = _merged_properties(run.properties, fields.properties)
        if fields.parent_run_id not in (None, run.parent_run_id):
            raise ValidationError(messages.parent_fixed(run.run_id), target="parentRunId")
        _apply_settings(run, settings)
        run.tags = experiment.index.update("Tags/", run.run_id, run.tags, tags)
        run.properties = experiment.index.update("Properties/", run.run_id, run.properties, properties)
        self._changes.run(run)

    @locked
    def remove_tags(self, experiment: Experiment, run: Run, keys: Iterable[str]) -> Run:
        """Delete tags; keys that are not set are ignored."""
        keys = set(keys)
        remaining = {k: v for k, v in run.tags.items() if k not in keys}
        run.tags = experiment.index.update("Tags/", run.run_id, run.tags, remaining)
        self._changes.run(run)
        return run

    @locked
    def post_event(self, run: Run, event: RunEvent) -> StatusEvent:
        """Apply a status event (see ``lifecycle``); the event is kept whatever its effect."""
        kind = event_kind(event.name) if isinstance(event.name, str) else None
        if kind is None:
            raise ValidationError(messages.unknown_event(event.name), target="name")
        if kind == "Error":
            if event.error is None:
                raise ValidationError(messages.ERROR_EVENT_NEEDS_ERROR, target="data")
            limits.check_length("error message", event.error_message, limits.MAX_ERROR_MESSAGE_LENGTH)
            run.error = dict(event.error)
        if kind == "Warning" and event.warning is not None:
            run.add_warning(dict(event.warning))
        transition = apply_status_event(run.status, kind)
        received = StatusEvent(
            event.name, utcnow(), run.status, transition.status, transition.applied, transition.reason, dict(event.data)
        )
        if transition.applied:
            run.status = transition.status
            if transition.status == "Running" and run.start_time_utc is None:
                run.start_time_utc = received.received_utc
            if is_terminal(transition.status):
                run.end_time_utc = received.received_utc
        run.record_event(received)
        self._changes.run(run)
        return received

    @locked
    def post_events(
        self, workspace: Workspace, experiment: Experiment, events: Sequence[tuple[int, str, RunEvent]]
    ) -> list[tuple[int, ServiceError]]:
        """Batch status events (each with its place in the batch and its run id); each is applied or refused on
        its own: returns the refusals with their places."""
        errors: list[tuple[int, ServiceError]] = []
        for position, run_id, event in events:
            try:
                self.post_event(self.get_run(workspace, run_id, experiment), event)
            except ServiceError as error:
                errors.append((position, error))
        return errors

    @locked
    def status_history(self, run: Run) -> list[StatusEvent]:
        """The status events the run received, oldest first (refused ones too)."""
        return list(run.status_history)

    def query_runs(self, workspace: Workspace, experiment: Experiment | None, request: PageRequest) -> Page:
        """Runs of the experiment (or the workspace) matching the OData filter, one page.

        The filter is parsed before the lock is taken: a slow parse never holds up other requests.
        """
        order = parse_orderby(request.order_by, RUN_ORDER_FIELDS, DEFAULT_RUN_ORDER)
        predicate = checked_filter(request.filter, is_run_filter_field)
        size = page_size(request.top)
        with self._lock:
            narrowed = experiment.index.candidates(predicate) if experiment is not None and predicate is not None else None
            run_ids: Iterable[str] = (
                narrowed if narrowed is not None else experiment.run_ids if experiment is not None else workspace.runs
            )
            candidates = (workspace.runs[run_id] for run_id in run_ids)
            matches = [run for run in candidates if predicate is None or evaluate(predicate, run)]
            return _run_page(matches, order, request.token, size)

    @locked
    def list_children(self, workspace: Workspace, parent: Run, request: PageRequest) -> Page:
        """Direct children of ``parent``, one page."""
        order = parse_orderby(request.order_by, RUN_ORDER_FIELDS, DEFAULT_RUN_ORDER)
        size = page_size(request.top)
        return _run_page([workspace.runs[c] for c in parent.children], order, request.token, size)


def _checked_settings(fields: RunFields) -> dict[str, Any]:
    """The plain attributes a create or update sets, each within its limit."""
    settings = fields.settings()
    for attribute, limit in TEXT_LIMITS.items():
        limits.check_length(messages.RUN_FIELD_LABELS[attribute], settings.get(attribute), limit)
    return settings


def _apply_settings(run: Run, settings: Mapping[str, Any]) -> None:
    for attribute, value in settings.items():
        if value == run.run_id:  # names are often the run id: keep that string once
            value = run.run_id
        setattr(run, attribute, value)


def _merged_labels(what: str, current: Mapping[str, Any], update: Mapping[str, Any] | None, max_entries: int) -> dict[str, Any]:
    """Tags or properties after an update, within the limits."""
    if update is None:
        return dict(current)
    merged = {**current, **update}
    limits.check_string_map(what, merged, max_entries=max_entries)
    return {sys.intern(key): value for key, value in merged.items()}  # keys repeat across runs: store each once


def _merged_properties(current: Mapping[str, Any], update: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = _merged_labels("properties", current, update, limits.MAX_PROPERTIES)
    check_properties_added(current, update or {})
    return merged


def _run_sort_key(field_name: str) -> Any:
    def key(run: Run) -> SortKey:
        values: dict[str, datetime | int] = {
            "StartTimeUtc": run.order_time,
            "CreatedUtc": run.created_utc,
            "EndTimeUtc": run.end_time_utc or run.order_time,
            "RunNumber": run.run_number,
        }
        value = values[field_name]
        text = value.isoformat() if isinstance(value, datetime) else f"{value:020d}"
        return (text, run.run_number)

    return key


def _run_page(runs: list[Run], order: OrderBy, token: str | None, size: int) -> Page:
    """Keyset pages: inserts between pages never shift a page."""
    return keyset_page(runs, _run_sort_key(order.field), order.descending, token, size)
