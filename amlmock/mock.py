"""``mock_aml``: the moto-style switch, and the handle tests use to inspect the fake."""

from __future__ import annotations

import functools
import inspect
import json
import os
import shutil
import tempfile
import threading
import unittest
import uuid
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterator, TypeVar, overload

from azureml.core import Experiment as SdkExperiment
from azureml.core import Run as SdkRun
from azureml.core import Workspace as SdkWorkspace

from .api import create_app
from .api.app import regional_base
from .api.faults import FaultInjector
from .backend.lifecycle import EVENT_PREFIX, is_terminal
from .backend.models import Artifact, Experiment, Run, Workspace
from .backend.registry import RegisteredModel
from .backend.service import Backend
from .backend.values import RunEvent, RunFields
from .sdk.auth import patch_auth_classes
from .defaults import DEFAULT_LOCATION, DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, DEFAULT_WORKSPACE
from .execution.environment import run_environment
from .execution.processes import local_run_processes
from .sdk.context import forget_context_runs
from .sdk.mlflow import tune_mlflow
from .sdk.tuning import environment, tune_sdk
from .execution.supervisor import stop_local_runs
from .sdk.workspace import RunTracker, sdk_workspace
from .transports.responses_adapter import ResponsesTransport
from .transports.server import LoopbackServer
from .web.access import browser_url, new_token


