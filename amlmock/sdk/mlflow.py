"""MLflow glue: with ``azureml-mlflow`` installed, ``mlflow`` talks to the active fake with no set-up.

While the mock is active: MLflow's tracking URI defaults to the fake's default workspace, an ``azureml://``
URI set by hand resolves without Azure credentials, MLflow's telemetry is off, and MLflow's process-wide
caches (stores, service contexts, the active experiment and run) start empty and are restored afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from contextlib import ExitStack
from typing import Any, Callable
from unittest import mock

from ..defaults import DEFAULT_LOCATION, DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, DEFAULT_WORKSPACE
from .tuning import environment

# Switch MLflow's side calls off: its telemetry configuration (config.mlflow-telemetry.io).
QUIET_ENVIRONMENT = {"MLFLOW_DISABLE_TELEMETRY": "true"}
# Variables that would point MLflow elsewhere or at a stale run; they are cleared while the mock is active.
CLEARED_VARIABLES = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_TRACKING_TOKEN", "ARM_CLOUD_METADATA_URL")
# Variables MLflow itself sets or unsets while the mock is active (its telemetry client, when it starts): put back at stop.
RESTORED_VARIABLES = ("_MLFLOW_TELEMETRY_SESSION_ID",)

# azureml-mlflow downloads only from Azure's blob hosts; the fake's blob URLs have this path (api.artifacts.BLOB).
FAKE_BLOB_MARK = "/amlmockstorage/"
# Modules MLflow's REST client tries to import on every call to detect Databricks or a notebook; when they are
# not installed, each failed import searches the whole path again (the larger part of a call's cost).
PROBED_MODULES = ("dbruntime", "dbruntime.databricks_repl_context", "pyspark", "pyspark.sql", "IPython")
# Resolves (subscription, resource group, workspace) to an SDK ``Workspace`` of the fake.
WorkspaceFactory = Callable[[str, str, str], Any]


def mlflow_available() -> bool:
    """True when both ``mlflow`` and ``azureml-mlflow`` are installed."""
    try:
        return importlib.util.find_spec("mlflow") is not None and importlib.util.find_spec("azureml.mlflow") is not None
    except (ImportError, ValueError):  # ValueError: a module blocked with None in sys.modules
        return False


def tracking_uri(host: str, arm_id: str) -> str:
    """The ``azureml://`` tracking URI of a workspace, as ``Workspace.get_mlflow_tracking_uri()`` writes it."""
    return f"azureml://{host}/mlflow/v2.0{arm_id}"


def default_tracking_uri() -> str:
    """The tracking URI of the fake's default workspace."""
    arm_id = (
        f"/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/{DEFAULT_RESOURCE_GROUP}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{DEFAULT_WORKSPACE}"
    )
    return tracking_uri(f"{DEFAULT_LOCATION}.api.azureml.ms", arm_id)


def tune_mlflow(stack: ExitStack, workspace_for: WorkspaceFactory) -> None:
    """Until ``stack`` closes, route MLflow to the fake (nothing happens when MLflow is not installed).

    ``workspace_for`` gives the SDK workspace an ``azureml://`` URI names; it is asked only for URIs that no
    ``Workspace.get_mlflow_tracking_uri()`` call has registered yet.
    """
    stack.callback(_restore_variables, {name: os.environ.get(name) for name in RESTORED_VARIABLES})  # before the import
    if not mlflow_available():
        return
    import mlflow.tracking.fluent as fluent
    from azureml.mlflow._internal import service_context_loader
    from azureml.mlflow._internal.utils import tracking_uri_decomp
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved = {name: os.environ.pop(name) for name in CLEARED_VARIABLES if name in os.environ}
    stack.callback(os.environ.update, saved)
    stack.enter_context(environment({**QUIET_ENVIRONMENT, "MLFLOW_TRACKING_URI": default_tracking_uri()}))
    stack.enter_context(mock.patch.object(tracking_utils, "_tracking_uri", None))
    stack.enter_context(mock.patch.object(fluent, "_active_experiment_id", None))
    loader = service_context_loader._AzureMLServiceContextLoader
    stack.enter_context(mock.patch.object(loader, "_tracking_uri_to_service_context", {}))
    resolve = _resolver(workspace_for, tracking_uri_decomp)
    stack.enter_context(mock.patch.object(service_context_loader, "get_service_context_from_tracking_url_default_auth", resolve))
    from azureml.mlflow._client.artifact._utils import blob_artifact_util

    matches_blob = blob_artifact_util.is_source_uri_matches_storage_blob
    fake_blobs_too = lambda uri, **kwargs: FAKE_BLOB_MARK in uri or matches_blob(uri, **kwargs)  # noqa: E731
    stack.enter_context(mock.patch.object(blob_artifact_util, "is_source_uri_matches_storage_blob", fake_blobs_too))
    _fail_fast(stack)
    _forget_stores()
    stack.callback(_forget_stores)
    stack.callback(_end_active_runs, fluent)


def _resolver(workspace_for: WorkspaceFactory, decompose: Callable[[str, bool], dict[str, str]]) -> Callable[[Any], Any]:
    def service_context_of(parsed_url: Any) -> Any:
        """The service context of the fake's workspace named in the URI (no Azure credentials)."""
        names = decompose(parsed_url.path, False)
        return workspace_for(names["sub-id"], names["res-grp"], names["ws-name"]).service_context

    return service_context_of


def _restore_variables(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _fail_fast(stack: ExitStack) -> None:
    """Until ``stack`` closes, importing a probed module that is not installed fails at once (``None`` in ``sys.modules``)."""
    absent = [name for name in PROBED_MODULES if name not in sys.modules and _not_installed(name)]
    for name in absent:
        sys.modules[name] = None  # type: ignore[assignment]  # None: "import name" raises ModuleNotFoundError
    stack.callback(_forget_absent, absent)


def _forget_absent(names: list[str]) -> None:
    """Remove the markers (only: ``sys.modules`` keeps every module imported meanwhile)."""
    for name in names:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]


def _not_installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name.split(".")[0]) is None
    except (ImportError, ValueError):
        return True


def _forget_stores() -> None:
    """Drop MLflow's cached stores: they hold the service context (and host) of an earlier mock."""
    from mlflow.tracking._tracking_service import utils as tracking_utils

    tracking_utils._tracking_store_registry._get_store_with_resolved_uri.cache_clear()


def _end_active_runs(fluent: Any) -> None:
    """Forget runs a test left active (their state goes with the mock), without calling any service."""
    fluent._active_run_stack.set([])
    fluent._last_active_run_id.set(None)
