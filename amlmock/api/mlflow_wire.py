"""MLflow's JSON shapes (its REST API's ``Experiment``, ``Run``, ``RunInfo``, ``Metric``) of backend objects."""

from __future__ import annotations

from typing import Any, Protocol

from ..backend.models import Experiment, Run
from ..backend.tracking import MetricPoint, epoch_ms, mlflow_status, tracking_tags


class Context(Protocol):
    """What the shapes need of a request: the backend, the workspace and the host it was called on."""

    backend: Any
    workspace: Any
    call: Any


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    """An MLflow ``Experiment``."""
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": "",
        "lifecycle_stage": "deleted" if experiment.archived_time else "active",
        "creation_time": epoch_ms(experiment.created_utc),
        "last_update_time": epoch_ms(experiment.created_utc),
        "tags": [{"key": k, "value": v or ""} for k, v in experiment.tags.items()],
    }


def metric_json(point: MetricPoint) -> dict[str, Any]:
    """An MLflow ``Metric``."""
    return {"key": point.key, "value": point.value, "timestamp": point.timestamp, "step": point.step}


def artifact_uri(context: Context, run: Run) -> str:
    """Where azureml-mlflow's artifact repository finds the run's files (its ``_ARTIFACT_URI_REGEX``)."""
    return (
        f"azureml://{context.call.request.host}/mlflow/v2.0{context.workspace.arm_id}"
        f"/experiments/{run.experiment_name}/runs/{run.run_id}/artifacts"
    )


def run_info_json(context: Context, run: Run) -> dict[str, Any]:
    """An MLflow ``RunInfo``."""
    info = {
        "run_id": run.run_id,
        "run_uuid": run.run_id,
        "run_name": run.display_name or run.name or run.run_id,
        "experiment_id": run.experiment_id,
        "user_id": run.created_by.get("userName"),
        "status": mlflow_status(run),
        "start_time": epoch_ms(run.start_time_utc or run.created_utc),
        "artifact_uri": artifact_uri(context, run),
        "lifecycle_stage": "deleted" if run.deleted else "active",
    }
    if run.end_time_utc is not None:
        info["end_time"] = epoch_ms(run.end_time_utc)
    return info


def run_json(context: Context, run: Run) -> dict[str, Any]:
    """An MLflow ``Run``: its info and its data (latest metrics, params, tags)."""
    metrics = context.backend.tracking_metrics(run)
    return {
        "info": run_info_json(context, run),
        "data": {
            "metrics": [metric_json(point) for point in metrics.values()],
            "params": [{"key": k, "value": v} for k, v in run.params.items()],
            "tags": [{"key": k, "value": v} for k, v in tracking_tags(run).items()],
        },
        "inputs": {},
    }
