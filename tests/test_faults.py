"""Fault injection: chosen operations fail, slow down or drop, and the SDK's retries stay fast."""

from __future__ import annotations

import time

import pytest
import requests
from azureml._restclient.exceptions import ServiceException
from azureml.core import Run


def test_throttled_queries_are_retried_quickly(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.complete()
    fault = aml.faults.add("query_runs", status=429, times=2)
    started = time.perf_counter()
    assert [r.id for r in aml_experiment.get_runs()] == [run.id]
    assert time.perf_counter() - started < 5  # the SDK's 429 back-off would be 32 s + 64 s
    assert (fault.matched, fault.injected) == (3, 2)
    assert aml.faults.report()[0]["injected"] == 2


def test_a_persistent_503_surfaces_as_the_service_error(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    aml.faults.add("get_run", status=503, message="maintenance")
    with pytest.raises(ServiceException) as caught:
        Run(aml_experiment, run.id)
    assert caught.value.status_code == 503
    assert "maintenance" in caught.value.message
    aml.faults.clear()
    assert Run(aml_experiment, run.id).id == run.id
    run.complete()


def test_nth_call_by_method_and_path(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    fault = aml.faults.add(method="PATCH", path=r"/runs/[^/]+$", status=400, nth=2)
    run.tag("first", "ok")
    with pytest.raises(ServiceException) as caught:
        run.tag("second", "refused")
    assert caught.value.status_code == 400 and "injected" in caught.value.message
    run.tag("third", "ok")
    assert aml.run(run.id).tags == {"first": "ok", "third": "ok"}
    assert (fault.matched, fault.injected) == (3, 1)
    run.complete()


def test_latency_and_dropped_connections(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    aml.faults.add("get_run", latency=0.2, times=1)
    started = time.perf_counter()
    run.get_tags()
    assert time.perf_counter() - started >= 0.2
    aml.faults.add("get_run", drop=True, times=1)
    assert run.get_tags() == {}  # the SDK retried the dropped call
    assert [f["injected"] for f in aml.faults.report()] == [1, 1]
    run.complete()


def test_drop_over_the_loopback_server(aml):
    aml.faults.add("discovery", drop=True, times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(aml.server_url + "/discovery", timeout=5)
    assert requests.get(aml.server_url + "/discovery", timeout=5).status_code == 200


def test_metric_batches_failing_with_503(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    aml.faults.add("post_metrics", status=503, times=1)
    run.log("loss", 0.5)
    run.complete()
    assert aml.metrics(run.id) == {"loss": [0.5]}


def test_unknown_operations_and_empty_faults_are_refused(aml):
    with pytest.raises(ValueError, match="unknown operation"):
        aml.faults.add("no_such_operation", status=500)
    with pytest.raises(ValueError, match="needs status"):
        aml.faults.add("get_run")
    assert "query_runs" in aml.faults.operations()


def test_faults_end_with_the_test(aml):
    assert aml.faults.report() == []
