"""Run history's run-scoped artifact API (``.../runs/<run id>/artifacts...``): azureml-mlflow's artifact repository.

The files are the run's artifacts (its data container), the same ones v1 ``run.get_file_names()`` lists.
"""

from __future__ import annotations

from typing import Any

from ..backend.errors import ValidationError
from .app import WORKSPACE_PATH, Call, Router
from .artifacts import created_reply, info_with_url, requested_paths
from .wire import artifact_dto

router = Router()

RH = "/history/v1.0" + WORKSPACE_PATH
BY_NAME = RH + "/experiments/<experiment_name>/runs/<run_id>/artifacts"
BY_ID = RH + "/experimentids/<experiment_id>/runs/<run_id>/artifacts"
ORIGIN = "ExperimentRun"


def _path(call: Call) -> str:
    path = call.request.args.get("path")
    if not path:
        raise ValidationError("The query parameter 'path' is required", target="path")
    return path


@router.route(BY_NAME + "/batch/metadata", "POST")
@router.route(BY_ID + "/batch/metadata", "POST")
def create_run_artifacts(call: Call, **names: str) -> dict[str, Any]:
    """Register paths in the run's container and hand out upload URLs."""
    workspace, run = call.path_run(names)
    requested = requested_paths(call)
    created = call.backend.create_artifacts(workspace, ORIGIN, run.data_container_id, requested)
    return created_reply(call, workspace, requested, created)


@router.route(BY_NAME, "GET")
@router.route(BY_ID, "GET")
@router.route(BY_NAME + "/path", "GET")
@router.route(BY_ID + "/path", "GET")
def list_run_artifacts(call: Call, **names: str) -> dict[str, Any]:
    """The run's files (under ``path`` when given), sorted by path."""
    workspace, run = call.path_run(names)
    prefix = call.request.args.get("path") or ""
    artifacts = call.backend.list_artifacts(workspace, run.data_container_id, prefix)
    return {"value": [artifact_dto(a) for a in artifacts], "continuationToken": None}


@router.route(BY_NAME + "/contentinfo", "GET")
@router.route(BY_ID + "/contentinfo", "GET")
def get_run_artifact_content_info(call: Call, **names: str) -> dict[str, Any]:
    """The download URL of one file."""
    workspace, run = call.path_run(names)
    return info_with_url(call, workspace, call.backend.get_artifact(workspace, run.data_container_id, _path(call)))


@router.route(BY_NAME + "/metadata", "GET")
@router.route(BY_ID + "/metadata", "GET")
def get_run_artifact(call: Call, **names: str) -> dict[str, Any]:
    """One file's record."""
    workspace, run = call.path_run(names)
    return artifact_dto(call.backend.get_artifact(workspace, run.data_container_id, _path(call)))
