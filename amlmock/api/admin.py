"""amlmock's own admin API (not part of Azure ML): inspect, seed and reset the fake's state."""

from __future__ import annotations

from typing import Any

from ..backend.errors import ValidationError
from ..backend.models import Workspace
from ..defaults import DEFAULT_LOCATION
from .access import ADMIN_PREFIX
from .app import Call, Router
from .models import model_dto
from .wire import run_dto

router = Router()

ADMIN = ADMIN_PREFIX


def _workspace_summary(call: Call, workspace: Workspace, with_runs: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "subscriptionId": workspace.subscription_id,
        "resourceGroup": workspace.resource_group,
        "name": workspace.name,
        "location": workspace.location,
        "workspaceId": workspace.workspace_id,
        "experiments": [e.name for e in call.backend.list_experiments(workspace)],
    }
    if with_runs:
        summary["runs"] = [run_dto(run) for run in call.backend.list_runs(workspace)]
        summary["models"] = [model_dto(model) for model in call.backend.registry.models(workspace)]
    return summary


@router.route(ADMIN + "/state", "GET")
def state(call: Call) -> dict[str, Any]:
    """Every workspace with its experiments (and runs and registered models, unless ``?runs=false``)."""
    with_runs = call.request.args.get("runs", "true").lower() != "false"
    with call.backend.exclusively():  # one consistent view of the whole state
        return {"workspaces": [_workspace_summary(call, ws, with_runs) for ws in call.backend.all_workspaces()]}


@router.route(ADMIN + "/workspaces", "POST")
def create_workspace(call: Call) -> dict[str, Any]:
    """Create a workspace: ``{subscriptionId, resourceGroup, name[, location]}``."""
    body = call.json_object()
    missing = [key for key in ("subscriptionId", "resourceGroup", "name") if not isinstance(body.get(key), str) or not body[key]]
    if missing:
        raise ValidationError(f"Missing or empty: {', '.join(missing)}", target=missing[0])
    location = body.get("location") or DEFAULT_LOCATION
    if not isinstance(location, str):
        raise ValidationError("location must be a string", target="location")
    workspace = call.backend.create_workspace(body["subscriptionId"], body["resourceGroup"], body["name"], location)
    return _workspace_summary(call, workspace, with_runs=False)


@router.route(ADMIN + "/reset", "POST")
def reset(call: Call) -> dict[str, Any]:
    """Forget every workspace, experiment and run."""
    call.backend.reset()
    return {"workspaces": []}
