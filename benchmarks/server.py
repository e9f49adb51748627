"""Benchmark 5: the loopback server under 8 client threads: throughput, latency and errors.

Each thread keeps one ``requests`` session and cycles through a run read, a tag patch and a
one-value metric batch, until the request budget or the time budget of the load runs out.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests

from amlmock.api import create_app
from amlmock.backend.service import Backend
from amlmock.backend.values import RunFields
from amlmock.transports.server import LoopbackServer

from .measure import Figure, Settings

NAME = "5 server"
THREADS = 8
EXPERIMENT = "server-load"
WORKSPACE_PATH = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"


@dataclass
class Load:
    """What the client threads of one load saw."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.errors += not ok

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, percent: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[percent - 1] * 1000


def _metric_body(step: int) -> dict[str, Any]:
    created = datetime.now(timezone.utc).isoformat()
    value = {"metricId": str(uuid.uuid4()), "createdUtc": created, "data": {"loss": 1 / (step + 1)}}
    return {"values": [{"name": "loss", "columns": {"loss": "double"}, "value": [value]}]}


def _client(base: str, run_id: str, budget: int, deadline: float, load: Load) -> None:
    """One thread's share: read the run, patch a tag, post a metric value, over and over."""
    run_url = f"{base}/history/v1.0{WORKSPACE_PATH}/experiments/{EXPERIMENT}/runs/{run_id}"
    metrics_url = f"{base}/metric/v2.0{WORKSPACE_PATH}/runs/{run_id}/batch"
    with requests.Session() as session:
        session.trust_env = False  # no proxy for 127.0.0.1
        session.headers["Authorization"] = "Bearer x"
        kinds = itertools.cycle(("read", "tag", "metric"))
        for step in range(budget):
            if time.monotonic() > deadline:
                return
            kind = next(kinds)
            started = time.perf_counter()
            try:
                if kind == "read":
                    response = session.get(run_url, timeout=10)
                elif kind == "tag":
                    response = session.patch(run_url, json={"tags": {"step": str(step)}}, timeout=10)
                else:
                    response = session.post(metrics_url, json=_metric_body(step), timeout=10)
                ok = response.ok
            except requests.RequestException:
                ok = False
            load.record(time.perf_counter() - started, ok)


def _seeded_backend() -> tuple[Backend, list[str]]:
    """A backend with one run per client thread."""
    backend = Backend()
    workspace = backend.create_workspace("sub", "rg", "ws")
    experiment = backend.create_experiment(workspace, EXPERIMENT)
    run_ids = [f"load_{index}" for index in range(THREADS)]
    for run_id in run_ids:
        backend.create_or_update_run(workspace, experiment, run_id, RunFields(tags={"kind": "load"}))
    return backend, run_ids


def _load(requests_total: int, seconds: float) -> Load:
    """One bounded load against a fresh server."""
    backend, run_ids = _seeded_backend()
    server = LoopbackServer(create_app(backend)).start()
    load = Load()
    try:
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_client, args=(server.url, run_id, requests_total // THREADS, deadline, load))
            for run_id in run_ids
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load.seconds = time.perf_counter() - started
    finally:
        server.stop()
    return load


def run(settings: Settings) -> list[Figure]:
    """Requests per second, p50 and p99 latency (medians over the loads) and the total error count."""
    requests_total, seconds = settings.pick((2000, 30.0), (48, 10.0))
    loads = [_load(requests_total, seconds) for _ in range(settings.repeat)]
    raw = {"requests": statistics.median(len(load.latencies) for load in loads), "loads": len(loads)}
    per_second = statistics.median(load.per_second for load in loads)
    return [
        Figure(NAME, f"requests/s ({THREADS} threads)", per_second, "", None, raw),
        Figure(NAME, "p50 latency", statistics.median(load.percentile_ms(50) for load in loads), "ms"),
        Figure(NAME, "p99 latency", statistics.median(load.percentile_ms(99) for load in loads), "ms"),
        Figure(NAME, "errors (all loads)", sum(load.errors for load in loads), "", 0),
    ]
