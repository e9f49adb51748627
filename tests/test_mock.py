"""The ``mock_aml`` switch and the inspection handle."""

from __future__ import annotations

import os
import unittest

import pytest
import requests
from azureml.core import Experiment, Run

import amlmock
from amlmock import mock_aml
from amlmock.backend.values import PageRequest


def test_context_manager_state_is_gone_after_exit():
    with mock_aml() as aml:
        ws = aml.workspace()
        Experiment(ws, "exp").start_logging(snapshot_directory=None).complete()
        assert len(aml.runs()) == 1
    assert aml.workspaces() == []
    assert not aml.active
    with mock_aml() as fresh:
        assert fresh.workspaces() == []


def test_traffic_is_restored_after_exit():
    with mock_aml():
        assert requests.get("https://management.azure.com/nothing", timeout=5).status_code == 404
    with pytest.raises(requests.exceptions.ConnectionError):  # the test network guard, not the fake
        requests.get("https://management.azure.com/nothing", timeout=5)


@mock_aml
def test_decorated_function_has_an_active_mock():
    aml = amlmock.current_mock()
    assert aml is not None and aml.active
    Experiment(aml.workspace(), "decorated")
    assert [e.name for e in aml.experiments()] == ["decorated"]


@mock_aml()
def test_decorated_with_parentheses():
    assert amlmock.current_mock().experiments() == []


@mock_aml
class TestDecoratedClass(unittest.TestCase):
    def test_one(self):
        Experiment(amlmock.current_mock().workspace(), "one")
        self.assertEqual(len(amlmock.current_mock().experiments()), 1)

    def test_two_starts_empty(self):
        self.assertEqual(amlmock.current_mock().experiments(), [])


def test_only_one_mock_at_a_time():
    with mock_aml():
        with pytest.raises(RuntimeError, match="already active"):
            mock_aml().start()
    with mock_aml():
        pass


def test_home_is_isolated_and_restored():
    home = os.environ.get("HOME")
    with mock_aml() as aml:
        assert os.environ["HOME"] != home
        aml.workspace()
    assert os.environ.get("HOME") == home


def test_handle_shows_everything(aml, aml_experiment):
    with aml_experiment.start_logging(snapshot_directory=None) as run:
        run.log("accuracy", 0.5)
        run.log_row("scores", a=1, b=2)
        run.tag("quality", "good")
        run.add_properties({"author": "me"})
        child = run.child_run()
        child.complete()
    record = aml.run(run.id)
    assert record.status == "Completed"
    assert [e.status_after for e in record.status_history] == ["Running", "Completed"]
    assert record.tags == {"quality": "good"}
    assert record.properties == {"author": "me"}
    assert record.children == [child.id]
    assert aml.metrics(run.id) == {"accuracy": [0.5], "scores": [{"a": 1, "b": 2}]}
    assert [r.run_id for r in aml.runs(aml_experiment.name)] == [run.id, child.id]
    assert "logs/user_log.txt" in aml.artifacts(run.id)


def test_handle_flushes_queued_metrics(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.log("queued", 1)  # still in the SDK's background queue
    assert aml.metrics(run.id) == {"queued": [1]}
    run.complete()


def test_reset_forgets_state(aml, aml_workspace):
    Experiment(aml_workspace, "gone")
    aml.reset()
    assert aml.experiments() == []


def test_unknown_run_in_handle(aml):
    with pytest.raises(amlmock.backend.NotFoundError):
        aml.run("nope")


def test_run_context_gives_a_live_run(aml, aml_experiment):
    from azureml.core.run import _OfflineRun

    with aml.run_context(aml_experiment) as run:
        assert not isinstance(run, _OfflineRun)
        assert Run.get_context().id == run.id
        Run.get_context().log("from-code-under-test", 3)
        Run.get_context().tag("seen")
        assert aml.run(run.id).status == "Running"
    record = aml.run(run.id)
    assert record.status == "Completed"
    assert record.tags == {"seen": None}
    assert aml.metrics(run.id) == {"from-code-under-test": [3]}
    assert isinstance(Run.get_context(), _OfflineRun)


def test_run_context_fails_the_run_when_the_code_raises(aml, aml_experiment):
    with pytest.raises(KeyError):
        with aml.run_context(aml_experiment) as run:
            raise KeyError("missing column")
    record = aml.run(run.id)
    assert record.status == "Failed"
    assert record.error["error"]["message"] == "User program failed with KeyError: 'missing column'"


def test_workspace_needs_an_active_mock():
    with pytest.raises(RuntimeError, match="active mock"):
        amlmock.AmlMock().workspace()


def test_decorator_keeps_the_backend_it_was_given():
    from amlmock.backend.service import Backend
    from amlmock.mock import AmlMock

    backend = Backend()
    seen = []

    @AmlMock(backend=backend)
    def decorated():
        aml = amlmock.current_mock()
        seen.append(aml.backend)
        Experiment(aml.workspace(), "given").start_logging(snapshot_directory=None).complete()
        seen.append(len(backend.query_runs(backend.get_workspace(*_default_scope(aml)), None, PageRequest()).items))

    decorated()
    assert seen == [backend, 1]


def _default_scope(aml):
    workspace = aml.workspaces()[0]
    return workspace.subscription_id, workspace.resource_group, workspace.name


def test_get_details_has_every_field_the_service_returns(aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    details = run.get_details()
    assert {"runId", "target", "status", "startTimeUtc", "services", "properties", "inputDatasets",
            "outputDatasets", "runDefinition", "logFiles", "submittedBy"} <= set(details)
    assert details["services"] == {} and list(details["inputDatasets"]) == [] and details["outputDatasets"] == []
    assert details["runDefinition"] == {} and details["logFiles"] == {}
    run.complete()
    assert "endTimeUtc" in run.get_details()
