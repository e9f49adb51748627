"""Request bodies into the backend's values (``backend/values.py``): the wire's types checked here, once.

What the service's rules say about the values (limits, the state machine, immutable properties) the
backend checks; this module only reads JSON: which field is which, and that each has its JSON type.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence, TypeVar

from ..backend import limits, messages
from ..backend.errors import ServiceError, ValidationError
from ..backend.lifecycle import event_kind
from ..backend.metrics import MetricError
from ..backend.times import parse_time
from ..backend.values import LocalRunSpec, MetricBatch, MetricInput, MetricRowInput, PageRequest, RunEvent, RunFields

# Text fields of a run create/patch body (CreateRunDto in the REST spec), by run attribute.
T = TypeVar("T")

_RUN_TEXT_FIELDS = {"name": "name", "displayName": "display_name", "description": "description", "target": "target",
                    "runType": "run_type", "scriptName": "script_name"}


def text(body: Mapping[str, Any], key: str) -> str | None:
    """An optional string field (filter, orderBy, viewType, continuationToken ...)."""
    value = body.get(key)
    return None if value is None else _checked_text(key, value)


def required_text(body: Mapping[str, Any], key: str) -> str:
    """A string field that must be there (metricName ...)."""
    return _checked_text(key, body.get(key))


def _checked_text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string, not {type(value).__name__}", target=key)
    return value


def top(value: Any) -> int | None:
    """A page size as sent (a number, or a query string's text); its range is the backend's rule."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(messages.invalid_top(value), target="top") from None


def page_request(body: Mapping[str, Any]) -> PageRequest:
    """A query body's ``filter``, ``orderBy`` (or ``orderby``), ``top`` and ``continuationToken``."""
    order = text(body, "orderBy") or text(body, "orderby")
    return PageRequest(text(body, "filter"), order, top(body.get("top")), text(body, "continuationToken"))


def json_object(body: Mapping[str, Any], key: str, what: str | None = None) -> dict[str, Any] | None:
    """An optional JSON object field."""
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValidationError(f"{what or key} must be an object", target=key)
    return value


def string_map(body: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """Tags or properties: an optional JSON object (its values' types and sizes are the backend's limits)."""
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValidationError(f"{key} must be an object of strings", target=key)
    return value


def run_fields(body: Mapping[str, Any], run_id: str) -> RunFields:
    """A run create/patch body (CreateRunDto)."""
    if body.get("runId") not in (None, run_id):
        raise ValidationError(f"runId {body['runId']!r} in the body does not match {run_id!r} in the path")
    if not isinstance(body.get("parentRunId"), (str, type(None))):
        raise ValidationError("parentRunId must be a string", target="parentRunId")
    texts = {attribute: text(body, key) for key, attribute in _RUN_TEXT_FIELDS.items()}
    hidden = body.get("hidden")
    if hidden is not None and not isinstance(hidden, bool):
        raise ValidationError("hidden must be true or false", target="hidden")
    run_type_v2 = json_object(body, "runTypeV2")
    if run_type_v2 is not None:
        _check_run_type_v2(run_type_v2)
    return RunFields(
        **texts,
        hidden=hidden,
        run_type_v2=run_type_v2,
        run_definition=json_object(body, "runDefinition"),
        parent_run_id=body.get("parentRunId") or None,
        data_container_id=text(body, "dataContainerId") or None,
        tags=string_map(body, "tags"),
        properties=string_map(body, "properties"),
    )


def _check_run_type_v2(value: Mapping[str, Any]) -> None:
    """``runTypeV2``: ``orchestrator`` a string or null, ``traits`` a list of strings or null (queries read both)."""
    if not isinstance(value.get("orchestrator"), (str, type(None))):
        raise ValidationError("runTypeV2.orchestrator must be a string", target="runTypeV2")
    traits = value.get("traits")
    if traits is not None and not (isinstance(traits, list) and all(isinstance(t, str) for t in traits)):
        raise ValidationError("runTypeV2.traits must be a list of strings", target="runTypeV2")


def tag_names(keys: Any) -> list[str]:
    """The body of a tag delete: a JSON array of tag names."""
    if not isinstance(keys, list):
        raise ValidationError("The body must be a JSON array of tag names", target="body")
    if not all(isinstance(key, str) for key in keys):
        raise ValidationError("Tag names to delete must be strings", target="tags")
    return keys


def run_event(name: Any, data: Any) -> RunEvent:
    """A status event: its name and data (an Error event's ``ErrorResponse``, a Warning's source and message)."""
    if data is not None and not isinstance(data, dict):
        raise ValidationError("The event's data must be an object", target="data")
    data = dict(data or {})
    kind = event_kind(name) if isinstance(name, str) else None
    error = message = warning = None
    if kind == "Error":
        error = data.get("ErrorResponse") or data.get("errorResponse")
        if isinstance(error, dict):
            inner = error.get("error")
            if inner is not None and not isinstance(inner, dict):
                raise ValidationError("data.ErrorResponse.error must be an object", target="data")
            message = (inner or {}).get("message")
        else:
            error = None
    if kind == "Warning":
        warning = {"source": data.get("Source"), "message": data.get("Message")}
    return RunEvent(name, data, error, message, warning)


def batched_event(event: Mapping[str, Any]) -> tuple[str, RunEvent]:
    """One event of a batch: the run it is for (``data.RunId``) and the event."""
    parsed = run_event(event.get("name"), event.get("data") or {})
    run_id = parsed.data.get("RunId") or parsed.data.get("runId")
    if not isinstance(run_id, str):
        raise ValidationError("The event's data.RunId must name a run", target="RunId")
    return run_id, parsed


def each(items: Sequence[Any], read: Callable[[Any], T]) -> tuple[list[tuple[int, T]], list[tuple[int, ServiceError]]]:
    """Read every item of a batch on its own: the values read and the items refused, each with its place."""
    values: list[tuple[int, T]] = []
    refused: list[tuple[int, ServiceError]] = []
    for position, item in enumerate(items):
        try:
            values.append((position, read(item)))
        except ServiceError as error:
            refused.append((position, error))
    return values, refused


def metric_batch(values: Any) -> tuple[MetricBatch, list[MetricError]]:
    """A MetricV2 batch: the metrics that read, and those refused for their shape (each with its place)."""
    if not isinstance(values, list):
        raise ValidationError("values must be a list of metrics", target="values")
    if not all(isinstance(v, dict) and isinstance(v.get("value") or [], list) for v in values):
        raise ValidationError("Each metric must be an object whose value is a list", target="values")
    metrics, refused = each(values, _metric)
    errors = [MetricError(position, str(values[position].get("name")), error) for position, error in refused]
    return MetricBatch(tuple(metrics), sum(len(v.get("value") or []) for v in values)), errors


def _metric(entry: Mapping[str, Any]) -> MetricInput:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValidationError("Each metric needs a non-empty name", target="name")
    columns = entry.get("columns") or {}
    if not isinstance(columns, dict):
        raise ValidationError(messages.too_many_columns(name, limits.MAX_METRIC_COLUMNS), target=name)
    for column, column_type in columns.items():
        if not isinstance(column_type, str):
            raise ValidationError(f"The type of column {column!r} of metric {name!r} must be a string", target=name)
    properties = entry.get("properties") or {}
    if not isinstance(properties, dict) or not isinstance(properties.get("uxMetricType"), (str, type(None))):
        raise ValidationError(f"properties of metric {name!r} must be an object with a string uxMetricType", target=name)
    rows = tuple(_metric_row(row, name) for row in entry.get("value") or [])
    return MetricInput(name, columns, properties.get("uxMetricType"), rows)


def _metric_row(row: Any, name: str) -> MetricRowInput:
    data = row.get("data") if isinstance(row, dict) else None
    if not isinstance(data, dict):
        raise ValidationError(f"Each value of metric {name!r} needs a data object", target=name)
    step = row.get("step")
    if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
        raise ValidationError(f"step {step!r} of metric {name!r} must be an integer", target=name)
    created = row.get("createdUtc")
    logged_at = _metric_time(created, name) if created is not None else None
    return MetricRowInput(data, logged_at, step, str(row.get("metricId") or "") or None)


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


def local_run_spec(configuration: Mapping[str, Any]) -> LocalRunSpec:
    """A local run's configuration: its script and target, and the run definition as the fake stores it
    (without ``condaDependenciesFile``, which the SDK cannot rebuild)."""
    definition = json.loads(json.dumps(configuration))
    python = (definition.get("environment") or {}).get("python")
    if isinstance(python, dict) and "condaDependenciesFile" in python:
        python["condaDependenciesFile"] = None
    return LocalRunSpec(configuration.get("script"), configuration.get("target") or "local", definition)