Target = TypeVar("Target", bound=Callable[..., Any])

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
        self.app = create_app(self.backend, loopback=self._loopback_url)
        self.app.browser_token = new_token()
        self.tracker = RunTracker()
        self._stack: ExitStack | None = None
        self._server: LoopbackServer | None = None
        self._server_lock = threading.Lock()

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
            home = tempfile.mkdtemp(prefix="amlmock-home-")
            stack.callback(shutil.rmtree, home, True)
            tune_sdk(stack, home)
            stack.callback(self._stop_server)
            patch_auth_classes(stack, self.backend.subscriptions)
            self.tracker.install(stack)
            transport = ResponsesTransport(self.app)
            transport.start()
            stack.callback(transport.stop)
            tune_mlflow(stack, self._mlflow_workspace)
            stack.callback(forget_context_runs)
            stack.callback(self.tracker.stop_daemons)
            stack.callback(stop_local_runs, self.backend)
            stack.callback(self.tracker.flush)  # closes first: queued metrics reach the fake
        except BaseException:
            stack.close()
            _release(self)
            raise
        self._stack = stack
        return self

    def stop(self) -> None:
        """Flush the SDK's queued metrics, restore everything, forget the state."""
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
        if inspect.isclass(target):
            if issubclass(target, unittest.TestCase):
                return self._decorate_test_case(target)  # type: ignore[return-value]
            for name, member in list(vars(target).items()):
                if name.startswith("test") and callable(member):
                    setattr(target, name, self.__call__(member))
            return target
        if inspect.iscoroutinefunction(target):

            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._for_one_call():
                    return await target(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(target)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._for_one_call():
                return target(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _for_one_call(self) -> "AmlMock":
        """A new mock for one decorated call, on this mock's backend when one was given."""
        return type(self)(backend=self._given_backend)

    def _decorate_test_case(self, case: type[unittest.TestCase]) -> type[unittest.TestCase]:
        if getattr(case, "_amlmock_decorated", False):  # a decorated base class already starts it
            return case
        original_set_up = case.setUp
        factory = self._for_one_call

        def setUp(test: unittest.TestCase) -> None:  # noqa: N802 (unittest's name)
            mock_instance = factory().start()
            test.addCleanup(mock_instance.stop)  # the first cleanup added runs last, after tearDown
            original_set_up(test)

        case.setUp = setUp  # type: ignore[method-assign]
        case._amlmock_decorated = True  # type: ignore[attr-defined]
        return case

    @property
    def server_url(self) -> str:
        """The fake on ``http://127.0.0.1:PORT`` (started on first use), for other processes."""
        self._require_active("server_url")
        return self._loopback_url()

    @property
    def browser_url(self) -> str:
        """The run browser of this fake (``server_url`` with its browser token): open it to look at the state."""
        return browser_url(self.server_url, self.app.browser_token or "")

    def _loopback_url(self) -> str:
        with self._server_lock:
            if self._server is None:
                self._server = LoopbackServer(self.app).start()
            return self._server.url

    def _stop_server(self) -> None:
        with self._server_lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()

    @property
    def faults(self) -> FaultInjector:
        """Fault injection for this fake: ``aml.faults.add(operation="query_runs", status=429, times=2)``.

        Faults last until ``aml.faults.clear()`` or the end of the mock (each test's ``aml`` is new).
        """
        return self.app.faults

    # ------------------------------------------------------------------ workspaces
    def create_workspace(
        self,
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
        location: str = DEFAULT_LOCATION,
    ) -> Workspace:
        """Create (or find) a workspace in the fake; returns the fake's own record."""
        return self.backend.create_workspace(
            subscription_id or DEFAULT_SUBSCRIPTION,
            resource_group or DEFAULT_RESOURCE_GROUP,
            name or DEFAULT_WORKSPACE,
            location,
        )

    def workspace(
        self,
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
        location: str = DEFAULT_LOCATION,
    ) -> SdkWorkspace:
        """A real ``azureml.core.Workspace`` bound to the fake (created when needed)."""
        self._require_active("workspace()")
        return sdk_workspace(self.create_workspace(name, resource_group, subscription_id, location))

    def _mlflow_workspace(self, subscription_id: str, resource_group: str, name: str) -> SdkWorkspace:
        """The workspace an ``azureml://`` tracking URI names: an existing one, or the default one (created)."""
        default = (DEFAULT_SUBSCRIPTION, DEFAULT_RESOURCE_GROUP, DEFAULT_WORKSPACE)
        if (subscription_id, resource_group, name) != default:
            self.backend.get_workspace(subscription_id, resource_group, name)  # NotFoundError when it does not exist
        return self.workspace(name, resource_group, subscription_id)

    def write_config(
        self,
        path: str | os.PathLike[str] = ".",
        name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
    ) -> str:
        """Create the workspace and write the ``config.json`` that ``Workspace.from_config()`` reads."""
        workspace = self.create_workspace(name, resource_group, subscription_id)
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

    @contextmanager
    def run_context(self, experiment: SdkExperiment) -> Iterator[SdkRun]:
        """Make ``Run.get_context()`` return a live run of ``experiment`` in the fake.

        The run starts Running; on exit its metrics are flushed and, as the service does when a
        job's script ends, it is marked Completed, or Failed (with the error) when the block raised.
        """
        self._require_active("run_context()")
        sdk_ws = experiment.workspace
        workspace = self.backend.get_workspace(sdk_ws.subscription_id, sdk_ws.resource_group, sdk_ws.name)
        fake_experiment = self.backend.create_experiment(workspace, experiment.name)
        run_id = f"{experiment.name[:40]}_{uuid.uuid4().hex[:12]}"
        fields = RunFields(name=run_id, target="local", run_type="azureml.scriptrun")
        run = self.backend.create_or_update_run(workspace, fake_experiment, run_id, fields)
        self.backend.post_event(run, RunEvent(EVENT_PREFIX + "Start", {"RunId": run_id}))
        with environment(run_environment(workspace, run, regional_base(workspace.location))):
            context_run = SdkRun.get_context(allow_offline=False)
            outcome = "Completed"
            try:
                yield context_run
            except BaseException as error:
                outcome = "Failed"
                message = f"User program failed with {type(error).__name__}: {error}"
                error_response = {"error": {"code": "UserError", "message": message}}
                self.backend.post_event(run, RunEvent(EVENT_PREFIX + "Error", {"ErrorResponse": error_response}, error_response, message))
                raise
            finally:
                context_run.flush()
                if not is_terminal(run.status):
                    self.backend.post_event(run, RunEvent(EVENT_PREFIX + outcome, {"RunId": run_id}))
                forget_context_runs()

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
