"""The benchmarks in table order, and one call that runs them."""

from __future__ import annotations

import time
from typing import Callable, Iterable

from . import browser, durable, mlflow_stores, overhead, peer, per_test, queries, server, submit
from .measure import Figure, Settings, progress

Benchmark = Callable[[Settings], list[Figure]]

BENCHMARKS: dict[str, Benchmark] = {
    "overhead": overhead.run,
    "queries": queries.run,
    "per-test": per_test.run,
    "peer": peer.run,
    "server": server.run,
    "submit": submit.run,
    "mlflow": mlflow_stores.run,
    "durable": durable.run,
    "browser": browser.run,
}


def run_benchmarks(settings: Settings, names: Iterable[str] | None = None) -> dict[str, list[Figure]]:
    """Run the named benchmarks (all by default); their figures by benchmark name."""
    results: dict[str, list[Figure]] = {}
    for name in names or BENCHMARKS:
        progress(f"{name} ...")
        started = time.perf_counter()
        results[name] = BENCHMARKS[name](settings)
        progress(f"{name} done in {time.perf_counter() - started:.1f} s")
    return results


def run_smoke(names: Iterable[str] | None = None) -> dict[str, list[Figure]]:
    """The fast mode the test suite runs: tiny workloads, one repetition."""
    return run_benchmarks(Settings(repeat=1, smoke=True), names)
