"""The name rules of run ids, experiment names and model names, on the backend alone (one helper, ``limits.check_name``)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amlmock.backend import limits
from amlmock.backend.errors import ValidationError
from amlmock.backend.registry import MODEL_NAME_PATTERN, check_model_name

CHECKS = [
    (limits.check_run_id, limits.RUN_ID_PATTERN, "runId", "Run id"),
    (limits.check_experiment_name, limits.EXPERIMENT_NAME_PATTERN, "experimentName", "Experiment name"),
    (check_model_name, MODEL_NAME_PATTERN, "name", "Model name"),
]
NAMES = st.one_of(st.text(alphabet="aZ09_-. /é", max_size=8), st.from_regex(r"[a-z0-9][a-z0-9_\-.]{0,20}", fullmatch=True))


@pytest.mark.parametrize(("check", "pattern", "target", "noun"), CHECKS)
@given(name=NAMES)
def test_a_name_is_accepted_exactly_when_its_pattern_matches(check, pattern: re.Pattern[str], target: str, noun: str, name: str):
    if pattern.match(name):
        assert check(name) == name
    else:
        with pytest.raises(ValidationError) as refused:
            check(name)
        assert refused.value.target == target
        assert refused.value.message.startswith(f"{noun} {name!r} is invalid: ")


@pytest.mark.parametrize(("check", "pattern", "target", "noun"), CHECKS)
@pytest.mark.parametrize("name", [None, 7, ["run"]])
def test_a_name_that_is_not_a_string_is_refused_as_invalid(check, pattern, target: str, noun: str, name: object):
    with pytest.raises(ValidationError) as refused:
        check(name)
    assert refused.value.target == target
    assert refused.value.message.startswith(f"{noun} {name!r} is invalid: ")


def test_the_experiment_name_message_names_its_pattern():
    with pytest.raises(ValidationError) as refused:
        limits.check_experiment_name("-x")
    assert refused.value.message == r"Experiment name '-x' is invalid: it must match ^[a-zA-Z0-9][\w\-]{0,254}$"
