"""Stateful property test of the run lifecycle, tags and properties, driven through the real SDK.

A hypothesis ``RuleBasedStateMachine`` holds one active ``mock_aml()`` per example, an experiment
and a handful of SDK runs (``start_logging`` roots and ``child_run`` children). Rules call the
SDK (``complete``/``fail``/``cancel``, ``tag``/``set_tags``/``remove_tags``, ``add_properties``);
a pure-Python model, written independently of ``amlmock.backend.lifecycle``, says what the
service must hold afterwards. Invariants compare the fake's records with the model after every
step, and each rule reads the touched run back through the SDK.

SDK facts the model relies on (sdk-wire-protocol.md 3.4-3.7): ``start_logging``/``child_run``
send one Start event; ``complete()`` sends Completed; ``fail()`` sends Error then Failed;
``cancel()`` sends Canceled; no client-side guard stops any of them on an ended run.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Optional

import pytest
from azureml._restclient.exceptions import ServiceException
from azureml.core import Experiment
from azureml.core import Run as SdkRun
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from amlmock import mock_aml
from amlmock.backend.lifecycle import EVENT_PREFIX

MAX_RUNS = 5
TERMINAL = ("Completed", "Failed", "Canceled")

# Small alphabets so that keys collide and values repeat; spaces, dots and quotes on purpose.
TAG_KEYS = st.sampled_from(["a", "b", "a b", "x.y"])
TAG_VALUES = st.sampled_from(["1", "2", "v w", 'q"t', ""])
PROPERTY_KEYS = st.sampled_from(["p", "q", "p.q"])
PROPERTY_VALUES = st.sampled_from(["1", "2", None])
ENDINGS = st.sampled_from(["complete", "fail", "cancel"])

# What one status event asks for; ``None``: recorded, never changes the status.
EVENT_TARGET: dict[str, Optional[str]] = {
    "Start": "Running",
    "Completed": "Completed",
    "Error": None,
    "Failed": "Failed",
    "Canceled": "Canceled",
}


def expected_transition(status: str, event: str) -> tuple[str, bool]:
    """The issue's rules: forward only, terminal states sticky, except Failed after Completed."""
    target = EVENT_TARGET[event]
    if target is None or target == status:
        return status, False
    if status in TERMINAL:
        if status == "Completed" and target == "Failed":
            return target, True
        return status, False
    return target, True


@dataclass
class RunModel:
    """What the service should hold for one run."""

    run_id: str
    parent_id: Optional[str]
    status: str = "NotStarted"
    history: list[tuple[str, str, str, bool]] = field(default_factory=list)
    tags: dict[str, Optional[str]] = field(default_factory=dict)
    properties: dict[str, Optional[str]] = field(default_factory=dict)
    failed_once: bool = False

    def receive(self, event: str) -> None:
        """Record one status event the SDK sent, applied or not."""
        after, applied = expected_transition(self.status, event)
        self.history.append((EVENT_PREFIX + event, self.status, after, applied))
        self.status = after


