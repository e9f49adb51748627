"""Every error message of MLflow's view of the runs (``run_filter.py``, ``tracking.py``, ``api/mlflow.py``).

The v1 service's messages are in ``messages.py``. These follow MLflow's tracking server where it has words for
the case (``mlflow.utils.validation``, mlflow-skinny 3.15); the others say what amlmock refused and why.
"""

from __future__ import annotations

from typing import Iterable


# ---------------------------------------------------------------------------------- run_filter.py (MLflow's)
def invalid_mlflow_filter(text: str, why: str) -> str:
    return f"Invalid filter string {text!r}: {why}"


NOT_WITHOUT_IN = "NOT must be followed by IN"


def cannot_read(rest: str) -> str:
    return f"cannot read {rest!r}"


def expected(what: str, found: str) -> str:
    """``expected an identifier, found 'x'`` (``what``: an identifier, a comparator, a quoted string)."""
    return f"expected {what}, found {found!r}"


def expected_key_after(prefix: str) -> str:
    return f"expected a key after {prefix!r}."


def not_a_run_attribute(key: str, attributes: tuple[str, ...]) -> str:
    return f"{key!r} is not a run attribute one can search on ({', '.join(attributes)})"


def bad_comparator(comparator: str, kind: str, key: str, allowed: tuple[str, ...]) -> str:
    return f"{comparator} is not a comparator for {kind} {key!r} (allowed: {', '.join(allowed)})"


def needs_string_list(comparator: str) -> str:
    return f"{comparator} needs a parenthesised list of strings"


def list_not_closed(comparator: str) -> str:
    return f"the list after {comparator} is not closed"


def needs_number(kind: str, key: str, found: str) -> str:
    return f"{kind} {key!r} must be compared with a number, not {found!r}"


def expected_and(found: str) -> str:
    return f"expected AND, found {found!r} (MLflow filters join clauses with AND only)"


def unexpected_in_order_by(found: str) -> str:
    return f"unexpected {found!r} in order_by entry"


# ---------------------------------------------------------------------------------- MLflow's words (api/mlflow.py, tracking.py)
def no_mlflow_experiment(experiment_id: object) -> str:
    return f"Could not find experiment with ID {experiment_id}"


def missing_parameter(key: str) -> str:
    return f"Missing value for required parameter '{key}'."


def invalid_mlflow_key(what: str, key: object) -> str:
    return f"Invalid value {key!r} for parameter 'key' supplied: a {what} key must be a non-empty string"


def mlflow_key_too_long(what: str, key: str, limit: int) -> str:
    return f"{what} key '{key[:40]}...' had length {len(key)}, which exceeded length limit of {limit}"


def mlflow_key_is_a_path(what: str, key: str) -> str:
    return f"Invalid {what} name: {key!r}: names may not be absolute paths or contain '..'"


def mlflow_value_not_text(what: str, key: str) -> str:
    return f"The value of {what} {key!r} must be a string"


def mlflow_value_too_long(what: str, key: str, value: str, limit: int) -> str:
    return f"{what} value '{value[:40]}...' of key {key!r} had length {len(value)}, which exceeded length limit of {limit}"


def metric_point_not_a_number(key: str, value: object) -> str:
    return f"Got invalid value {value!r} for metric {key!r}: it must be a number"


def metric_point_not_int64(key: str, name: str, number: object) -> str:
    return f"Got invalid {name} {number!r} for metric {key!r}: it must be a 64-bit integer"


def metric_point_time_out_of_range(key: str, timestamp: int) -> str:
    return f"Got invalid timestamp {timestamp} for metric {key!r}: the metric store keeps years 1000 to 9999"


def metric_point_not_finite(key: str, value: float) -> str:
    return f"Metric {key!r} has the value {value!r}: amlmock stores finite numbers only"


def mlflow_batch_too_long(what: str, count: int, limit: int) -> str:
    return f"A batch logging request can contain at most {limit} {what}. Got {count} {what}."


def mlflow_batch_too_large(total: int, limit: int) -> str:
    return f"A batch logging request can contain at most {limit} metrics, params and tags in total. Got {total}."


def mlflow_run_deleted(run_id: str) -> str:
    return f"The run {run_id} must be in the 'active' state. Current state is deleted."


def mlflow_too_many_metric_names(run_id: str, limit: int) -> str:
    return f"Run {run_id!r} can have at most {limit} metric names"


def param_changed(key: str, old: str, run_id: str, value: str) -> str:
    return (f"Changing param values is not allowed. Param with key='{key}' was already logged with value='{old}' "
            f"for run ID='{run_id}'. Attempted logging new value '{value}'.")


def no_mlflow_tag(key: str, run_id: str) -> str:
    return f"No tag with name: {key} in run with id {run_id}"


def unknown_mlflow_status(status: str, statuses: Iterable[str]) -> str:
    return f"Invalid run status {status!r}: one of {', '.join(statuses)}"


def unknown_run_view_type(view_type: str, view_types: Iterable[str]) -> str:
    return f"Invalid run_view_type {view_type!r}: one of {', '.join(view_types)}"


def max_results_out_of_range(max_results: int, limit: int) -> str:
    return f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at most {limit}"
