"""What every benchmark shares: settings, timing, interleaved repetitions and the result table."""

from __future__ import annotations

import gc
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """How hard to measure: ``repeat`` samples per variant; ``smoke`` shrinks every workload."""

    repeat: int = 5
    smoke: bool = False

    def pick(self, full: T, smoke: T) -> T:
        """The full-size value, or the tiny one in smoke mode."""
        return smoke if self.smoke else full


@dataclass(frozen=True)
class Sample:
    """Wall-clock and CPU seconds (CPU of every thread of this process) of one measured action."""

    wall: float
    cpu: float


def timed(action: Callable[[], object]) -> Sample:
    """Time ``action`` after a garbage collection, so earlier samples' garbage is not billed to it."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return Sample(time.perf_counter() - wall, time.process_time() - cpu)


def alternate(variants: Mapping[str, Callable[[], Sample]], settings: Settings) -> dict[str, list[Sample]]:
    """``settings.repeat`` samples of each variant, interleaved (AB BA AB ...) so drift hits all alike.

    Outside smoke mode each variant first runs once unmeasured, to warm caches and imports.
    """
    if not settings.smoke:
        for measure in variants.values():
            measure()
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    names = list(variants)
    for index in range(settings.repeat):
        for name in names if index % 2 == 0 else reversed(names):
            samples[name].append(variants[name]())
    return samples


def median_wall(samples: Iterable[Sample]) -> float:
    """Median wall-clock seconds."""
    return statistics.median(s.wall for s in samples)


def median_cpu(samples: Iterable[Sample]) -> float:
    """Median CPU seconds."""
    return statistics.median(s.cpu for s in samples)


def progress(message: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Figure:
    """One row of the result table: a measured value, its goal (a maximum) and the raw medians behind it."""

    benchmark: str
    name: str
    value: float
    unit: str = ""
    goal: float | None = None
    raw: Mapping[str, float] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def ok(self) -> bool | None:
        """Whether the goal is met; None when there is no goal or nothing was measured."""
        if self.goal is None or self.skipped:
            return None
        return self.value <= self.goal

    @property
    def numbers(self) -> list[float]:
        """The measured value and every raw median."""
        return [self.value, *self.raw.values()]

    @classmethod
    def skip(cls, benchmark: str, name: str, reason: str) -> "Figure":
        """A row saying why a benchmark could not run."""
        return cls(benchmark, name, math.nan, skipped=reason)


def _number(value: float, unit: str = "") -> str:
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{text} {unit}".strip() if unit != "×" else f"{text}×"


def format_table(figures: Iterable[Figure]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| benchmark | figure | measured | goal | ok? | raw medians |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        measured = f"skipped: {f.skipped}" if f.skipped else _number(f.value, f.unit)
        goal = "" if f.goal is None else f"≤ {_number(f.goal, f.unit)}"
        ok = {True: "yes", False: "NO", None: ""}[f.ok]
        raw = ", ".join(f"{key} {_number(value)}" for key, value in f.raw.items())
        lines.append(f"| {f.benchmark} | {f.name} | {measured} | {goal} | {ok} | {raw} |")
    return "\n".join(lines)
