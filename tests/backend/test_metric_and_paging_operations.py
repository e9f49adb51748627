"""Metrics, paging and local runs of the backend, rule by rule (docs/lifecycle.md), without the SDK or HTTP."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amlmock.backend import limits, paging
from amlmock.backend.errors import ConflictError, ValidationError
from amlmock.backend.metrics import VALUES_PER_PAGE
from amlmock.backend.values import LocalRunSpec, MetricBatch, MetricInput, MetricRowInput, RunFields


def metric(name: str, *values: object, columns: dict | None = None) -> MetricInput:
    return MetricInput(name, columns or {name: "double"}, None, tuple(MetricRowInput({name: v}) for v in values))


def batch(*metrics: MetricInput) -> MetricBatch:
    return MetricBatch(tuple(enumerate(metrics)), sum(len(m.rows) for m in metrics))


@pytest.fixture
def run(scope):
    return scope.backend.create_or_update_run(scope.workspace, scope.experiment, "run", RunFields())


def test_values_read_back_in_logging_order(scope, run):
    assert scope.backend.post_metrics(run, batch(metric("loss", 0.5, 0.25))) == []
    scope.backend.post_metrics(run, batch(metric("loss", 0.125)))
    values = scope.backend.read_metrics(run)["loss"]
    assert [v.data["loss"] for v in values] == [0.5, 0.25, 0.125]


def test_a_repeated_metric_id_is_stored_once(scope, run):
    """A retried batch (same metric ids) does not store its values twice."""
    again = MetricInput("m", {"m": "double"}, None, (MetricRowInput({"m": 1}, metric_id="id-1"),))
    scope.backend.post_metrics(run, batch(again))
    scope.backend.post_metrics(run, batch(again))
    assert len(scope.backend.read_metrics(run)["m"]) == 1


def test_a_batch_holds_at_most_250_rows_and_a_refused_batch_stores_nothing(scope, run):
    before = scope.state()
    too_many = MetricBatch(((0, metric("m", *range(10))),), limits.MAX_METRIC_ROWS_PER_BATCH + 1)
    with pytest.raises(ValidationError, match="at most 250 rows"):
        scope.backend.post_metrics(run, too_many)
    assert scope.state() == before


def test_a_run_holds_fifty_metric_names_and_refuses_the_next_alone(scope, run):
    """The 51st name is refused in the 207's errors; the other metrics of the batch are stored."""
    scope.backend.post_metrics(run, batch(*(metric(f"m{i}", 1) for i in range(limits.MAX_METRIC_NAMES_PER_RUN))))
    errors = scope.backend.post_metrics(run, batch(metric("m0", 2), metric("new", 1)))
    assert [(e.position, e.name) for e in errors] == [(1, "new")]
    assert len(scope.backend.read_metrics(run)["m0"]) == 2


def test_a_metric_has_at_most_fifteen_columns(scope, run):
    columns = {f"c{i}": "double" for i in range(limits.MAX_METRIC_COLUMNS + 1)}
    wide = MetricInput("wide", columns, None, (MetricRowInput({"c0": 1}),))
    [error] = scope.backend.post_metrics(run, batch(wide))
    assert "at most 15 columns" in error.error.message


def test_a_text_cell_holds_255_characters(scope, run):
    fits = MetricInput("t", {"t": "string"}, None, (MetricRowInput({"t": "x" * 255}),))
    assert scope.backend.post_metrics(run, batch(fits)) == []
    too_long = MetricInput("t", {"t": "string"}, None, (MetricRowInput({"t": "x" * 256}),))
    assert len(scope.backend.post_metrics(run, batch(too_long))) == 1


def test_metric_values_page_by_a_thousand(scope, run):
    for start in range(0, VALUES_PER_PAGE + 10, 250):
        count = min(250, VALUES_PER_PAGE + 10 - start)
        scope.backend.post_metrics(run, batch(metric("m", *range(start, start + count))))
    first = scope.backend.metric_page(run, "m", None)
    second = scope.backend.metric_page(run, "m", first.continuation_token)
    assert (len(first.values), len(second.values), second.continuation_token) == (VALUES_PER_PAGE, 10, None)


@settings(max_examples=50, deadline=None, database=None)
@given(st.text(max_size=30))
def test_a_token_the_fake_did_not_hand_out_is_refused_not_crashed(token):
    """Any text as a continuation token: an offset it carries, or InvalidTokenError (never another error)."""
    try:
        assert paging.decode_offset(token) >= 0
    except paging.InvalidTokenError as error:
        assert error.target == "continuationToken"


@given(st.integers(0, 10**12))
def test_offsets_round_trip(offset):
    assert paging.decode_offset(paging.encode_offset(offset)) == offset


@pytest.mark.parametrize("top, size", [(None, paging.DEFAULT_PAGE_SIZE), (1, 1), (10**9, paging.MAX_PAGE_SIZE)])
def test_page_sizes(top, size):
    assert paging.page_size(top) == size


@pytest.mark.parametrize("top", [0, -1, True])
def test_a_page_size_is_a_positive_integer(top):
    with pytest.raises(ValidationError, match="positive integer"):
        paging.page_size(top)


def test_a_local_run_waits_in_starting_and_takes_its_processes_once(scope):
    """Local runs: Starting until the driver starts them; process ids recorded once, 2..MAX_PID, vetted."""
    spec = LocalRunSpec("train.py", "local", {"script": "train.py"})
    scope.backend.process_check = lambda processes: None
    run = scope.backend.submit_local_run(scope.workspace, "fresh", "local_1", spec)
    assert (run.status, run.script_name, run.experiment_name) == ("Starting", "train.py", "fresh")
    with pytest.raises(ConflictError):
        scope.backend.submit_local_run(scope.workspace, "fresh", "local_1", spec)
    with pytest.raises(ValidationError, match="from 2 to"):
        scope.backend.record_processes(run, {"driver": 1})
    scope.backend.record_processes(run, {"driver": 4000, "script": 4001})
    with pytest.raises(ConflictError, match="already recorded"):
        scope.backend.record_processes(run, {"driver": 4000, "script": 4001})
    assert scope.backend.runs_with_processes() == [run]


def test_a_backend_without_a_process_check_refuses_process_ids(scope):
    run = scope.backend.create_local_run(scope.workspace, scope.experiment, "local_1", LocalRunSpec(None, "local", {}))
    with pytest.raises(ValidationError, match="no process check"):
        scope.backend.record_processes(run, {"driver": 4000})
