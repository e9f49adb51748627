"""Workspace factory and tracking of the SDK's Run objects (to flush their metric threads)."""

from __future__ import annotations

import logging
import weakref
from contextlib import ExitStack
from typing import Any
from unittest import mock

from azureml._common.async_utils.daemon import Daemon
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


def _flush_metric_queues(run: Any, timeout_seconds: int) -> None:
    metrics = run._client.metrics
    for queue in (metrics._task_queue_internal, metrics._task_queue_v2_internal):
        if queue is not None:
            queue.flush(metrics.identity, timeout_seconds=timeout_seconds)


class RunTracker:
    """Remembers the SDK ``Run`` objects and background daemons created while the mock is active.

    Runs are flushed on demand, so queued metrics reach the fake before a test reads its state.
    Daemons (each Run's metric queues re-arm a 1-second timer forever) are stopped with the mock.
    """

    def __init__(self) -> None:
        self.runs: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self.daemons: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def install(self, stack: ExitStack) -> None:
        """Record runs and daemons from now until ``stack`` closes."""
        original_init = sdk_run.Run.__init__
        original_start = Daemon.start
        tracker = self

        def tracking_init(run: Any, *args: Any, **kwargs: Any) -> None:
            original_init(run, *args, **kwargs)
            tracker.runs.add(run)

        def tracking_start(daemon: Any) -> None:
            tracker.daemons.add(daemon)
            original_start(daemon)

        stack.enter_context(mock.patch.object(sdk_run.Run, "__init__", tracking_init))
        stack.enter_context(mock.patch.object(Daemon, "start", tracking_start))

    def stop_daemons(self) -> None:
        """Stop the SDK timers started while the mock was active."""
        for daemon in list(self.daemons):
            try:
                daemon.stop()
            except Exception as error:  # one daemon that fails to stop must not keep the others going
                log.warning("amlmock could not stop an SDK daemon: %s", error)
        self.daemons.clear()

    def flush(self, timeout_seconds: int = 30) -> None:
        """Send every metric still queued in a run's background queues.

        Only queues that exist are flushed: ``Run.flush()`` would create two timer daemons and
        make an HTTP call for every Run object, including the many that never logged anything.
        """
        for run in list(self.runs):
            try:
                _flush_metric_queues(run, timeout_seconds)
            except Exception as error:  # a run whose flush fails must not hide the others
                log.warning("amlmock could not flush run %s: %s", getattr(run, "id", "?"), error)
