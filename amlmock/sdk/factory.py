"""The workspace factory: workspaces of the fake, the SDK ``Workspace`` objects bound to them, their ``config.json``."""

from __future__ import annotations

import json
import os

from azureml.core import Workspace as SdkWorkspace

from ..backend.models import Workspace
from ..backend.service import Backend
from ..defaults import DEFAULT_LOCATION, DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, DEFAULT_WORKSPACE
from .auth import OfflineAuthentication


def sdk_workspace(workspace: Workspace) -> SdkWorkspace:
    """A real ``azureml.core.Workspace`` bound to ``workspace`` of the fake."""
    return SdkWorkspace(
        workspace.subscription_id, workspace.resource_group, workspace.name, auth=OfflineAuthentication()
    )


class WorkspaceFactory:
    """Creates (or finds) workspaces in ``backend``; a name not given is the fake's default one."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def create(
        self,
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
        location: str = DEFAULT_LOCATION,
    ) -> Workspace:
        """The fake's own record of the workspace, created when it does not exist."""
        return self.backend.create_workspace(
            subscription_id or DEFAULT_SUBSCRIPTION,
            resource_group or DEFAULT_RESOURCE_GROUP,
            name or DEFAULT_WORKSPACE,
            location,
        )

    def sdk_workspace(
        self,
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
        location: str = DEFAULT_LOCATION,
    ) -> SdkWorkspace:
        """A real ``azureml.core.Workspace`` bound to the fake (the workspace is created when needed)."""
        return sdk_workspace(self.create(name, resource_group, subscription_id, location))

    def named_in_tracking_uri(self, subscription_id: str, resource_group: str, name: str) -> SdkWorkspace:
        """The workspace an ``azureml://`` tracking URI names: an existing one, or the default one (created)."""
        default = (DEFAULT_SUBSCRIPTION, DEFAULT_RESOURCE_GROUP, DEFAULT_WORKSPACE)
        if (subscription_id, resource_group, name) != default:
            self.backend.get_workspace(subscription_id, resource_group, name)  # NotFoundError when it does not exist
        return self.sdk_workspace(name, resource_group, subscription_id)

    def write_config(
        self,
        path: str | os.PathLike[str] = ".",
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
    ) -> str:
        """Create the workspace and write the ``config.json`` that ``Workspace.from_config()`` reads; returns its path."""
        workspace = self.create(name, resource_group, subscription_id)
        config = {
            "subscription_id": workspace.subscription_id,
            "resource_group": workspace.resource_group,
            "workspace_name": workspace.name,
        }
        os.makedirs(path, exist_ok=True)
        config_path = os.path.join(os.fspath(path), "config.json")
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)
        return config_path
