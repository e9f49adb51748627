"""The environment a run's own process sees on the service, for ``Run.get_context()``."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..backend.models import Run, Workspace
from ..run_variables import run_context_variables
from ..tokens import run_token


def run_environment(workspace: Workspace, run: Run, service_base: str, key: bytes | None = None) -> dict[str, str]:
    """The variables that make ``Run.get_context()`` return ``run`` instead of an offline run (its run token
    signed with ``key``, the serving app's, when given)."""
    token, expiry = run_token(run.run_id, workspace.workspace_id, key)
    context = run_context_variables(
        subscription_id=workspace.subscription_id,
        resource_group=workspace.resource_group,
        workspace_name=workspace.name,
        workspace_id=workspace.workspace_id,
        experiment_name=run.experiment_name,
        experiment_id=run.experiment_id,
        run_id=run.run_id,
        token=token,
        token_expiry=expiry,
        service_endpoint=service_base,
        discovery_endpoint=service_base + "/discovery",
    )
    return {**context, **mlflow_environment(workspace, run, service_base, token)}


def mlflow_environment(workspace: Workspace, run: Run, service_base: str, token: str) -> dict[str, str]:
    """What the service's job set-up gives MLflow (``azureml.mlflow._setup_remote`` and the run's token), so
    ``mlflow.log_metric`` with no set-up lands in ``run``."""
    host = urlsplit(service_base).netloc
    return {
        "MLFLOW_TRACKING_URI": f"azureml://{host}/mlflow/v2.0{workspace.arm_id}?&is-remote=True",
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_RUN_ID": run.run_id,
        "MLFLOW_EXPERIMENT_NAME": run.experiment_name,
        "MLFLOW_EXPERIMENT_ID": run.experiment_id,
    }
