"""The environment a run's own process sees on the service, for ``Run.get_context()``."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..backend.models import Run, Workspace
from ..tokens import run_token


def run_environment(workspace: Workspace, run: Run, service_base: str, key: bytes | None = None) -> dict[str, str]:
    """The variables that make ``Run.get_context()`` return ``run`` instead of an offline run (its run token
    signed with ``key``, the serving app's, when given)."""
    token, expiry = run_token(run.run_id, workspace.workspace_id, key)
    return {
        "AZUREML_ARM_SUBSCRIPTION": workspace.subscription_id,
        "AZUREML_ARM_RESOURCEGROUP": workspace.resource_group,
        "AZUREML_ARM_WORKSPACE_NAME": workspace.name,
        "AZUREML_ARM_PROJECT_NAME": run.experiment_name,
        "AZUREML_EXPERIMENT_ID": run.experiment_id,
        "AZUREML_WORKSPACE_ID": workspace.workspace_id,
        "AZUREML_RUN_ID": run.run_id,
        "AZUREML_RUN_TOKEN": token,
        "AZUREML_RUN_TOKEN_EXPIRY": str(int(expiry.timestamp())),
        "AZUREML_SERVICE_ENDPOINT": service_base,
        "AZUREML_DISCOVERY_SERVICE_ENDPOINT": service_base + "/discovery",
        **mlflow_environment(workspace, run, service_base, token),
    }


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
