"""The worked example of docs/faults.md, kept running."""

from __future__ import annotations

import pytest
from azureml._restclient.exceptions import ServiceException


def best_run(experiment):
    """Code under test: the completed run with the best accuracy."""
    runs = [r for r in experiment.get_runs() if r.get_status() == "Completed"]
    return max(runs, key=lambda r: r.get_metrics()["accuracy"])


def test_best_run_survives_throttling(aml, aml_experiment):
    for accuracy in (0.7, 0.9):
        with aml_experiment.start_logging(snapshot_directory=None) as run:
            run.log("accuracy", accuracy)
    throttle = aml.faults.add("query_runs", status=429, times=2)
    assert best_run(aml_experiment).get_metrics()["accuracy"] == 0.9
    assert throttle.injected == 2


def test_best_run_reports_an_outage(aml, aml_experiment):
    aml.faults.add("get_metric", status=503, message="maintenance")
    with aml_experiment.start_logging(snapshot_directory=None) as run:
        run.log("accuracy", 0.9)
    with pytest.raises(ServiceException, match="maintenance"):
        best_run(aml_experiment)
