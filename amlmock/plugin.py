"""The pytest plugin (registered through the ``pytest11`` entry point).

Fixtures: ``aml`` (a fresh, active fake per test), ``aml_workspace``, ``aml_experiment``,
``aml_run_context`` and ``aml_server``. The SDK is imported only when a test asks for one of them.

Options (see ``docs/fidelity.md``):

* ``--aml-validate`` (or ``AMLMOCK_VALIDATE=1``): every request the fake answers, and its response,
  is checked against the REST specs and the SDK's models; a mismatch fails the test at teardown.
* ``--aml-real`` (with ``--aml-config PATH``): verified mode. ``aml_workspace``, ``aml_experiment``
  and ``aml_run_context`` use the real workspace of a ``config.json``; tests that need the fake
  (the ``aml`` or ``aml_server`` fixture, or the ``aml_fake_only`` marker) are skipped.
"""

from __future__ import annotations

import importlib.util
import os
import re
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, ContextManager, Generator, Iterator

import pytest

from . import browse

if TYPE_CHECKING:
    from azureml.core import Experiment, Run, Workspace

    from .fidelity.conformance import ConformanceReport
    from .mock import AmlMock

EXPERIMENT_NAME_LIMIT = 100
VALIDATE_ENV = "AMLMOCK_VALIDATE"
FAKE_ONLY_MARKER = "aml_fake_only"
FAKE_FIXTURES = ("aml", "aml_server")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("amlmock", "amlmock (fake Azure ML service)")
    group.addoption(
        "--aml-validate",
        action="store_true",
        help="check every request the fake answers, and its response, against the REST specs and the "
        f"SDK's models; a mismatch fails the test (also {VALIDATE_ENV}=1)",
    )
    group.addoption(
        "--aml-real",
        action="store_true",
        help="verified mode: aml_workspace, aml_experiment and aml_run_context use a real workspace "
        "(Workspace.from_config()); tests that need the fake are skipped",
    )
    group.addoption(
        "--aml-config",
        metavar="PATH",
        help="the config.json (or a directory holding it) of the real workspace for --aml-real; "
        "default: searched from the directory pytest was started in",
    )
    browse.add_option(group)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FAKE_ONLY_MARKER}: the test needs amlmock's fake service (its handle, fault injection, "
        "behaviour only the fake has); skipped under --aml-real",
    )
    if validation_enabled(config) and real_mode(config):
        raise pytest.UsageError("--aml-validate checks the fake's traffic: it cannot be combined with --aml-real")
    if validation_enabled(config) and importlib.util.find_spec("jsonschema") is None:
        raise pytest.UsageError("--aml-validate needs jsonschema: pip install 'amlmock[test]'")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    browse.record_outcome(item, outcome.get_result())


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in browse.summary(config):
        terminalreporter.write_line(line)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if real_mode(config):
        return [f"amlmock: verified mode, real workspace from {real_config_path(config)}"]
    if validation_enabled(config):
        from .fidelity.specs import specs_available, specs_dir

        found = f"the REST specs in {specs_dir()}" if specs_available() else f"no REST specs (none in {specs_dir()})"
        return [f"amlmock: validating the fake's traffic against {found} and the SDK's models (--aml-validate)"]
    return []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not real_mode(config):
        return
    for item in items:
        reason = fake_only_reason(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"{reason}: skipped under --aml-real"))


def real_mode(config: pytest.Config) -> bool:
    """True under ``--aml-real``."""
    return bool(config.getoption("aml_real"))


def validation_enabled(config: pytest.Config) -> bool:
    """True under ``--aml-validate`` or ``AMLMOCK_VALIDATE=1``."""
    return bool(config.getoption("aml_validate")) or os.environ.get(VALIDATE_ENV, "").lower() in ("1", "true", "yes")


def real_config_path(config: pytest.Config) -> Path:
    """``--aml-config``, relative to the directory pytest was started in (that directory by default)."""
    start = config.invocation_params.dir
    option = config.getoption("aml_config")
    return (start / option).resolve() if option else start


