"""Run operations of the backend, rule by rule (docs/lifecycle.md), without the SDK or HTTP."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amlmock.backend import limits
from amlmock.backend.errors import ConflictError, ImmutablePropertyError, NotFoundError, ValidationError
from amlmock.backend.lifecycle import EVENT_PREFIX
from amlmock.backend.values import PageRequest, RunEvent, RunFields


def start(scope, run_id: str, **fields) -> object:
    return scope.backend.create_or_update_run(scope.workspace, scope.experiment, run_id, RunFields(**fields))


def test_a_new_run_is_numbered_in_its_workspace_and_not_started(scope):
    """Runs start NotStarted; run numbers count up per workspace."""
    first, second = start(scope, "a"), start(scope, "b")
    assert (first.status, first.run_number, second.run_number) == ("NotStarted", 1, 2)
    assert first.root_run_id == "a" and first.data_container_id == "dcid.a"


def test_an_update_merges_tags_and_keeps_what_it_does_not_name(scope):
    """A run PATCH merges tags; fields it leaves out stay as they are."""
    start(scope, "a", display_name="first", tags={"x": "1"})
    run = start(scope, "a", tags={"y": None})
    assert run.display_name == "first"
    assert run.tags == {"x": "1", "y": None}


def test_a_property_keeps_its_value_and_a_refusal_changes_nothing(scope):
    """Properties are add-only: the same value again is fine, another value is ImmutableProperty."""
    start(scope, "a", properties={"p": "1"})
    start(scope, "a", properties={"p": "1", "q": "2"})
    before = scope.state()
    with pytest.raises(ImmutablePropertyError):
        start(scope, "a", properties={"p": "changed"}, tags={"t": "lost"})
    assert scope.state() == before


def test_a_run_id_lives_in_one_experiment(scope):
    """A run id already used in another experiment of the workspace is a conflict."""
    start(scope, "a")
    other = scope.backend.create_experiment(scope.workspace, "other")
    with pytest.raises(ConflictError):
        scope.backend.create_or_update_run(scope.workspace, other, "a", RunFields())


def test_a_child_knows_its_parent_and_root_and_cannot_move(scope):
    """Children: parent and root recorded at creation; the parent never changes."""
    start(scope, "root")
    start(scope, "child", parent_run_id="root")
    grandchild = start(scope, "grandchild", parent_run_id="child")
    assert (grandchild.parent_run_id, grandchild.root_run_id) == ("child", "root")
    with pytest.raises(ValidationError, match="cannot be changed"):
        start(scope, "grandchild", parent_run_id="root")
    with pytest.raises(NotFoundError):
        start(scope, "orphan", parent_run_id="missing")


@pytest.mark.parametrize("field_name, limit", [
    ("display_name", limits.MAX_DISPLAY_NAME_LENGTH),
    ("description", limits.MAX_DESCRIPTION_LENGTH),
    ("target", limits.MAX_VALUE_LENGTH),
])
def test_text_fields_hold_up_to_their_limit(scope, field_name, limit):
    """Run text fields: ``limit`` characters are kept, one more is refused (resource-limits-capacity)."""
    assert getattr(start(scope, "a", **{field_name: "x" * limit}), field_name) == "x" * limit
    before = scope.state()
    with pytest.raises(ValidationError, match=f"the limit is {limit}"):
        start(scope, "b", **{field_name: "x" * (limit + 1)})
    assert scope.state() == before


def test_a_run_holds_at_most_fifty_tags(scope):
    """At most 50 tags per run, counted after the merge."""
    start(scope, "a", tags={f"t{i}": "v" for i in range(limits.MAX_TAGS)})
    with pytest.raises(ValidationError, match="at most 50 tags"):
        start(scope, "a", tags={"one-more": "v"})


@pytest.mark.parametrize("run_id", ["", "has space", "x" * 256, "dots.are.out"])
def test_run_ids_are_letters_digits_dashes_and_underscores(scope, run_id):
    """Run ids: 1-255 of [A-Za-z0-9_-] (REST spec)."""
    with pytest.raises(ValidationError, match="run ids must be"):
        start(scope, run_id)


def test_events_move_a_run_through_the_state_machine(scope):
    """Start makes a run Running (and sets its start time); Completed ends it; a later event is kept, not applied."""
    run = start(scope, "a")
    scope.backend.post_event(run, RunEvent(EVENT_PREFIX + "Start"))
    assert run.status == "Running" and run.start_time_utc is not None
    scope.backend.post_event(run, RunEvent(EVENT_PREFIX + "Completed"))
    late = scope.backend.post_event(run, RunEvent(EVENT_PREFIX + "Start"))
    assert run.status == "Completed" and run.end_time_utc is not None
    assert not late.applied
    assert [e.applied for e in scope.backend.status_history(run)] == [True, True, False]


def test_an_error_event_needs_its_error_and_keeps_it(scope):
    """An Error event carries the error response, whose message is at most 3,000 characters."""
    run = start(scope, "a")
    with pytest.raises(ValidationError, match="needs data.ErrorResponse"):
        scope.backend.post_event(run, RunEvent(EVENT_PREFIX + "Error"))
    with pytest.raises(ValidationError, match="the limit is 3000"):
        scope.backend.post_event(run, RunEvent(EVENT_PREFIX + "Error", error={"error": {}}, error_message="m" * 3001))
    error = {"error": {"message": "boom"}}
    scope.backend.post_event(run, RunEvent(EVENT_PREFIX + "Error", error=error, error_message="boom"))
    assert run.error == error


def test_an_unknown_event_is_refused_and_not_recorded(scope):
    run = start(scope, "a")
    with pytest.raises(ValidationError, match="does not know the run event"):
        scope.backend.post_event(run, RunEvent("Something.Else"))
    assert scope.backend.status_history(run) == []


def test_batched_events_are_refused_one_by_one(scope):
    """R11: each event of a batch succeeds or fails on its own; refusals keep their place."""
    start(scope, "a")
    errors = scope.backend.post_events(scope.workspace, scope.experiment, [
        (0, "a", RunEvent(EVENT_PREFIX + "Start")),
        (1, "missing", RunEvent(EVENT_PREFIX + "Start")),
        (2, "a", RunEvent("Nope")),
    ])
    assert [(position, type(error)) for position, error in errors] == [(1, NotFoundError), (2, ValidationError)]
    assert scope.backend.get_run(scope.workspace, "a").status == "Running"


def test_removing_tags_ignores_keys_not_set(scope):
    run = start(scope, "a", tags={"x": "1", "y": "2"})
    scope.backend.remove_tags(scope.experiment, run, ["x", "never-set"])
    assert run.tags == {"y": "2"}


@settings(max_examples=25, deadline=None, database=None)
@given(count=st.integers(0, 30), size=st.integers(1, 7), descending=st.booleans())
def test_run_pages_cover_every_run_once_in_order(count, size, descending):
    """Keyset pages: following the tokens gives every run once, in the requested order."""
    from amlmock.backend.service import Backend

    backend = Backend()
    workspace = backend.create_workspace("s", "g", "w")
    experiment = backend.create_experiment(workspace, "e")
    for number in range(count):
        backend.create_or_update_run(workspace, experiment, f"r{number}", RunFields())
    order = "RunNumber desc" if descending else "RunNumber asc"
    seen, token = [], None
    while True:
        page = backend.query_runs(workspace, experiment, PageRequest(order_by=order, top=size, token=token))
        seen += [run.run_number for run in page.items]
        token = page.continuation_token
        if token is None:
            break
    assert seen == sorted(range(1, count + 1), reverse=descending)


def test_a_query_filters_by_tag_through_the_index(scope):
    start(scope, "a", tags={"team": "x"})
    start(scope, "b", tags={"team": "y"})
    page = scope.backend.query_runs(scope.workspace, scope.experiment, PageRequest(filter='Tags/team eq "x"'))
    assert [run.run_id for run in page.items] == ["a"]
