"""Benchmark 1: the fake's overhead over the floor, on the seed walkthrough."""

from __future__ import annotations

import itertools

from amlmock import mock_aml

from .floor import walkthrough_floor
from .measure import Figure, Sample, Settings, alternate, median_cpu, median_wall, timed
from .walkthrough import prepare, walkthrough

NAME = "1 overhead"
ROUNDS = 3  # walkthroughs per sample: about half a second, long enough to time on a noisy machine

_labels = itertools.count()


def _walkthroughs(rounds: int) -> None:
    for _ in range(rounds):
        walkthrough(f"round-{next(_labels)}")


def _against_fake(rounds: int) -> Sample:
    with mock_aml() as aml:
        prepare(aml)
        return timed(lambda: _walkthroughs(rounds))


def _against_floor(rounds: int) -> Sample:
    with walkthrough_floor().active():
        return timed(lambda: _walkthroughs(rounds))


def run(settings: Settings) -> list[Figure]:
    """CPU of the walkthrough against amlmock over the same against the floor; wall over floor CPU."""
    rounds = settings.pick(ROUNDS, 1)
    samples = alternate({"floor": lambda: _against_floor(rounds), "amlmock": lambda: _against_fake(rounds)}, settings)
    floor_cpu, floor_wall = median_cpu(samples["floor"]) / rounds, median_wall(samples["floor"]) / rounds
    fake_cpu, fake_wall = median_cpu(samples["amlmock"]) / rounds, median_wall(samples["amlmock"]) / rounds
    raw = {"floor_cpu_s": floor_cpu, "floor_wall_s": floor_wall, "amlmock_cpu_s": fake_cpu, "amlmock_wall_s": fake_wall}
    return [
        Figure(NAME, "amlmock CPU / floor CPU", fake_cpu / floor_cpu, "×", 1.10, raw),
        Figure(NAME, "amlmock wall / floor CPU", fake_wall / floor_cpu, "×", 1.5),
    ]
