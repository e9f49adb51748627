"""The ``AZUREML_*`` variables that make ``Run.get_context()`` return a live run, as the service sets them
for a job: one table for the fake (``execution.environment``) and for verified mode (``verified``). A leaf."""

from __future__ import annotations

from datetime import datetime


def run_context_variables(
    *,
    subscription_id: str,
    resource_group: str,
    workspace_name: str,
    workspace_id: str,
    experiment_name: str,
    experiment_id: str,
    run_id: str,
    token: str,
    token_expiry: datetime,
    service_endpoint: str,
    discovery_endpoint: str,
) -> dict[str, str]:
    """The run context of ``run_id`` in its workspace and experiment, reached at ``service_endpoint``."""
    return {
        "AZUREML_ARM_SUBSCRIPTION": subscription_id,
        "AZUREML_ARM_RESOURCEGROUP": resource_group,
        "AZUREML_ARM_WORKSPACE_NAME": workspace_name,
        "AZUREML_ARM_PROJECT_NAME": experiment_name,
        "AZUREML_EXPERIMENT_ID": experiment_id,
        "AZUREML_WORKSPACE_ID": workspace_id,
        "AZUREML_RUN_ID": run_id,
        "AZUREML_RUN_TOKEN": token,
        "AZUREML_RUN_TOKEN_EXPIRY": str(int(token_expiry.timestamp())),
        "AZUREML_SERVICE_ENDPOINT": service_endpoint,
        "AZUREML_DISCOVERY_SERVICE_ENDPOINT": discovery_endpoint,
    }
