"""MLflow's view of the runs as backend rules (``backend/tracking.py``), without any client."""

from __future__ import annotations

import pytest

from amlmock.backend.errors import ImmutablePropertyError, NotFoundError, ValidationError
from amlmock.backend.lifecycle import EVENT_PREFIX
from amlmock.backend.run_filter import parse_filter, parse_order_by
from amlmock.backend.service import Backend
from amlmock.backend.tracking import MetricPoint, RunSearch, TrackingBatch, mlflow_status


@pytest.fixture
def parts():
    backend = Backend()
    workspace = backend.create_workspace("sub", "rg", "ws")
    experiment = backend.create_experiment(workspace, "exp")
    return backend, workspace, experiment


def new_run(parts, name=None, tags=()):
    backend, workspace, experiment = parts
    return backend.create_tracking_run(workspace, experiment, name, list(tags))


def log(parts, run, **batch):
    backend, workspace, _ = parts
    backend.log_tracking_batch(workspace, run, TrackingBatch(**batch))


def test_a_tracking_run_is_a_running_v1_run(parts):
    run = new_run(parts, "first")
    assert (run.status, run.display_name, mlflow_status(run)) == ("Running", "first", "RUNNING")
    assert parts[1].runs[run.run_id] is run


def test_params_are_immutable_and_a_refused_batch_stores_nothing(parts):
    run = new_run(parts)
    log(parts, run, params=[("lr", "0.1")])
    log(parts, run, params=[("lr", "0.1")])
    with pytest.raises(ImmutablePropertyError):
        log(parts, run, metrics=[MetricPoint("loss", 1.0, 0, 0)], params=[("lr", "0.2")], tags=[("t", "v")])
    assert (dict(run.params), run.metrics, "t" in run.tags) == ({"lr": "0.1"}, {}, False)


def test_two_values_of_one_param_in_one_batch_are_refused(parts):
    with pytest.raises(ImmutablePropertyError):
        log(parts, new_run(parts), params=[("a", "1"), ("a", "2")])


def test_metric_points_are_metric_rows_and_back(parts):
    backend, _, _ = parts
    run = new_run(parts)
    log(parts, run, metrics=[MetricPoint("loss", 0.5, 1_000, 3), MetricPoint("loss", 0.7, 2_000, 1)])
    assert [row.data for row in run.metrics["loss"].read()] == [{"loss": 0.5}, {"loss": 0.7}]
    assert backend.tracking_metrics(run)["loss"].value == 0.5  # the highest step wins, not the latest time
    assert [(p.value, p.step, p.timestamp) for p in backend.tracking_metric_history(run, "loss")] == [(0.5, 3, 1000), (0.7, 1, 2000)]


def test_status_updates_go_through_the_v1_state_machine(parts):
    backend, _, _ = parts
    run = new_run(parts)
    backend.update_tracking_run(run, "FINISHED", None)
    backend.update_tracking_run(run, "RUNNING", None)  # a terminal run stays as it is
    assert run.status == "Completed"
    assert [e.name for e in run.status_history] == [EVENT_PREFIX + "Start", EVENT_PREFIX + "Completed"]
    with pytest.raises(ValidationError):
        backend.update_tracking_run(run, "DONE", None)


def test_the_parent_tag_makes_a_child_run(parts):
    parent = new_run(parts)
    child = new_run(parts, tags=[("mlflow.parentRunId", parent.run_id)])
    assert (child.parent_run_id, parent.children) == (parent.run_id, [child.run_id])
    with pytest.raises(NotFoundError):
        new_run(parts, tags=[("mlflow.parentRunId", "missing")])


def test_deleted_runs_refuse_logging_and_leave_active_searches(parts):
    backend, workspace, experiment = parts
    kept, deleted = new_run(parts), new_run(parts)
    backend.set_run_deleted(deleted, True)
    with pytest.raises(ValidationError):
        log(parts, deleted, tags=[("t", "v")])
    active = backend.search_tracking_runs(workspace, RunSearch([experiment.experiment_id]))
    everything = backend.search_tracking_runs(workspace, RunSearch([experiment.experiment_id], view_type="ALL"))
    assert ([r.run_id for r in active.runs], len(everything.runs)) == ([kept.run_id], 2)


def test_search_filters_orders_and_pages(parts):
    backend, workspace, experiment = parts
    runs = [new_run(parts) for _ in range(3)]
    for run, loss in zip(runs, (0.3, 0.1, 0.2)):
        log(parts, run, metrics=[MetricPoint("loss", loss, 0, 0)])
    search = RunSearch([experiment.experiment_id], parse_filter("metrics.loss < 0.25"), parse_order_by(["metrics.loss"]), max_results=1)
    first = backend.search_tracking_runs(workspace, search)
    second = backend.search_tracking_runs(workspace, RunSearch(**{**search.__dict__, "offset": first.next_offset}))
    assert [r.run_id for r in first.runs + second.runs] == [runs[1].run_id, runs[2].run_id]
    assert second.next_offset is None


def test_a_search_of_an_unknown_experiment_is_not_found(parts):
    backend, workspace, _ = parts
    with pytest.raises(NotFoundError):
        backend.search_tracking_runs(workspace, RunSearch(["nope"]))


@pytest.mark.parametrize("timestamp", [-(2**62), 2**62])
def test_metric_times_the_store_cannot_read_back_are_refused(parts, timestamp):
    run = new_run(parts)
    with pytest.raises(ValidationError):
        log(parts, run, metrics=[MetricPoint("loss", 1.0, timestamp, 0)])
    assert run.metrics == {}
