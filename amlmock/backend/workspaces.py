"""Workspaces and experiments: create, find, list, tag, archive and query."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .. import defaults
from . import limits, messages
from .errors import NotFoundError, ValidationError
from .locking import locked
from .models import Experiment, Run, Workspace, is_experiment_filter_field, new_id, workspace_key
from .paging import Page, offset_page, page_size
from .filter_parser import Node, parse_filter
from .query import evaluate
from .times import utcnow
from .state import BackendState
from .values import PageRequest

EXPERIMENT_VIEWS: dict[str, Callable[[Experiment], bool]] = {
    "ActiveOnly": lambda e: e.archived_time is None,
    "ArchivedOnly": lambda e: e.archived_time is not None,
    "All": lambda e: True,
}


class WorkspaceOperations(BackendState):
    """Workspaces and their experiments."""

    @locked
    def create_workspace(
        self, subscription_id: str, resource_group: str, name: str, location: str = defaults.DEFAULT_LOCATION
    ) -> Workspace:
        """Create the workspace, or return it when it exists already."""
        key = workspace_key(subscription_id, resource_group, name)
        if key not in self._workspaces:
            self._workspaces[key] = Workspace(subscription_id, resource_group, name, location, new_id())
            self._changes.workspace(self._workspaces[key])
        return self._workspaces[key]

    @locked
    def get_workspace(self, subscription_id: str, resource_group: str, name: str) -> Workspace:
        """The workspace, or NotFoundError."""
        workspace = self._workspaces.get(workspace_key(subscription_id, resource_group, name))
        if workspace is None:
            raise NotFoundError(messages.workspace_not_found(subscription_id, resource_group, name), target="workspace")
        return workspace

    @locked
    def workspace_by_id(self, workspace_id: str) -> Workspace:
        """The workspace with this workspace id (blob URLs carry it), or NotFoundError."""
        for workspace in self._workspaces.values():
            if workspace.workspace_id == workspace_id:
                return workspace
        raise NotFoundError(messages.workspace_id_not_found(workspace_id), target="workspaceId")

    @locked
    def subscriptions(self) -> list[str]:
        """Every subscription that holds a workspace."""
        return sorted({ws.subscription_id for ws in self._workspaces.values()})

    @locked
    def list_workspaces(self) -> list[Workspace]:
        """Every workspace, by subscription, resource group and name."""
        return [self._workspaces[key] for key in sorted(self._workspaces)]

    @locked
    def list_experiments(self, workspace: Workspace) -> list[Experiment]:
        """Every experiment of the workspace (archived ones too), oldest first."""
        return list(workspace.experiments.values())

    @locked
    def list_runs(self, workspace: Workspace) -> list[Run]:
        """Every run of the workspace, in creation order."""
        return list(workspace.runs.values())

    @locked
    def get_experiment(self, workspace: Workspace, name: str) -> Experiment:
        """The experiment by name, or NotFoundError."""
        experiment = workspace.experiments.get(name)
        if experiment is None:
            raise NotFoundError(messages.experiment_not_found(name), target="experimentName")
        return experiment

    @locked
    def create_experiment(self, workspace: Workspace, name: str) -> Experiment:
        """Create the experiment, or return it when it exists already."""
        limits.check_experiment_name(name)
        if name not in workspace.experiments:
            workspace.add_experiment(Experiment(new_id(), name, utcnow()))
            self._changes.experiment(workspace.experiments[name])
        return workspace.experiments[name]

    @locked
    def get_experiment_by_id(self, workspace: Workspace, experiment_id: str) -> Experiment:
        """The experiment by id, or NotFoundError."""
        experiment = workspace.experiment_by_id(experiment_id)
        if experiment is None:
            raise NotFoundError(messages.experiment_id_not_found(experiment_id), target="experimentId")
        return experiment

    @locked
    def update_experiment(
        self, experiment: Experiment, tags: Mapping[str, Any] | None = None, archive: bool | None = None
    ) -> Experiment:
        """Merge tags and/or archive or restore the experiment."""
        if tags is not None:
            merged = {**experiment.tags, **tags}
            limits.check_string_map(
                "tags", merged, max_entries=limits.MAX_TAGS, max_key=limits.MAX_EXPERIMENT_TAG_KEY_LENGTH
            )
            experiment.tags = merged
        if archive is not None:
            experiment.archived_time = utcnow() if archive else None
        self._changes.experiment(experiment)
        return experiment

    def query_experiments(self, workspace: Workspace, view_type: str, request: PageRequest) -> Page:
        """Experiments by view type (ActiveOnly, ArchivedOnly, All) and filter, oldest first.

        The filter is parsed before the lock is taken: a slow parse never holds up other requests.
        """
        if view_type not in EXPERIMENT_VIEWS:
            raise ValidationError(messages.unknown_view_type(view_type, EXPERIMENT_VIEWS), target="viewType")
        in_view = EXPERIMENT_VIEWS[view_type]
        predicate = checked_filter(request.filter, is_experiment_filter_field)
        size = page_size(request.top)
        with self._lock:
            matches = [
                e for e in workspace.experiments.values() if in_view(e) and (predicate is None or evaluate(predicate, e))
            ]
            return offset_page(matches, request.token, size)


def checked_filter(text: str | None, known_field: Callable[[str], bool]) -> Node | None:
    """A query's ``filter`` (None when absent): at most ``MAX_FILTER_LENGTH`` characters that parse."""
    if text is None or text == "":
        return None
    limits.check_length("filter", text, limits.MAX_FILTER_LENGTH)
    return parse_filter(text, known_field)
