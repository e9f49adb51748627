"""Benchmark 3: what the ``aml`` and ``aml_workspace`` fixtures cost a test, against building a Workspace."""

from __future__ import annotations

from typing import Callable

from amlmock import AmlMock

from .floor import walkthrough_floor
from .measure import Figure, Sample, Settings, alternate, median_cpu, median_wall, timed
from .walkthrough import workspace

NAME = "3 per-test"
ROUNDS = 10  # fixture set-ups per sample


def _fixtures() -> None:
    with AmlMock() as aml:
        aml.workspace()


def _with_fixtures() -> Sample:
    """Set-up and tear-down of the fixtures, as pytest runs them for each test."""
    return timed(_fixtures)


def _sdk_workspace() -> Sample:
    """The SDK's own ``Workspace(...)`` on the floor (the floor's set-up is not timed)."""
    with walkthrough_floor().active():
        return timed(workspace)


def _rounds(rounds: int, once: Callable[[], Sample]) -> Sample:
    samples = [once() for _ in range(rounds)]
    return Sample(sum(s.wall for s in samples), sum(s.cpu for s in samples))


def run(settings: Settings) -> list[Figure]:
    """Wall time of ``with AmlMock() as aml: aml.workspace()`` over ``Workspace(...)`` on the floor."""
    rounds = settings.pick(ROUNDS, 1)
    variants = {"floor": lambda: _rounds(rounds, _sdk_workspace), "amlmock": lambda: _rounds(rounds, _with_fixtures)}
    samples = alternate(variants, settings)
    floor_wall = median_wall(samples["floor"]) / rounds
    fixtures_wall = median_wall(samples["amlmock"]) / rounds
    raw = {
        "floor_wall_ms": floor_wall * 1000,
        "floor_cpu_ms": median_cpu(samples["floor"]) / rounds * 1000,
        "fixtures_wall_ms": fixtures_wall * 1000,
        "fixtures_cpu_ms": median_cpu(samples["amlmock"]) / rounds * 1000,
    }
    return [Figure(NAME, "fixtures wall / Workspace() on the floor", fixtures_wall / floor_wall, "×", 1.5, raw)]
