"""The pytest plugin (registered through the ``pytest11`` entry point).

Fixtures: ``aml`` (a fresh, active fake per test), ``aml_workspace``, ``aml_experiment``,
``aml_run_context`` and ``aml_server``. The SDK is imported only when a test asks for one of them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from azureml.core import Experiment, Run, Workspace

    from .mock import AmlMock

EXPERIMENT_NAME_LIMIT = 100


@pytest.fixture
def aml() -> Iterator["AmlMock"]:
    """An active fake Azure ML service, empty at the start of each test and gone after it."""
    from .mock import AmlMock

    with AmlMock() as handle:
        yield handle


@pytest.fixture
def aml_workspace(aml: "AmlMock") -> "Workspace":
    """A real ``azureml.core.Workspace`` bound to the default workspace of the fake."""
    return aml.workspace()


@pytest.fixture
def aml_experiment(aml_workspace: "Workspace", request: pytest.FixtureRequest) -> "Experiment":
    """An experiment in ``aml_workspace``, named after the test."""
    from azureml.core import Experiment

    return Experiment(workspace=aml_workspace, name=experiment_name_for(request.node.name))


@pytest.fixture
def aml_run_context(aml: "AmlMock", aml_experiment: "Experiment") -> Iterator["Run"]:
    """Make ``Run.get_context()`` return a live run of the fake (not ``_OfflineRun``), and yield it.

    The run is Running during the test; like the service when a job's script exits, the
    fake marks it Completed afterwards unless the test ended it itself.
    """
    with aml.run_context(aml_experiment) as run:
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