def fake_only_reason(item: pytest.Item) -> str | None:
    """Why a test needs the fake (its marker, or a fixture only the fake has), or None."""
    if item.get_closest_marker(FAKE_ONLY_MARKER):
        return f"marked {FAKE_ONLY_MARKER}"
    fixtures = [name for name in FAKE_FIXTURES if name in getattr(item, "fixturenames", ())]
    return f"uses the fake's fixture {fixtures[0]!r}" if fixtures else None


@pytest.fixture
def aml(request: pytest.FixtureRequest) -> Iterator["AmlMock"]:
    """An active fake Azure ML service, empty at the start of each test and gone after it."""
    if real_mode(request.config):
        pytest.skip("the aml fixture is the fake's handle: skipped under --aml-real")
    from .mock import AmlMock

    handle = AmlMock()
    with ExitStack() as stack:
        report = stack.enter_context(_validating(handle)) if validation_enabled(request.config) else None
        stack.enter_context(handle)  # stops (and flushes the SDK) before the validation ends
        yield handle
        browse.snapshot_if_failed(request, handle)
    if report is not None and report.mismatches:
        pytest.fail(f"--aml-validate: {report.failure()}", pytrace=False)


def _validating(handle: "AmlMock") -> ContextManager["ConformanceReport"]:
    from .fidelity.conformance import Checker, load_contracts, validating

    return validating(handle.app, Checker(load_contracts(), handle.app.routes.url_map))


@pytest.fixture(scope="session")
def _aml_real_workspace(pytestconfig: pytest.Config) -> "Workspace":
    """The real workspace of verified mode, looked up once per session."""
    from .verified import real_workspace

    return real_workspace(real_config_path(pytestconfig))


@pytest.fixture
def aml_workspace(request: pytest.FixtureRequest) -> "Workspace":
    """A real ``azureml.core.Workspace`` bound to the default workspace of the fake (``--aml-real``: the real one)."""
    if real_mode(request.config):
        return request.getfixturevalue("_aml_real_workspace")
    return request.getfixturevalue("aml").workspace()


@pytest.fixture
def aml_experiment(aml_workspace: "Workspace", request: pytest.FixtureRequest) -> "Experiment":
    """An experiment in ``aml_workspace``, named after the test."""
    from azureml.core import Experiment

    return Experiment(workspace=aml_workspace, name=experiment_name_for(request.node.name))


@pytest.fixture
def aml_run_context(aml_experiment: "Experiment", request: pytest.FixtureRequest) -> Iterator["Run"]:
    """Make ``Run.get_context()`` return a live run of the fake (not ``_OfflineRun``), and yield it.

    The run is Running during the test; like the service when a job's script exits, the
    fake marks it Completed afterwards unless the test ended it itself. Under ``--aml-real``
    the run is a real one, with the environment the service gives a job.
    """
    if real_mode(request.config):
        from .verified import real_run_context

        context = real_run_context(aml_experiment)
    else:
        context = request.getfixturevalue("aml").run_context(aml_experiment)
    with context as run:
        yield run


@pytest.fixture
def aml_server(aml: "AmlMock", monkeypatch: pytest.MonkeyPatch) -> str:
    """The fake on ``http://127.0.0.1:PORT`` for other processes (``amlmock az``, scripts, tools).

    It shares its state with ``aml`` (assert on it there), creates the default workspace, and sets
    ``AMLMOCK_URL`` for subprocesses the test starts.
    """
    aml.create_workspace()
    url = aml.server_url
    monkeypatch.setenv("AMLMOCK_URL", url)
    return url


def experiment_name_for(test_name: str) -> str:
    """A valid experiment name derived from a test's name."""
    name = re.sub(r"[^\w\-]", "-", test_name).strip("-_") or "test"
    return name[:EXPERIMENT_NAME_LIMIT]
