"""Every error message the backend gives, in one place (the texts clients and tests see).

Field names inside messages and error targets are the names the service's API gives the fields:
the message says what the client sent.
"""

from __future__ import annotations

from typing import Any

# ------------------------------------------------------------------------------ paging
def invalid_token(token: Any) -> str:
    return f"The continuation token {token!r} is invalid"


def invalid_top(top: Any) -> str:
    return f"top must be a positive integer, not {top!r}"


# -------------------------------------------------------------------- workspaces, experiments
def workspace_not_found(subscription_id: str, resource_group: str, name: str) -> str:
    return f"Workspace {name!r} was not found in resource group {resource_group!r} of subscription {subscription_id!r}"


def workspace_id_not_found(workspace_id: str) -> str:
    return f"No workspace has the id {workspace_id!r}"


def experiment_not_found(name: str) -> str:
    return f"Experiment {name!r} was not found"


def experiment_id_not_found(experiment_id: str) -> str:
    return f"Experiment with id {experiment_id!r} was not found"


def unknown_view_type(view_type: Any, views: Any) -> str:
    return f"viewType must be one of {', '.join(views)}, not {view_type!r}"


# -------------------------------------------------------------------------------- runs
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


def unknown_event(name: Any) -> str:
    return f"amlmock does not know the run event {name!r}"


ERROR_EVENT_NEEDS_ERROR = "An Error event needs data.ErrorResponse"


# -------------------------------------------------------------------------- local runs
def not_local_run(run_id: str) -> str:
    return f"Run {run_id!r} is not a local run"


def processes_recorded(run_id: str) -> str:
    return f"The processes of run {run_id!r} are already recorded"


def invalid_pids(max_pid: int) -> str:
    return f"Process ids must be integers from 2 to {max_pid}"


NO_PROCESS_CHECK = "This amlmock backend records no process ids (it has no process check)"


# ----------------------------------------------------------------------------- metrics
def too_many_metric_rows(limit: int, rows: int) -> str:
    return f"A metric batch can hold at most {limit} rows; this one has {rows}"


def too_many_columns(name: str, limit: int) -> str:
    return f"Metric {name!r} must have at most {limit} columns"


def too_many_metric_names(run_id: str, limit: int, name: str) -> str:
    return f"Run {run_id!r} already has {limit} metric names; metric {name!r} was not stored"


def metric_not_found(name: str, run_id: str) -> str:
    return f"Metric {name!r} was not found for run {run_id!r}"


# --------------------------------------------------------------------------- artifacts
def artifact_not_found(path: str, container: str) -> str:
    return f"Artifact {path!r} was not found in container {container!r}"


def registry_container_fixed(container: str) -> str:
    return f"Container {container!r} holds the files of a registered model, which cannot change"


def invalid_artifact_path(path: Any, why: str = "is invalid") -> str:
    return f"Artifact path {path!r} {why}"


def snapshot_not_found(snapshot_id: str) -> str:
    return f"Snapshot {snapshot_id!r} was not found"


def snapshot_without_files(snapshot_id: str, missing: list[str]) -> str:
    return (
        f"amlmock has no content for {len(missing)} file(s) of snapshot {snapshot_id} ({', '.join(missing[:5])}): "
        "snapshots taken by a process that reached the fake over loopback HTTP are recorded without their files"
    )
