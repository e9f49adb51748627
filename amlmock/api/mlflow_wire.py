"""MLflow's JSON shapes (its REST API's ``Experiment``, ``Run``, ``RunInfo``, ``Metric``, ``ModelVersion``,
``RegisteredModel``) of backend objects."""

from __future__ import annotations

from typing import Any, Protocol

from ..backend.models import DEFAULT_USER, Experiment, Run
from ..backend.registry import RegisteredModel
from .models import ASSET_URL
from .run_artifacts import ORIGIN
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


def model_source(model: RegisteredModel) -> str:
    """Where a version's files came from: ``runs:/<run>/<path>`` for a run's, else the artifact prefix
    (``azureml://artifacts/<origin>/<container>/<path>``, as azureml-mlflow names a local upload)."""
    sources = model.asset.sources
    if len(sources) != 1:
        return ASSET_URL + model.asset.asset_id
    source = sources[0]
    if model.asset.run_id and source.origin == ORIGIN:
        return f"runs:/{model.asset.run_id}/{source.path.rstrip('/')}"
    return f"azureml://artifacts/{source.origin}/{source.container}/{source.path.rstrip('/')}"


def model_version_json(model: RegisteredModel) -> dict[str, Any]:
    """An MLflow ``ModelVersion`` of one registered version (stages are not kept: always ``None``)."""
    return {
        "name": model.name,
        "version": str(model.version),
        "creation_timestamp": epoch_ms(model.created_utc),
        "last_updated_timestamp": epoch_ms(model.modified_utc),
        "user_id": DEFAULT_USER["userName"],
        "current_stage": "None",
        "description": model.description or "",
        "source": model_source(model),
        "run_id": model.run_id or "",
        "status": "READY",
        "tags": [{"key": k, "value": v or ""} for k, v in model.tags.items()],
        "aliases": [],
    }


def registered_model_json(versions: list[RegisteredModel]) -> dict[str, Any]:
    """An MLflow ``RegisteredModel``: a name of the v1 registry, with its newest version as the latest."""
    newest = max(versions, key=lambda m: m.version)
    return {
        "name": newest.name,
        "creation_timestamp": epoch_ms(min(m.created_utc for m in versions)),
        "last_updated_timestamp": epoch_ms(max(m.modified_utc for m in versions)),
        "description": "",
        "latest_versions": [model_version_json(newest)],
        "tags": [],
        "aliases": [],
    }
