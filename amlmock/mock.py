"""``mock_aml``: the moto-style switch, and the handle tests use to inspect the fake."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator, overload

from azureml.core import Experiment as SdkExperiment
from azureml.core import Run as SdkRun
from azureml.core import Workspace as SdkWorkspace

from .api import create_app
from .api.faults import FaultInjector
from .backend.models import Artifact, Experiment, Run, Workspace
from .backend.registry import RegisteredModel
from .backend.service import Backend
from .decorate import Target, decorate
from .defaults import DEFAULT_LOCATION
from .execution.processes import local_run_processes
from .execution.supervisor import stop_local_runs
from .sdk.auth import patch_auth_classes
from .sdk.context import forget_context_runs
from .sdk.factory import WorkspaceFactory
from .sdk.mlflow import tune_mlflow
from .sdk.run_context import run_context
from .sdk.tuning import tune_sdk
from .sdk.workspace import RunTracker
from .transports.responses_adapter import ResponsesTransport
from .transports.server import OnDemandServer
from .web.access import browser_url, new_token

_active_lock = threading.Lock()
_active: "AmlMock | None" = None


class AmlMock:
    """A fake Azure ML service, active between ``start()`` and ``stop()``.

    While active, every HTTP call the SDK makes in this process is answered by the fake.
    The handle creates workspaces and lets tests read the fake's state without the SDK.
    A ``backend`` given here keeps its own process check: local runs need
    ``Backend(process_check=local_run_processes)``, the one the default backend has.
    """

    def __init__(self, backend: Backend | None = None) -> None:
        self._given_backend = backend
        self.backend = backend or Backend(process_check=local_run_processes)
        self.app = create_app(self.backend, loopback=lambda: self._server.url())
        self.app.browser_token = new_token()
        self.tracker = RunTracker()
        self._factory = WorkspaceFactory(self.backend)
        self._server = OnDemandServer(self.app)
        self._stack: ExitStack | None = None

    # ------------------------------------------------------------------ activation
    @property
    def active(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._stack is not None

    def start(self) -> "AmlMock":
        """Route the SDK to the fake. Only one mock can be active at a time."""
        global _active
        with _active_lock:
            if _active is not None:
                raise RuntimeError("amlmock: a mock_aml() is already active; stop it before starting another")
            _active = self
        stack = ExitStack()
        try:
            self._activate(stack)
        except BaseException:
            stack.close()  # a step that failed half-way: what the steps before it did is undone, in the same order
            _release(self)
            raise
        self._stack = stack
        return self

    def _activate(self, stack: ExitStack) -> None:
        """Route the SDK to the fake, each step's undoing pushed on ``stack``.

        The stack closes last in, first out, so the steps are pushed in the reverse of this clean-up order:

        1. the SDK's queued metrics are flushed: they reach the fake while its transport, auth and tracker are in place;
        2. local runs are stopped (those not ended become Canceled): after the flush, and while the loopback server
           still answers their drivers;
        3. the SDK's metric timers stop: after the flush and the local runs, and before the transport is gone (a timer
           firing later would call Azure itself);
        4. ``Run.get_context()``'s cached runs are forgotten, so a later mock gets its own;
        5. MLflow's settings and caches are restored, its active runs forgotten without a call;
        6. the in-process interception (``responses``) ends: nothing in this process calls the fake any more;
        7. the ``Run`` tracking patches are undone, now that no timer runs and nothing is flushed;
        8. the SDK auth classes are restored, after the last request that needed them;
        9. the loopback server stops, once the local runs that called it are gone;
        10. the SDK settings (back-off, caches, local-run folders, ``HOME``) are restored;
        11. the private ``HOME`` is removed, last: nothing writes into it any more.
        """
        home = tempfile.mkdtemp(prefix="amlmock-home-")
        stack.callback(shutil.rmtree, home, True)  # 11
        tune_sdk(stack, home)  # 10
        stack.callback(self._server.stop)  # 9
        patch_auth_classes(stack, self.backend.subscriptions)  # 8
        self.tracker.install(stack)  # 7
        transport = ResponsesTransport(self.app)
        transport.start()
        stack.callback(transport.stop)  # 6
        tune_mlflow(stack, self._factory.named_in_tracking_uri)  # 5
        stack.callback(forget_context_runs)  # 4
        stack.callback(self.tracker.stop_daemons)  # 3
        stack.callback(stop_local_runs, self.backend)  # 2
        stack.callback(self.tracker.flush)  # 1

    def stop(self) -> None:
        """Flush the SDK's queued metrics, restore everything, forget the state.

        The state is forgotten after the clean-up (whose flush and Canceled events land in it), and the
        one-mock slot is freed last, so another mock can start only once this one has stopped.
        """
        if self._stack is None:
            return
        stack, self._stack = self._stack, None
        try:
            stack.close()
        finally:
            self.backend.reset()
            _release(self)

    def __enter__(self) -> "AmlMock":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __call__(self, target: Target) -> Target:
        """Decorate a test function (a fresh fake per call) or a class.

        On a ``unittest.TestCase`` the fake starts before ``setUp`` and stops after ``tearDown`` and
        the cleanups, once per test; on any other class every ``test*`` method is decorated. Each
        call gets a new mock; a ``backend`` given to this one is the backend of every call.
        """
        return decorate(target, self._for_one_call)

    def _for_one_call(self) -> "AmlMock":
        """A new mock for one decorated call, on this mock's backend when one was given."""
        return type(self)(backend=self._given_backend)

    @property
    def server_url(self) -> str:
        """The fake on ``http://127.0.0.1:PORT`` (started on first use), for other processes."""
        self._require_active("server_url")
        return self._server.url()

    @property
    def browser_url(self) -> str:
        """The run browser of this fake (``server_url`` with its browser token): open it to look at the state."""
        return browser_url(self.server_url, self.app.browser_token or "")

    @property
    def faults(self) -> FaultInjector:
        """Fault injection for this fake: ``aml.faults.add(operation="query_runs", status=429, times=2)``.

        Faults last until ``aml.faults.clear()`` or the end of the mock (each test's ``aml`` is new).
        """
        return self.app.faults

    # ------------------------------------------------------------------ workspaces (sdk/factory.py)
    def create_workspace(
        self,
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
        location: str = DEFAULT_LOCATION,
    ) -> Workspace:
        """Create (or find) a workspace in the fake; returns the fake's own record."""
        return self._factory.create(name, resource_group, subscription_id, location)

    def workspace(
        self,
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
        location: str = DEFAULT_LOCATION,
    ) -> SdkWorkspace:
        """A real ``azureml.core.Workspace`` bound to the fake (created when needed)."""
        self._require_active("workspace()")
        return self._factory.sdk_workspace(name, resource_group, subscription_id, location)

    def write_config(
        self,
        path: str | os.PathLike[str] = ".",
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
    ) -> str:
        """Create the workspace and write the ``config.json`` that ``Workspace.from_config()`` reads."""
        return self._factory.write_config(path, name, resource_group, subscription_id)

    @contextmanager
    def run_context(self, experiment: SdkExperiment) -> Iterator[SdkRun]:
        """Make ``Run.get_context()`` return a live run of ``experiment`` in the fake.

        The run starts Running; on exit its metrics are flushed and, as the service does when a
        job's script ends, it is marked Completed, or Failed (with the error) when the block raised.
        """
        self._require_active("run_context()")
        with run_context(self.backend, experiment) as run:
            yield run

    # ------------------------------------------------------------------ inspection
    def flush(self, run_id: str | None = None) -> None:
        """Push metrics still queued in the SDK's background threads into the fake (only ``run_id``'s when given)."""
        self.tracker.flush(run_id=run_id)

    def reset(self) -> None:
        """Forget every workspace, experiment and run."""
        self.backend.reset()

    def workspaces(self) -> list[Workspace]:
        """Every workspace of the fake."""
        return self.backend.all_workspaces()

    def experiments(self) -> list[Experiment]:
        """Every experiment of every workspace, in creation order."""
        return self.backend.all_experiments()

    def runs(self, experiment: str | None = None) -> list[Run]:
        """Every run (of one experiment, by name, when given), in creation order; flushes first."""
        self.flush()
        return self.backend.all_runs(experiment)

    def run(self, run_id: str) -> Run:
        """The fake's record of one run (status, status_history, tags, properties, metrics ...).

        Flushes that run's SDK metric queues first (not those of other runs).
        """
        self.tracker.flush(run_id=run_id)
        return self._find_run(run_id)[1]

    def metrics(self, run_id: str) -> dict[str, list[Any]]:
        """What the run logged: metric name -> its values in logging order.

        A single-column metric gives its plain values; a table gives one dict per row.
        Flushes that run's SDK metric queues first (not those of other runs).
        """
        return {
            name: [next(iter(v.data.values())) if len(v.data) == 1 and name in v.data else dict(v.data) for v in values]
            for name, values in self.backend.read_metrics(self.run(run_id)).items()
        }

    def params(self, run_id: str) -> dict[str, str]:
        """The MLflow parameters of the run: key -> value, in the order first logged."""
        return self.backend.tracking_params(self._find_run(run_id)[1])

    def artifacts(self, run_id: str) -> dict[str, bytes | None]:
        """Files stored for the run: path -> content."""
        workspace, run = self._find_run(run_id)
        found: list[Artifact] = self.backend.list_artifacts(workspace, run.data_container_id)
        return {a.path: a.content for a in found}

    def models(self, name: str | None = None) -> list[RegisteredModel]:
        """Every registered model version (of one name, when given), in registration order: ``name``, ``version``,
        ``tags``, ``properties``, ``description``, ``run_id``, ``files`` (artifact path -> content, as registered)."""
        return [m for ws in self.workspaces() for m in self.backend.registry.models(ws, name)]

    def _find_run(self, run_id: str) -> tuple[Workspace, Run]:
        return self.backend.find_run(run_id)

    def _require_active(self, what: str) -> None:
        if not self.active:
            raise RuntimeError(f"amlmock: {what} needs an active mock (use 'with mock_aml() as aml:')")


def _release(mock_instance: AmlMock) -> None:
    global _active
    with _active_lock:
        if _active is mock_instance:
            _active = None


def current_mock() -> AmlMock | None:
    """The mock that is active in this process, if any."""
    return _active


@overload
def mock_aml(target: None = None) -> AmlMock: ...


@overload
def mock_aml(target: Target) -> Target: ...


def mock_aml(target: Any = None) -> Any:
    """``with mock_aml() as aml:``, ``@mock_aml`` or ``@mock_aml()`` on a test function or class."""
    if target is None:
        return AmlMock()
    return AmlMock()(target)
