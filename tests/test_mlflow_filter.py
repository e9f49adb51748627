"""MLflow's search grammar (``backend.run_filter``) as a unit: parsed clauses and what they select."""

from __future__ import annotations

import operator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlmock.backend.errors import ValidationError
from amlmock.backend.run_filter import Clause, OrderKey, matches, parse_filter, parse_order_by

COMPARISONS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class FakeRun:
    def __init__(self, metrics=None, params=None, tags=None, attributes=None):
        self.values = {"metric": metrics or {}, "param": params or {}, "tag": tags or {}, "attribute": attributes or {}}

    def tracking_value(self, kind, key):
        return self.values[kind].get(key)


def test_entities_aliases_and_quoted_keys():
    clauses = parse_filter("metric.acc > 0.5 and param.`learning rate` = '0.1' AND tags.\"mlflow.user\" LIKE 'a%' and run_id IN ('a', 'b')")
    assert clauses == [
        Clause("metric", "acc", ">", 0.5),
        Clause("param", "learning rate", "=", "0.1"),
        Clause("tag", "mlflow.user", "LIKE", "a%"),
        Clause("attribute", "run_id", "IN", ("a", "b")),
    ]


def test_dotted_keys_and_escaped_quotes():
    assert parse_filter("tags.mlflow.source.type = 'JOB'") == [Clause("tag", "mlflow.source.type", "=", "JOB")]
    assert parse_filter(r"params.p = 'it\'s'") == [Clause("param", "p", "=", "it's")]


@pytest.mark.parametrize(
    "text",
    ["metrics.a > 'x'", "params.a < 'x'", "a = 'b'", "metrics.a = 1 or metrics.b = 2", "metrics.a", "params.a = 'x' AND",
     "attributes.start_time = 'yesterday'", "params.a IN 'x'", "params.a = 'unterminated"],
)
def test_bad_filters_are_validation_errors(text):
    with pytest.raises(ValidationError):
        parse_filter(text)


def test_order_by():
    assert parse_order_by(["metrics.loss DESC", "attributes.start_time", "params.x asc"]) == [
        OrderKey("metric", "loss", True), OrderKey("attribute", "start_time", False), OrderKey("param", "x", False)
    ]


def test_a_run_without_the_key_never_matches():
    run = FakeRun(metrics={"other": 1.0})
    assert not matches(parse_filter("metrics.loss != 1"), run)
    assert not matches(parse_filter("params.p != 'x'"), run)


def test_like_and_ilike_wildcards():
    run = FakeRun(tags={"team": "Vision_2"})
    assert matches(parse_filter("tags.team LIKE 'Vis%_2'"), run)
    assert not matches(parse_filter("tags.team LIKE 'vision%'"), run)
    assert matches(parse_filter("tags.team ILIKE 'vision%'"), run)
    assert not matches(parse_filter("tags.team LIKE 'Vision'"), run)  # LIKE matches the whole value


numbers = st.floats(allow_nan=False, allow_infinity=False, width=32)


@given(values=st.lists(numbers, max_size=8), threshold=numbers, comparator=st.sampled_from(sorted(COMPARISONS)))
def test_metric_comparisons_select_what_python_selects(values, threshold, comparator):
    runs = [FakeRun(metrics={"m": float(v)}) for v in values]
    clauses = parse_filter(f"metrics.m {comparator} {float(threshold)!r}")
    selected = [run for run in runs if matches(clauses, run)]
    assert selected == [run for run in runs if COMPARISONS[comparator](run.values["metric"]["m"], float(threshold))]


@given(text=st.text(max_size=40))
def test_any_text_parses_or_is_a_validation_error(text):
    try:
        parse_filter(text)
    except ValidationError:
        pass
