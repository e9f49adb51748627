"""Every error message of the backend, in one place: named texts and small functions that format them.

One section per module that raises them. The texts are the service's where it is known (tests assert
some of them byte for byte); change one here and every place that raises it follows. Field names in
messages and error targets are the names the service's API gives the fields: a message says what the client sent.
"""

from __future__ import annotations

from typing import Iterable


# ---------------------------------------------------------------------------------- limits.py
def invalid_run_id(run_id: object) -> str:
    return (
        f"Run id {run_id!r} is invalid: run ids must be less than 256 characters and contain only "
        "alphanumeric characters with dashes and underscores"
    )


def invalid_experiment_name(name: object, pattern: str) -> str:
    return f"Experiment name {name!r} is invalid: it must match {pattern}"


def not_a_string(what: str, value: object) -> str:
    return f"{what} must be a string, not {type(value).__name__}"


def too_long(what: str, length: int, limit: int) -> str:
    return f"{what} is {length} characters long; the limit is {limit}"


def too_many_labels(what: str, limit: int, count: int) -> str:
    return f"A run can have at most {limit} {what}; this request would give it {count}"


def empty_keys(what: str) -> str:
    return f"{what} keys must not be empty"


def label_key(what: str, key: str) -> str:
    """How a message names a tag's or property's key (its first 40 characters)."""
    return f"{what} key {key[:40]!r}"


def label_value(what: str, key: str) -> str:
    """How a message names the value of a tag or property."""
    return f"{what} value of {key!r}"


# ---------------------------------------------------------------------------------- registry.py
def invalid_model_name(name: object) -> str:
    return (
        f"Model name {name!r} is invalid: it must only consist of letters, numbers, dashes, periods or underscores, "
        "start with a letter or number, and be between 1 and 255 characters long"
    )


def object_of_strings(what: str) -> str:
    return f"{what} must be an object of strings"


def bad_model_order(orders: tuple[str, ...], order: object) -> str:
    return f"orderBy must be one of {', '.join(orders)}, not {order!r}"


# ---------------------------------------------------------------------------------- registry_service.py
ASSET_NEEDS_NAME = "An asset needs a name"
ASSET_NEEDS_PREFIX = "An asset needs at least one artifact prefix"
MODEL_NEEDS_MIME_TYPE = "A model needs a mimeType"
MODEL_FIELD_LABELS = {"mime_type": "mimeType", "framework": "framework", "framework_version": "frameworkVersion"}


def not_found(kind: str, name: str) -> str:
    """``kind`` is ``Run``, ``Asset``, ``Model`` ..."""
    return f"{kind} {name!r} was not found"


def prefixes_overlap(path: str) -> str:
    return f"Two prefixes of the asset hold {path!r}"


def nothing_to_register(origin: str, container: str, prefix: str) -> str:
    return f"No artifact of {origin}/{container} has a path starting with {prefix!r}: there is nothing to register"


def run_of_other_experiment(run_id: str, its_experiment: str, named: str | None) -> str:
    return f"Run {run_id!r} belongs to experiment {its_experiment!r}, not {named!r}"


def bad_model_count(maximum: int, count: int) -> str:
    return f"count must be from 1 to {maximum}, not {count}"


def bad_page_offset(offset: int) -> str:
    return f"The page offset {offset} is invalid"


# ---------------------------------------------------------------------------------- labels.py
def property_overwritten(key: str, current: object, new: object) -> str:
    return f"Property {key} already exists with value {current}; cannot overwrite with {new}"


# ---------------------------------------------------------------------------------- lifecycle.py
# Why a status event was applied or ignored (the run's status history keeps the reason).
EVENT_WITHOUT_STATUS = "event carries no status"
FAILED_AFTER_COMPLETED = "fail() after complete() marks the run Failed"
RUN_ENDED = "run ended"
NOT_BACKWARDS = "status does not move backwards"
RUN_PROGRESSED = "run progressed"


def already(status: str) -> str:
    return "already " + status


def terminal(status: str) -> str:
    return status + " is terminal"


# ---------------------------------------------------------------------------------- filter_parser.py, query.py
# Why one reading of an OData filter fails (``unreadable_filter`` puts it into the message).
MISSING_CLOSING_PARENTHESIS = "missing ')'"
EXPECTED_COMPARISON = "expected '<field> eq|ne|gt|ge|lt|le <value>'"
UNTERMINATED_STRING = "unterminated string"
MISSING_VALUE = "missing value"


def unexpected_text(rest: str) -> str:
    return "unexpected text " + repr(rest)


def nested_too_deep(limit: int) -> str:
    return f"parentheses nested more than {limit} deep"


def unsupported_field(name: str) -> str:
    return f"unsupported field {name!r}"


def unreadable_filter(text: str, why: str, position: int) -> str:
    return f"amlmock cannot evaluate the filter {text!r}: {why} (at character {position})"


