"""Loud failures: unimplemented routes, bad input, and no slow retries."""

from __future__ import annotations

import time

import pytest
from azureml._restclient.exceptions import ServiceException
from azureml.core import Experiment, Run

from tests.helpers import raw


def test_unimplemented_route_names_method_and_url(aml):
    response = raw("POST", "https://eastus.api.azureml.ms/history/v1.0/something/new?x=1", json={})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["message"] == "amlmock does not implement POST https://eastus.api.azureml.ms/history/v1.0/something/new"
    assert error["details"] == []
    assert error["innerError"]["code"] == "NotImplementedByAmlmock"


def test_unknown_hosts_are_answered_by_the_fake_too(aml):
    response = raw("GET", "https://example.com/anything")
    assert response.status_code == 404
    assert "amlmock does not implement GET https://example.com/anything" in response.text


@pytest.mark.aml_fake_only  # the "amlmock does not implement" message
@pytest.mark.parametrize(
    "call, method, path_end",
    [
        (lambda ws, exp: ws.get_default_datastore(), "GET", "/default"),
        (lambda ws, exp: Experiment.delete(ws, exp.id), "DELETE", None),
    ],
    ids=["datastore", "experiment-delete"],
)
def test_unimplemented_sdk_call_fails_at_once_and_says_why(aml_workspace, aml_experiment, call, method, path_end):
    started = time.perf_counter()
    with pytest.raises(Exception) as caught:
        call(aml_workspace, aml_experiment)
    assert time.perf_counter() - started < 5
    message = str(caught.value)
    assert f"amlmock does not implement {method} https://eastus.api.azureml.ms/" in message
    assert path_end is None or path_end in message


def run_url(aml, experiment, run_id):
    return f"https://eastus.api.azureml.ms/history/v1.0{aml.create_workspace().arm_id}/experiments/{experiment}/runs/{run_id}"


def test_malformed_json_is_a_400_and_changes_nothing(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    response = raw("PATCH", run_url(aml, aml_experiment.name, run.id), data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValidationError"
    response = raw("PATCH", run_url(aml, aml_experiment.name, run.id), json={"tags": ["not", "a", "map"]})
    assert response.status_code == 400
    response = raw("PATCH", run_url(aml, aml_experiment.name, run.id), json={"tags": {"ok": "1"}, "properties": {"n": 5}})
    assert response.status_code == 400
    assert aml.run(run.id).tags == {}
    assert run.get_status() == "Running"
    run.complete()


def test_unknown_status_event_is_refused(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    response = raw("POST", run_url(aml, aml_experiment.name, run.id) + "/events", json={"name": "Microsoft.MachineLearning.Run.Exploded"})
    assert response.status_code == 400
    assert "Exploded" in response.json()["error"]["message"]
    assert [e.name.rsplit(".", 1)[1] for e in aml.run(run.id).status_history] == ["Start"]
    run.complete()


def test_status_in_a_patch_is_ignored(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    response = raw("PATCH", run_url(aml, aml_experiment.name, run.id), json={"status": "Completed"})
    assert response.status_code == 200
    assert response.json()["status"] == "Running"
    run.complete()


def test_a_bug_in_the_fake_is_a_500_not_a_crash(aml, aml_experiment, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(aml.backend, "get_experiment", broken)
    response = raw("GET", f"https://eastus.api.azureml.ms/history/v1.0{aml.create_workspace().arm_id}/experiments/x")
    assert response.status_code == 500
    assert "amlmock failed on GET" in response.json()["error"]["message"]


def test_server_errors_are_retried_without_sleeping(aml, aml_experiment, monkeypatch):
    run = aml_experiment.start_logging(snapshot_directory=None)
    calls = []

    def unavailable(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("down")

    monkeypatch.setattr(aml.backend, "get_run", unavailable)
    started = time.perf_counter()
    with pytest.raises(ServiceException) as caught:
        Run(aml_experiment, run.id)
    assert caught.value.status_code == 500
    assert len(calls) > 1  # the SDK's retries still happen ...
    assert time.perf_counter() - started < 5  # ... without its 14 s of back-off
    monkeypatch.undo()
    run.complete()
