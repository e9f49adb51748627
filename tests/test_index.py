"""The run index (tag and property postings, shared value copies) against a brute-force model.

Queries through the SDK are covered by test_queries and test_query_hypothesis; this drives the
backend with random tag changes and removals, so postings grow past the list limit into sets and
shrink back, and checks every answer the index can give and every value each run holds.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from amlmock.backend.index import LIST_POSTING_LIMIT
from amlmock.backend.models import is_run_filter_field
from amlmock.backend.filter_parser import parse_filter
from amlmock.backend.service import Backend
from amlmock.backend.values import RunFields

RUNS = [f"run_{i}" for i in range(LIST_POSTING_LIMIT + 20)]
KEYS = st.sampled_from(["env", "owner", "stage"])
VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
SET_TAG = st.tuples(st.just("set"), st.sampled_from(RUNS), KEYS, VALUES)
REMOVE_TAG = st.tuples(st.just("remove"), st.sampled_from(RUNS), KEYS, st.none())
BULK_SET = st.tuples(st.just("bulk"), st.integers(0, len(RUNS)), KEYS, VALUES)


def _fresh(text: str | None) -> str | None:
    """An equal string that is a distinct object, as every request body's strings are."""
    return None if text is None else "".join(list(text))


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.one_of(SET_TAG, REMOVE_TAG, BULK_SET), max_size=40))
def test_index_answers_like_a_scan_after_any_changes(operations):
    backend = Backend()
    workspace = backend.create_workspace("s", "g", "w")
    experiment = backend.create_experiment(workspace, "e")
    model: dict[str, dict[str, str | None]] = {}
    for run_id in RUNS:
        backend.create_or_update_run(workspace, experiment, run_id, RunFields())
        model[run_id] = {}
    for kind, target, key, value in operations:
        targets = RUNS[:target] if kind == "bulk" else [target]
        for run_id in targets:
            run = workspace.runs[run_id]
            if kind == "remove":
                backend.remove_tags(experiment, run, [key])
                model[run_id].pop(key, None)
            else:
                backend.create_or_update_run(workspace, experiment, run_id, RunFields(tags={key: _fresh(value)}))
                model[run_id][key] = value

    for run_id in RUNS:
        assert workspace.runs[run_id].tags == model[run_id]
    for key in ("env", "owner", "stage"):
        for value in ("a", "b", "c"):
            expected = {r for r in RUNS if key in model[r] and model[r][key] == value}
            assert experiment.index.candidates(parse_filter(f"Tags/{key} eq \"{value}\"", is_run_filter_field)) == expected
            holders = [workspace.runs[r].tags[key] for r in expected]
            assert len({id(v) for v in holders}) <= 2  # a shared value is kept at most twice
        has_key = {r for r in RUNS if key in model[r]}
        assert experiment.index.candidates(parse_filter(f"Tags/{key} ne \"zzz\"", is_run_filter_field)) == has_key


def test_a_value_shared_by_many_runs_is_stored_about_twice():
    backend = Backend()
    workspace = backend.create_workspace("s", "g", "w")
    experiment = backend.create_experiment(workspace, "e")
    for i in range(50):
        backend.create_or_update_run(workspace, experiment, f"r{i}", RunFields(tags={"dataset": _fresh("imagenet-2012")}))
    stored = {id(run.tags["dataset"]) for run in workspace.runs.values()}
    assert len(stored) == 2
    assert all(run.tags == {"dataset": "imagenet-2012"} for run in workspace.runs.values())