def filter_too_ambiguous(text: str, work_limit: int, first_why: str | None, first_position: int) -> str:
    first = f"; the first reading failed: {first_why}, at character {first_position}" if first_why else ""
    return (
        f"amlmock cannot evaluate the filter {text!r}: it is too ambiguous or complex to read (its unescaped "
        f"quotes and operators allow more readings than amlmock tries within {work_limit} work units{first})"
    )


def not_a_date_time(literal: str) -> str:
    return f"amlmock cannot read {literal!r} as a date-time"


def not_a_number(literal: str) -> str:
    return f"amlmock cannot read {literal!r} as a number"


def bad_orderby(text: str, fields: tuple[str, ...]) -> str:
    return f"amlmock cannot order by {text!r}: use one of {', '.join(fields)} followed by asc or desc"


# ---------------------------------------------------------------------------------- times.py
def not_an_iso_time(text: str) -> str:
    return f"not an ISO 8601 time: {text!r}"


# ---------------------------------------------------------------------------------- paging.py
def invalid_token(token: object) -> str:
    return f"The continuation token {token!r} is invalid"


def invalid_top(top: object) -> str:
    return f"top must be a positive integer, not {top!r}"


# ---------------------------------------------------------------------------------- workspaces.py
def workspace_not_found(subscription_id: str, resource_group: str, name: str) -> str:
    return f"Workspace {name!r} was not found in resource group {resource_group!r} of subscription {subscription_id!r}"


def workspace_id_not_found(workspace_id: str) -> str:
    return f"No workspace has the id {workspace_id!r}"


def experiment_not_found(name: str) -> str:
    return f"Experiment {name!r} was not found"


def experiment_id_not_found(experiment_id: str) -> str:
    return f"Experiment with id {experiment_id!r} was not found"


def unknown_view_type(view_type: object, views: Iterable[str]) -> str:
    return f"viewType must be one of {', '.join(views)}, not {view_type!r}"


# ---------------------------------------------------------------------------------- runs.py
RUN_FIELD_LABELS = {
    "name": "name",
    "display_name": "displayName",
    "description": "description",
    "target": "target",
    "run_type": "runType",
    "script_name": "scriptName",
    "data_container_id": "dataContainerId",
    "parent_run_id": "parentRunId",
}


def run_not_found(run_id: str, experiment_name: str | None = None) -> str:
    where = f" in experiment {experiment_name!r}" if experiment_name else ""
    return f"Run {run_id!r} was not found{where}"


def run_in_workspace_not_found(run_id: str) -> str:
    return f"amlmock has no run {run_id!r}"


def run_exists(run_id: str) -> str:
    return f"Run {run_id!r} already exists"


def run_in_other_experiment(run_id: str) -> str:
    return f"Run {run_id!r} already exists in another experiment"


def parent_fixed(run_id: str) -> str:
    return f"The parent of run {run_id!r} cannot be changed"


def unknown_event(name: object) -> str:
    return f"amlmock does not know the run event {name!r}"


ERROR_EVENT_NEEDS_ERROR = "An Error event needs data.ErrorResponse"


# ---------------------------------------------------------------------------------- local_runs.py
def not_local_run(run_id: str) -> str:
    return f"Run {run_id!r} is not a local run"


def processes_recorded(run_id: str) -> str:
    return f"The processes of run {run_id!r} are already recorded"


def invalid_pids(max_pid: int) -> str:
    return f"Process ids must be integers from 2 to {max_pid}"


NO_PROCESS_CHECK = "This amlmock backend records no process ids (it has no process check)"


# ---------------------------------------------------------------------------------- metrics.py
def too_many_metric_rows(limit: int, rows: int) -> str:
    return f"A metric batch can hold at most {limit} rows; this one has {rows}"


def too_many_columns(name: str, limit: int) -> str:
    return f"Metric {name!r} must have at most {limit} columns"


def too_many_metric_names(run_id: str, limit: int, name: str) -> str:
    return f"Run {run_id!r} already has {limit} metric names; metric {name!r} was not stored"


def metric_not_found(name: str, run_id: str) -> str:
    return f"Metric {name!r} was not found for run {run_id!r}"


# ---------------------------------------------------------------------------------- artifacts.py
def artifact_not_found(path: str, container: str) -> str:
    return f"Artifact {path!r} was not found in container {container!r}"


def registry_container_fixed(container: str) -> str:
    return f"Container {container!r} holds the files of a registered model, which cannot change"


def invalid_artifact_path(path: object, why: str = "is invalid") -> str:
    return f"Artifact path {path!r} {why}"


def snapshot_not_found(snapshot_id: str) -> str:
    return f"Snapshot {snapshot_id!r} was not found"


def snapshot_without_files(snapshot_id: str, missing: list[str]) -> str:
    return (
        f"amlmock has no content for {len(missing)} file(s) of snapshot {snapshot_id} ({', '.join(missing[:5])}): "
        "snapshots taken by a process that reached the fake over loopback HTTP are recorded without their files"
    )
