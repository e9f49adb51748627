"""ARM workspace look-up, the subscription list and service discovery."""

from __future__ import annotations

from typing import Any

from ..defaults import TENANT_ID
from .app import WORKSPACE_PATH, Call, Router

router = Router()

DISCOVERY_KEYS = (
    "api", "catalog", "experimentation", "gallery", "history",
    "hyperdrive", "labeling", "modelmanagement", "pipelines", "studio",
)


def _workspace_resource(call: Call, subscription_id: str, resource_group: str, workspace_name: str) -> dict[str, Any]:
    workspace = call.workspace(subscription_id, resource_group, workspace_name)
    return {
        "id": workspace.arm_id,
        "name": workspace.name,
        "type": "Microsoft.MachineLearningServices/workspaces",
        "location": workspace.location,
        "tags": {},
        "sku": {"name": "Basic", "tier": "Basic"},
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "workspaceId": workspace.workspace_id,
            "friendlyName": workspace.name,
            "discoveryUrl": call.service_base(workspace) + "/discovery",
            "provisioningState": "Succeeded",
        },
    }


@router.route(WORKSPACE_PATH, "GET")
def get_workspace(call: Call, **names: str) -> dict[str, Any]:
    """A1/A2: the workspace resource; ``discoveryUrl`` points the SDK at this fake."""
    return _workspace_resource(call, **names)


@router.route("/rp/workspaces" + WORKSPACE_PATH, "GET")
def get_workspace_data_plane(call: Call, **names: str) -> dict[str, Any]:
    """A5: the data-plane workspace look-up that ``Run.get_context()`` makes."""
    return _workspace_resource(call, **names)


@router.route("/rp/workspaces" + WORKSPACE_PATH + "/computes", "GET")
def list_compute_targets(call: Call, **names: str) -> dict[str, Any]:
    """The workspace's compute targets (``folder attach`` lists them): none, only ``local`` exists."""
    call.workspace(**names)
    return {"value": []}


@router.route("/subscriptions", "GET")
def list_subscriptions(call: Call) -> dict[str, Any]:
    """A3: the subscriptions that hold a workspace of the fake."""
    return {
        "value": [
            {
                "id": f"/subscriptions/{sub}",
                "subscriptionId": sub,
                "displayName": f"amlmock subscription {sub}",
                "state": "Enabled",
                "tenantId": TENANT_ID,
            }
            for sub in call.backend.subscriptions()
        ]
    }


@router.route("/discovery", "GET", public=True)
def discovery(call: Call) -> dict[str, str]:
    """D1: every service lives at the host that answered."""
    host = call.request.host_url.rstrip("/")
    return {key: host for key in DISCOVERY_KEYS}