class LifecycleMachine(RuleBasedStateMachine):
    """Random sequences of SDK calls on a few runs, checked against ``RunModel``."""

    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        self.cleanup = ExitStack()
        try:
            self.aml = self.cleanup.enter_context(mock_aml())
            self.experiment = Experiment(self.aml.workspace(), "lifecycle-hypothesis")
        except BaseException:
            self.cleanup.close()
            raise
        self.models: dict[str, RunModel] = {}
        self.sdk_runs: dict[str, SdkRun] = {}

    def teardown(self) -> None:
        self.cleanup.close()

    # ------------------------------------------------------------------ helpers
    def _adopt(self, sdk_run: SdkRun, parent_id: Optional[str]) -> str:
        model = RunModel(sdk_run.id, parent_id)
        model.receive("Start")
        self.models[sdk_run.id] = model
        self.sdk_runs[sdk_run.id] = sdk_run
        return sdk_run.id

    def _handle(self, run_id: str, fresh: bool) -> SdkRun:
        """The SDK object that created the run, or a new one rehydrated by id (one GET)."""
        return SdkRun(self.experiment, run_id) if fresh else self.sdk_runs[run_id]

    def _check_through_sdk(self, run_id: str) -> None:
        """Read the touched run back through a fresh SDK object (its cache cannot mask the truth)."""
        model = self.models[run_id]
        fresh = SdkRun(self.experiment, run_id)
        assert fresh.get_status() == model.status
        assert fresh.get_tags() == model.tags
        assert fresh.get_properties() == model.properties
        parent = fresh.parent  # one more GET when the run has a parent
        assert (parent.id if parent is not None else None) == model.parent_id

    # ------------------------------------------------------------------ creation
    @initialize(target=runs)
    def first_run(self) -> str:
        return self._adopt(self.experiment.start_logging(snapshot_directory=None), None)

    @precondition(lambda self: len(self.models) < MAX_RUNS)
    @rule(target=runs)
    def start_root(self) -> str:
        return self._adopt(self.experiment.start_logging(snapshot_directory=None), None)

    @precondition(lambda self: len(self.models) < MAX_RUNS)
    @rule(target=runs, parent=runs)
    def start_child(self, parent: str) -> str:
        child = self.sdk_runs[parent].child_run()
        return self._adopt(child, parent)

    # ------------------------------------------------------------------ status events
    def _end(self, run_id: str, ending: str, fresh: bool = False, details: object = None) -> None:
        """Call ``complete()``, ``fail()`` or ``cancel()`` and record the events that sends."""
        handle = self._handle(run_id, fresh)
        model = self.models[run_id]
        if ending == "complete":
            handle.complete()
            model.receive("Completed")
        elif ending == "fail":
            handle.fail(error_details=details)
            model.receive("Error")
            model.receive("Failed")
            model.failed_once = True
        else:
            handle.cancel()
            model.receive("Canceled")
        self._check_through_sdk(run_id)

    @rule(run_id=runs, fresh=st.booleans())
    def complete(self, run_id: str, fresh: bool) -> None:
        self._end(run_id, "complete", fresh)

    @rule(run_id=runs, fresh=st.booleans(), details=st.sampled_from([None, "boom", RuntimeError("bad")]))
    def fail(self, run_id: str, fresh: bool, details: object) -> None:
        self._end(run_id, "fail", fresh, details)

    @rule(run_id=runs, fresh=st.booleans())
    def cancel(self, run_id: str, fresh: bool) -> None:
        self._end(run_id, "cancel", fresh)

    @rule(run_id=runs, first=ENDINGS, second=ENDINGS)
    def end_twice(self, run_id: str, first: str, second: str) -> None:
        """Two endings in a row, as in ``run.complete()`` followed by ``run.fail()`` in an except block."""
        self._end(run_id, first)
        self._end(run_id, second)

    # ------------------------------------------------------------------ tags
    @rule(run_id=runs, key=TAG_KEYS, value=st.one_of(st.none(), TAG_VALUES))
    def tag(self, run_id: str, key: str, value: Optional[str]) -> None:
        sdk_run = self.sdk_runs[run_id]
        if value is None:
            sdk_run.tag(key)
        else:
            sdk_run.tag(key, value)
        self.models[run_id].tags[key] = value
        assert sdk_run.get_tags() == self.models[run_id].tags

    @rule(run_id=runs, tags=st.dictionaries(TAG_KEYS, st.one_of(st.none(), TAG_VALUES), max_size=3))
    def set_tags(self, run_id: str, tags: dict[str, Optional[str]]) -> None:
        sdk_run = self.sdk_runs[run_id]
        sdk_run.set_tags(tags)
        self.models[run_id].tags.update(tags)
        assert sdk_run.get_tags() == self.models[run_id].tags

    @rule(run_id=runs, keys=st.lists(TAG_KEYS, min_size=1, max_size=2, unique=True))
    def remove_tags(self, run_id: str, keys: list[str]) -> None:
        sdk_run = self.sdk_runs[run_id]
        sdk_run.remove_tags(keys)
        for key in keys:
            self.models[run_id].tags.pop(key, None)
        assert sdk_run.get_tags() == self.models[run_id].tags
        assert sdk_run.tags == self.models[run_id].tags  # the DELETE's RunDto refreshed the cache

    # ------------------------------------------------------------------ properties
    @rule(run_id=runs, update=st.dictionaries(PROPERTY_KEYS, PROPERTY_VALUES, min_size=1, max_size=2))
    def add_properties(self, run_id: str, update: dict[str, Optional[str]]) -> None:
        sdk_run = self.sdk_runs[run_id]
        model = self.models[run_id]
        clash = [k for k, v in update.items() if k in model.properties and model.properties[k] != v]
        if clash:
            with pytest.raises(ServiceException) as raised:
                sdk_run.add_properties(update)
            assert raised.value.status_code == 400
            assert "already exists" in raised.value.message
        else:
            sdk_run.add_properties(update)
            model.properties.update(update)
        assert sdk_run.get_properties() == model.properties

    # ------------------------------------------------------------------ invariants
    @invariant()
    def fake_matches_model(self) -> None:
        # One ``aml.runs()`` per step: every ``aml.run(id)`` flushes every live SDK Run (an HTTP call each).
        records = {record.run_id: record for record in self.aml.runs()}
        assert set(records) == set(self.models)
        for run_id, model in self.models.items():
            record = records[run_id]
            assert record.status == model.status, run_id
            history = [(e.name, e.status_before, e.status_after, e.applied) for e in record.status_history]
            assert history == model.history, run_id
            assert record.tags == model.tags
            assert record.properties == model.properties
            assert record.parent_run_id == model.parent_id
            assert record.start_time_utc is not None
            assert (record.end_time_utc is not None) == (model.status in TERMINAL)
            assert (record.error is not None) == model.failed_once
            # The history is a chain: each event starts where the previous one left the run.
            status = "NotStarted"
            for event in record.status_history:
                assert event.status_before == status
                assert event.applied == (event.status_after != event.status_before)
                status = event.status_after
            assert status == record.status


def test_run_lifecycle_through_the_sdk() -> None:
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            database=None,
            phases=[phase for phase in Phase if phase is not Phase.explain],  # explaining re-runs the SDK a lot
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
