"""The state file of ``amlmock serve``: a small write's cost as the stored state grows, side by side with the
old store (the whole state pickled and rewritten after every change), and latency under concurrent clients."""

from __future__ import annotations

import pickle
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import requests
from werkzeug.test import Client

from amlmock.api import create_app, parse
from amlmock.backend.values import RunFields
from amlmock.backend.service import Backend
from amlmock.persistence.sqlite import SqliteStore
from amlmock.persistence.transactions import Transactions
from amlmock.transports.http import HttpServer

from .measure import Figure, Settings

WS = "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"
RUNS = f"/history/v1.0{WS}/experiments/bench/runs"
HEADERS = {"Authorization": "Bearer bench"}


class _PickleStore:
    """The store this one replaced, for comparison: after each change, the whole state pickled into one row."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE state (id INTEGER PRIMARY KEY, data BLOB)")

    def save(self, backend: Backend) -> None:
        data = pickle.dumps(backend.all_workspaces(), protocol=pickle.HIGHEST_PROTOCOL)
        self._db.execute("INSERT OR REPLACE INTO state (id, data) VALUES (1, ?)", (data,))


def _seed(backend: Backend, runs: int, blob_mb: int) -> None:
    workspace = backend.create_workspace("s", "g", "w")
    experiment = backend.create_experiment(workspace, "bench")
    for number in range(runs):
        run = backend.create_or_update_run(workspace, experiment, f"seed_{number}", RunFields(tags={"i": str(number), "team": "a"}))
        backend.post_metrics(run, parse.metric_batch([{"name": "loss", "value": [{"data": {"loss": v / 10}} for v in range(20)]}])[0])
    for number in range(blob_mb):
        backend.write_blob(workspace, "dcid.blobs", f"file_{number}.bin", bytes(1024 * 1024))


def _write_latency(root: Path, runs: int, blob_mb: int, writes: int, old: bool) -> float:
    """Median seconds of one small write (a tag on a run) with ``runs`` runs and ``blob_mb`` MiB stored."""
    backend = Backend(record_changes=not old)
    _seed(backend, runs, blob_mb)
    path = str(root / f"{'old' if old else 'new'}-{runs}-{blob_mb}.sqlite")
    if old:
        store = _PickleStore(path)
        store.save(backend)
        client = Client(create_app(backend))
        after: Callable[[], None] = lambda: store.save(backend)
    else:
        transactions = Transactions(backend, SqliteStore(path))
        transactions.commit()
        client = Client(create_app(backend, transactions=transactions))
        after = lambda: None
    client.post(f"/history/v1.0{WS}/experiments/bench", headers=HEADERS)
    times = []
    for number in range(writes):
        started = time.perf_counter()
        answer = client.patch(f"{RUNS}/seed_0", json={"tags": {"w": str(number)}}, headers=HEADERS)
        after()
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.get_data()
    return statistics.median(times)


def _concurrent(root: Path, clients: int, writes: int) -> tuple[float, float]:
    """p50 and p99 seconds of small writes from ``clients`` concurrent HTTP clients (one connection each)."""
    backend = Backend(record_changes=True)
    _seed(backend, 0, 0)
    transactions = Transactions(backend, SqliteStore(str(root / f"concurrent-{clients}.sqlite")))
    transactions.commit()
    server = HttpServer(create_app(backend, transactions=transactions), "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{server.port}"
    requests.post(url + f"/history/v1.0{WS}/experiments/bench", headers=HEADERS, timeout=30)
    latencies: list[float] = []

    def client(number: int) -> None:
        session = requests.Session()
        for write in range(writes):
            started = time.perf_counter()
            session.patch(f"{url}{RUNS}/c{number}_{write}", json={"tags": {"w": "1"}}, headers=HEADERS, timeout=60)
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.stop()
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def run(settings: Settings) -> list[Figure]:
    """Write latency by stored state (new and old store), the growth ratio, and concurrent p50/p99."""
    sizes = (0, 50, 200) if settings.smoke else (0, 1_000, 10_000)
    blob_mb, writes = (2, 5) if settings.smoke else (100, 40)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        new, old = {}, {}
        for runs in sizes:
            new[runs] = _write_latency(root, runs, 0, writes, old=False)
            old[runs] = _write_latency(root, runs, 0, writes, old=True)
            figures.append(
                Figure("durable", f"small write, {runs:,} runs stored", new[runs] * 1000, "ms", raw={"old store ms": old[runs] * 1000})
            )
        blob_new = _write_latency(root, 0, blob_mb, writes, old=False)
        blob_old = _write_latency(root, 0, blob_mb, writes, old=True)
        figures.append(
            Figure("durable", f"small write, {blob_mb} MiB of blobs stored", blob_new * 1000, "ms", raw={"old store ms": blob_old * 1000})
        )
        largest = sizes[-1]
        figures.append(Figure("durable", f"write cost ratio {largest:,} runs / 0 runs", new[largest] / new[0], goal=2.0))
        figures.append(
            Figure("durable", f"writes per second, one client, {largest:,} runs", 1 / new[largest], raw={"old store": 1 / old[largest]})
        )
        for clients in ((2, 4) if settings.smoke else (8, 64)):
            p50, p99 = _concurrent(root, clients, writes)
            figures.append(Figure("durable", f"{clients} concurrent clients, p50 (p99 in raw)", p50 * 1000, "ms", raw={"p99 ms": p99 * 1000}))
    return figures
