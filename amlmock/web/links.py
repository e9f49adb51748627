"""Where each page lives: the live server's URLs, or a static snapshot's file names."""

from __future__ import annotations

from typing import Mapping, Protocol
from urllib.parse import quote, urlencode

from ..backend.models import Workspace


class Links(Protocol):
    """The address of every page the browser links to."""

    def home(self) -> str:
        """The workspace list."""

    def workspace(self, workspace: Workspace) -> str:
        """A workspace's experiments."""

    def experiment(self, workspace: Workspace, name: str, query: Mapping[str, str] | None = None) -> str:
        """An experiment's runs, filtered and paged by ``query`` (the run list form's fields)."""

    def run(self, workspace: Workspace, run_id: str) -> str:
        """A run's page."""

    def file(self, workspace: Workspace, run_id: str, path: str) -> str:
        """One of a run's files, to download."""


PREFIX = "/browse"


class ServerLinks:
    """The live server's URLs: ``/browse/<subscription>/<group>/<workspace>/...``."""

    def home(self) -> str:
        return "/"

    def workspace(self, workspace: Workspace) -> str:
        parts = (workspace.subscription_id, workspace.resource_group, workspace.name)
        return PREFIX + "".join("/" + quote(part, safe="") for part in parts)

    def experiment(self, workspace: Workspace, name: str, query: Mapping[str, str] | None = None) -> str:
        search = "?" + urlencode({k: v for k, v in query.items() if v}) if query else ""
        return f"{self.workspace(workspace)}/experiments/{quote(name, safe='')}{search.rstrip('?')}"

    def run(self, workspace: Workspace, run_id: str) -> str:
        return f"{self.workspace(workspace)}/runs/{quote(run_id, safe='')}"

    def file(self, workspace: Workspace, run_id: str, path: str) -> str:
        return f"{self.run(workspace, run_id)}/files/{quote(path)}"
