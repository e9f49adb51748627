"""The backend's rule modules one by one (docs/lifecycle.md): the state machine, limits, immutable properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlmock.backend import limits
from amlmock.backend.errors import ImmutablePropertyError, ValidationError
from amlmock.backend.labels import check_properties_added
from amlmock.backend.lifecycle import (
    ACTIVE_STATES,
    ALL_STATES,
    EVENT_PREFIX,
    EVENT_TARGETS,
    TERMINAL_STATES,
    apply_status_event,
    event_kind,
)

STATUS_EVENTS = [kind for kind, target in EVENT_TARGETS.items() if target is not None]


@given(st.sampled_from(ALL_STATES), st.sampled_from(list(EVENT_TARGETS)))
def test_the_state_machine_against_its_written_rules(current, kind):
    """docs/lifecycle.md: events without a status never change it; a terminal run stays (except
    Completed -> Failed, the SDK's fail() after complete()); an end applies to any active run; otherwise a
    run only moves forward in the SDK's RunStatus order."""
    target = EVENT_TARGETS[kind]
    transition = apply_status_event(current, kind)
    if target is None or target == current:
        expected = current
    elif current in TERMINAL_STATES:
        expected = target if (current, target) == ("Completed", "Failed") else current
    elif target in TERMINAL_STATES or ALL_STATES.index(target) > ALL_STATES.index(current):
        expected = target
    else:
        expected = current
    assert transition.status == expected
    assert transition.applied == (expected != current)
    assert transition.reason


@pytest.mark.parametrize("terminal", TERMINAL_STATES)
def test_an_ended_run_never_runs_again(terminal):
    assert apply_status_event(terminal, "Start").status == terminal


def test_a_run_never_moves_backwards():
    assert not apply_status_event("Running", "Queued").applied
    assert apply_status_event("NotStarted", "Queued").status == "Queued"


@pytest.mark.parametrize("name, kind", [
    (EVENT_PREFIX + "Start", "Start"),
    (EVENT_PREFIX + "Heartbeat", "Heartbeat"),
    ("Start", None),
    (EVENT_PREFIX + "Exploded", None),
])
def test_event_names_carry_the_service_prefix(name, kind):
    assert event_kind(name) == kind


def test_every_state_is_ordered_once():
    assert len(set(ALL_STATES)) == len(ACTIVE_STATES) + len(TERMINAL_STATES)
    assert set(STATUS_EVENTS) <= {"Queued", "Start", "CancelRequested", "Completed", "Failed", "Canceled"}


@given(st.text(alphabet="abcXYZ019_-", min_size=1, max_size=255))
def test_run_ids_of_allowed_characters_up_to_255_pass(run_id):
    limits.check_run_id(run_id)


@pytest.mark.parametrize("run_id", ["x" * 256, "a b", "a/b", "ü"])
def test_other_run_ids_are_refused(run_id):
    with pytest.raises(ValidationError, match="alphanumeric characters with dashes and underscores"):
        limits.check_run_id(run_id)


@pytest.mark.parametrize("name, ok", [("e", True), ("9-lives_2", True), ("-leading-dash", False), ("x" * 256, False), ("x" * 255, True)])
def test_experiment_names(name, ok):
    if ok:
        limits.check_experiment_name(name)
    else:
        with pytest.raises(ValidationError):
            limits.check_experiment_name(name)


@given(st.integers(0, 2000))
def test_a_text_limit_is_inclusive(length):
    """A field of exactly ``limit`` characters is kept; one more is refused, naming both numbers."""
    limit = limits.MAX_VALUE_LENGTH
    if length <= limit:
        limits.check_length("target", "x" * length, limit)
    else:
        with pytest.raises(ValidationError, match=f"{length} characters long; the limit is {limit}"):
            limits.check_length("target", "x" * length, limit)


def test_tag_keys_and_values_have_their_own_limits():
    limits.check_string_map("tags", {"k" * 100: "v" * 1000, "none": None}, max_entries=50)
    with pytest.raises(ValidationError):
        limits.check_string_map("tags", {"k" * 101: "v"}, max_entries=50)
    with pytest.raises(ValidationError):
        limits.check_string_map("tags", {"k": "v" * 1001}, max_entries=50)
    with pytest.raises(ValidationError, match="keys must not be empty"):
        limits.check_string_map("tags", {"": "v"}, max_entries=50)
    with pytest.raises(ValidationError, match="must be a string"):
        limits.check_string_map("tags", {"k": 1}, max_entries=50)


@given(st.dictionaries(st.sampled_from("abc"), st.sampled_from(["1", "2", None])),
       st.dictionaries(st.sampled_from("abc"), st.sampled_from(["1", "2", None])))
def test_properties_are_add_only(current, update):
    """A key already set may be sent again with its value; another value is ImmutableProperty naming the key."""
    changed = [k for k in update if k in current and current[k] != update[k]]
    if changed:
        with pytest.raises(ImmutablePropertyError) as refused:
            check_properties_added(current, update)
        assert refused.value.target == changed[0]
        assert all(f"Property {key} already exists" in refused.value.message for key in changed)
    else:
        check_properties_added(current, update)
