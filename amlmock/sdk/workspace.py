"""Tracking of the SDK's Run objects (to flush and stop their metric threads); the workspace factory is ``factory.py``."""

from __future__ import annotations

import logging
import threading
import weakref
from contextlib import ExitStack
from typing import Any, Callable
from unittest import mock

from azureml._common.async_utils.batch_task_queue import BatchTaskQueue
from azureml._common.async_utils.daemon import Daemon
from azureml._run_impl.run_history_facade import RunHistoryFacade
from azureml.core import run as sdk_run

log = logging.getLogger("amlmock")

FLUSH_TIMEOUT_SECONDS = 30


def _metric_queues(metrics: Any) -> list[Any]:
    """The metric queues a ``MetricsClient`` has created (it creates them on first use)."""
    return [q for q in (metrics._task_queue_internal, metrics._task_queue_v2_internal) if q is not None]


def _flush_metric_queues(metrics: Any, timeout_seconds: int) -> None:
    for queue in _metric_queues(metrics):
        queue.flush(metrics.identity, timeout_seconds=timeout_seconds)


class RunTracker:
    """Remembers the SDK ``Run`` objects and background daemons created while the mock is active.

    Runs are flushed on demand, so queued metrics reach the fake before a test reads its state.
    Each metric queue of a Run (``BatchTaskQueue``) re-arms a 1-second timer (``Daemon``) forever:
    the tracker stops a run's queue timers once the run has ended (its ``RunHistoryFacade``
    completed, failed or was cancelled, which is also what ``with run:`` does on exit), after
    flushing them, and stops every remaining daemon when the mock stops. A value logged to an
    ended run lands in its stopped queue, which re-arms a new, tracked timer.
    """

    def __init__(self) -> None:
        self.runs: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self.daemons: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._by_id: dict[str, list["weakref.ref[Any]"]] = {}  # run id -> its SDK Run objects
        self._parked: "weakref.WeakSet[Any]" = weakref.WeakSet()  # queues whose timer was stopped at run end
        self._lock = threading.Lock()
        self._installed = False

    def install(self, stack: ExitStack) -> None:
        """Record runs and daemons, and stop ended runs' timers, from now until ``stack`` closes."""
        original_init = sdk_run.Run.__init__
        original_start = Daemon.start
        original_add_item = BatchTaskQueue.add_item
        tracker = self

        def tracking_init(run: Any, *args: Any, **kwargs: Any) -> None:
            original_init(run, *args, **kwargs)
            run_id = getattr(run, "_run_id", None)  # what Run.id returns
            with tracker._lock:
                tracker.runs.add(run)
                if run_id is not None:
                    tracker._by_id.setdefault(run_id, []).append(weakref.ref(run))

        def tracking_start(daemon: Any) -> None:
            with tracker._lock:
                tracker.daemons.add(daemon)
            original_start(daemon)

        def tracking_add_item(queue: Any, item: Any) -> None:
            original_add_item(queue, item)
            if queue in tracker._parked:  # put first: a concurrent run end either flushes it or sees it parked
                tracker._rearm(queue)

        def ending(name: str) -> Callable[..., Any]:
            original = getattr(RunHistoryFacade, name)

            def ended(client: Any, *args: Any, **kwargs: Any) -> Any:
                result = original(client, *args, **kwargs)
                tracker.run_ended(client)
                return result

            return ended

        stack.enter_context(mock.patch.object(sdk_run.Run, "__init__", tracking_init))
        stack.enter_context(mock.patch.object(Daemon, "start", tracking_start))
        stack.enter_context(mock.patch.object(BatchTaskQueue, "add_item", tracking_add_item))
        # complete() and fail() end with these two, and so does the `with run:` exit (RunStatusContext);
        # cancel() posts the event, then flushes.
        for name in ("set_completed_status", "set_failed_status", "cancel"):
            stack.enter_context(mock.patch.object(RunHistoryFacade, name, ending(name)))
        with self._lock:
            self._installed = True

    def run_ended(self, client: Any, timeout_seconds: int = FLUSH_TIMEOUT_SECONDS) -> None:
        """Stop the metric-queue timers of an ended run (its ``RunHistoryFacade``), then flush those queues.

        Only timers started while the mock is active are stopped. Parking a queue before the
        flush means a value logged concurrently is either flushed here or re-arms a timer.
        Both queues are created first, as ``complete()``'s flush does: on the failing ``with run:``
        exit the SDK sets the status before its flush, and that flush would create a missing queue
        (and a timer) after this point.
        """
        try:
            metrics = client.metrics
            for lazy in ("_task_queue", "_task_queue_v2"):  # the SDK's lazy properties create what is missing
                getattr(metrics, lazy)
            queues = _metric_queues(metrics)
            with self._lock:
                for queue in queues:
                    daemon = getattr(queue, "_daemon", None)
                    if daemon is not None and daemon in self.daemons:
                        self._parked.add(queue)
                        self.daemons.discard(daemon)
                        daemon.stop()
            _flush_metric_queues(metrics, timeout_seconds)
        except Exception as error:  # the run has ended for the SDK; a clean-up failure must not change that
            log.warning("amlmock could not stop the timers of ended run %s: %s", getattr(client, "_run_id", "?"), error)

    def _rearm(self, queue: Any) -> None:
        """Give a parked queue (its run ended, then logged again) a new, tracked timer."""
        with self._lock:
            if not self._installed or queue not in self._parked:
                return
            self._parked.discard(queue)
            old = queue._daemon
            daemon = Daemon(old.work, old.interval, _parent_logger=queue._logger, _ident=old._identity)
            self.daemons.add(daemon)
            queue._daemon = daemon
            # Arm the timer without the synchronous first round Daemon.start() would do in the caller's
            # thread: the value goes out on the next tick, as any logged value does, or at a flush.
            daemon._reset_timer(start=True)

    def stop_daemons(self) -> None:
        """Stop the SDK timers started while the mock was active."""
        with self._lock:
            self._installed = False
            daemons = list(self.daemons)
            self.daemons.clear()
            self._parked.clear()
        for daemon in daemons:
            try:
                daemon.stop()
            except Exception as error:  # one daemon that fails to stop must not keep the others going
                log.warning("amlmock could not stop an SDK daemon: %s", error)

    def flush(self, timeout_seconds: int = FLUSH_TIMEOUT_SECONDS, run_id: str | None = None) -> None:
        """Send every metric still queued in a run's background queues (only runs with ``run_id`` when given).

        Only queues that exist are flushed: ``Run.flush()`` would create two timer daemons and
        make an HTTP call for every Run object, including the many that never logged anything.
        """
        with self._lock:
            if run_id is None:
                runs = list(self.runs)
            else:
                live = [ref for ref in self._by_id.pop(run_id, []) if ref() is not None]
                if live:
                    self._by_id[run_id] = live
                runs = [run for run in (ref() for ref in live) if run is not None]
        for run in runs:
            try:
                _flush_metric_queues(run._client.metrics, timeout_seconds)
            except Exception as error:  # a run whose flush fails must not hide the others
                log.warning("amlmock could not flush run %s: %s", getattr(run, "id", "?"), error)
