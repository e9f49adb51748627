"""RunTracker: an ended run's metric timers stop; reading one run flushes only that run.

Everything goes through the real SDK. Each metric queue of a Run (``BatchTaskQueue``) owns a
``Daemon`` that re-arms a 1-second ``threading.Timer``; the assertions look at those objects
directly, never at elapsed time.
"""

from __future__ import annotations

import threading

import pytest
from azureml._common.async_utils.batch_task_queue import BatchTaskQueue
from azureml.core import Experiment, Run

from amlmock import mock_aml
from amlmock.sdk.workspace import _metric_queues


def queues(run):
    return [q for q in _metric_queues(run._client.metrics) if isinstance(q, BatchTaskQueue)]


def daemons(run):
    return [q._daemon for q in queues(run)]


def assert_live(aml, daemon):
    assert not daemon.kill
    assert daemon in aml.tracker.daemons
    assert daemon.current_timer.is_alive()


def assert_stopped(aml, daemon):
    """Stopped, forgotten by the tracker, and its timer thread gone."""
    assert daemon.kill
    assert daemon not in aml.tracker.daemons
    while True:  # a tick already firing when stop() ran arms at most one more timer, which sees `kill`
        timer = daemon.current_timer
        timer.join(timeout=30)
        assert not timer.is_alive()
        if daemon.current_timer is timer:
            break
    assert timer not in threading.enumerate()


def log_values(run, count=10, name="loss"):
    for i in range(count):
        run.log(name, float(i))


def test_complete_stops_the_runs_timers_after_flushing(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    log_values(run)
    before = daemons(run)
    assert before  # logging created the (v2) metric queue and its timer
    for daemon in before:
        assert_live(aml, daemon)
    run.complete()
    after = daemons(run)
    assert set(before) <= set(after)  # complete()'s flush also creates the v1 queue: stopped as well
    for daemon in after:
        assert_stopped(aml, daemon)
    # complete() flushed them: a fresh SDK object reads all 10 values without any help from the handle
    assert Run(aml_experiment, run.id).get_metrics()["loss"] == [float(i) for i in range(10)]
    assert aml.metrics(run.id)["loss"] == [float(i) for i in range(10)]


def _complete(run):
    run.complete()


def _fail(run):
    run.fail(error_details="planned")


def _cancel(run):
    run.cancel()


def _with_block(run):
    with run:
        run.log("inside", 1.0)


def _with_block_raising(run):
    with pytest.raises(ValueError), run:
        run.log("inside", 1.0)
        raise ValueError("planned")


ENDINGS = {
    "complete": (_complete, "Completed"),
    "fail": (_fail, "Failed"),
    "cancel": (_cancel, "Canceled"),
    "with": (_with_block, "Completed"),
    "with-raising": (_with_block_raising, "Failed"),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_every_way_of_ending_stops_the_timers(aml, aml_experiment, ending):
    end, status = ENDINGS[ending]
    run = aml_experiment.start_logging(snapshot_directory=None)
    log_values(run)
    end(run)
    assert daemons(run)
    for daemon in daemons(run):
        assert_stopped(aml, daemon)
    record = aml.run(run.id)
    assert record.status == status
    assert aml.metrics(run.id)["loss"] == [float(i) for i in range(10)]


def test_child_run_context_exit_stops_the_childs_timers_only(aml, aml_experiment):
    parent = aml_experiment.start_logging(snapshot_directory=None)
    parent.log("parent_metric", 1.0)
    with parent.child_run(name="child") as child:
        log_values(child)
    for daemon in daemons(child):
        assert_stopped(aml, daemon)
    for daemon in daemons(parent):
        assert_live(aml, daemon)
    assert aml.metrics(child.id)["loss"] == [float(i) for i in range(10)]
    parent.complete()
    for daemon in daemons(parent):
        assert_stopped(aml, daemon)


def test_an_active_run_keeps_its_timer(aml, aml_experiment):
    ended = aml_experiment.start_logging(snapshot_directory=None)
    active = aml_experiment.start_logging(snapshot_directory=None)
    log_values(ended)
    log_values(active)
    ended.complete()
    assert daemons(active)
    for daemon in daemons(active):
        assert_live(aml, daemon)


def test_a_run_that_never_logged_leaves_no_timer(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.complete()  # the SDK's flush in complete() creates both metric queues, each with a timer
    assert len(daemons(run)) == 2
    for daemon in daemons(run):
        assert_stopped(aml, daemon)


def test_many_ended_runs_leave_no_live_timer(aml, aml_experiment):
    runs = []
    for _ in range(20):
        run = aml_experiment.start_logging(snapshot_directory=None)
        log_values(run, count=3)
        run.complete()
        runs.append(run)
    owned = {daemon for run in runs for daemon in daemons(run)}
    assert len(owned) == 40
    assert not owned & set(aml.tracker.daemons)
    assert all(daemon.kill for daemon in owned)


def test_a_value_logged_after_complete_still_reaches_the_fake():
    # The SDK does not refuse logging on a completed Run object: log() only adds to the metric queue,
    # which MetricsClient keeps (it never makes a new one), so the stopped queue gets a new timer.
    with mock_aml() as aml:
        exp = Experiment(aml.workspace(), "late")
        run = exp.start_logging(snapshot_directory=None)
        log_values(run, count=3)
        run.complete()
        stopped = daemons(run)
        run.log("late", 1.0)
        rearmed = [d for d in daemons(run) if d not in stopped]
        assert len(rearmed) == 1  # only the queue that received the value
        assert_live(aml, rearmed[0])
        run.log("late", 2.0)
        assert [d for d in daemons(run) if d not in stopped] == rearmed  # armed once, not per value
        assert aml.metrics(run.id)["late"] == [1.0, 2.0]
        assert aml.metrics(run.id)["loss"] == [0.0, 1.0, 2.0]
    assert rearmed[0].kill  # the mock stops it with the others


def spy_on_flushes(monkeypatch, run):
    calls = []
    for queue in queues(run):
        original = queue.flush

        def flush(*args, _original=original, **kwargs):
            calls.append(args)
            return _original(*args, **kwargs)

        monkeypatch.setattr(queue, "flush", flush)
    return calls


def test_reading_one_run_flushes_only_that_run(aml, aml_experiment, monkeypatch):
    run_a = aml_experiment.start_logging(snapshot_directory=None)
    run_b = aml_experiment.start_logging(snapshot_directory=None)
    log_values(run_a)
    log_values(run_b)
    flushed_a = spy_on_flushes(monkeypatch, run_a)
    flushed_b = spy_on_flushes(monkeypatch, run_b)
    assert flushed_a == [] and flushed_b == []

    assert aml.metrics(run_a.id)["loss"] == [float(i) for i in range(10)]
    assert flushed_a and flushed_b == []
    flushed_a.clear()
    assert aml.run(run_a.id).run_id == run_a.id
    assert flushed_a and flushed_b == []

    aml.runs()  # reads every run: flushes every run
    assert flushed_b
    assert aml.metrics(run_b.id)["loss"] == [float(i) for i in range(10)]


def test_stopping_the_mock_stops_the_timers_of_runs_still_active():
    with mock_aml() as aml:
        run = Experiment(aml.workspace(), "active").start_logging(snapshot_directory=None)
        log_values(run, count=2)
        live = daemons(run)
        assert live
    assert all(daemon.kill for daemon in live)
    assert not aml.tracker.daemons
