"""Workspace factory and tracking of the SDK's Run objects (to flush their metric threads)."""

from __future__ import annotations

import logging
import weakref
from contextlib import ExitStack
from typing import Any
from unittest import mock

from azureml.core import Workspace as SdkWorkspace
from azureml.core import run as sdk_run

from ..backend.models import Workspace
from .auth import OfflineAuthentication

log = logging.getLogger("amlmock")


def sdk_workspace(workspace: Workspace) -> SdkWorkspace:
    """A real ``azureml.core.Workspace`` bound to ``workspace`` of the fake."""
    return SdkWorkspace(
        workspace.subscription_id, workspace.resource_group, workspace.name, auth=OfflineAuthentication()
    )


class RunTracker:
    """Remembers every SDK ``Run`` built while the mock is active, to flush them on demand."""

    def __init__(self) -> None:
        self.runs: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def install(self, stack: ExitStack) -> None:
        """Record runs from now until ``stack`` closes."""
        original_init = sdk_run.Run.__init__
        tracker = self

        def tracking_init(run: Any, *args: Any, **kwargs: Any) -> None:
            original_init(run, *args, **kwargs)
            tracker.runs.add(run)

        stack.enter_context(mock.patch.object(sdk_run.Run, "__init__", tracking_init))

    def flush(self, timeout_seconds: int = 30) -> None:
        """Send every metric still queued in a run's background thread."""
        for run in list(self.runs):
            try:
                run.flush(timeout_seconds=timeout_seconds)
            except Exception as error:  # a run whose flush fails must not hide the others
                log.warning("amlmock could not flush run %s: %s", getattr(run, "id", "?"), error)
