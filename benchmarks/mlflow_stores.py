"""Benchmark 7: MLflow under amlmock against MLflow's own local stores (SQLite, file), same process, same workload.

Per call: ``MlflowClient.log_metric`` and ``log_batch`` (100 metrics) on one run, end to end and amlmock's own
share (the CPU its transport spends answering; the rest is MLflow's REST client, which any tracking server
costs). Per test: a fresh amlmock workspace with an experiment and a run, against a fresh SQLite tracking store
(its Alembic migrations) with the same.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import statistics
import tempfile
from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator

from amlmock import AmlMock

from .measure import Figure, Sample, Settings, alternate, median_cpu, median_wall, timed
from .queries import FakeShare

NAME = "7 mlflow"
CALLS = 200  # log_metric calls per sample
BATCHES = 20  # log_batch calls per sample
BATCH_SIZE = 100  # metrics per log_batch
NAMES = 10  # metric names in a batch (a run has at most 50 metric names on the service)
SETUP_SAMPLES = 3  # a fresh SQLite store takes seconds (its migrations): fewer samples than the other figures


def _missing() -> str | None:
    """Why the benchmark cannot run, or None."""
    if not all(importlib.util.find_spec(m) for m in ("mlflow", "azureml.mlflow")):
        return "needs the mlflow extra (pip install .[mlflow])"
    if not all(importlib.util.find_spec(m) for m in ("sqlalchemy", "alembic")):
        return "needs sqlalchemy and alembic for MLflow's SQLite store (pip install .[bench])"
    return None


@contextmanager
def _amlmock() -> Iterator[str]:
    with _amlmock_and_uri() as (_, uri):
        yield uri


@contextmanager
def _amlmock_and_uri() -> Iterator[tuple[AmlMock, str]]:
    with AmlMock() as aml:
        yield aml, aml.workspace().get_mlflow_tracking_uri()


@contextmanager
def _local(scheme: str) -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="amlmock-bench-mlflow-")
    try:
        yield f"sqlite:///{folder}/mlflow.db" if scheme == "sqlite" else f"file://{folder}/mlruns"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _client_and_run(uri: str) -> tuple[object, str]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("bench")
    return client, client.create_run(experiment_id).info.run_id


def _log_metrics(client: object, run_id: str, calls: int) -> Sample:
    return timed(lambda: [client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i) for i in range(calls)])  # type: ignore[attr-defined]


def _log_batches(client: object, run_id: str, batches: int) -> Sample:
    from mlflow.entities import Metric

    def log() -> None:
        for batch in range(batches):
            metrics = [Metric(f"m{i % NAMES}", float(i), 0, batch * BATCH_SIZE + i) for i in range(BATCH_SIZE)]
            client.log_batch(run_id, metrics=metrics)  # type: ignore[attr-defined]

    return timed(log)


def _per_call(settings: Settings, measure: Callable[[object, str, int], Sample], count: int) -> dict[str, float]:
    """Median seconds per call of ``measure`` on amlmock, the SQLite store and the file store (one store each)."""
    results: dict[str, float] = {}
    shares: list[float] = []
    with _amlmock_and_uri() as (aml, aml_uri), _local("sqlite") as sqlite_uri, _local("file") as file_uri:
        clients = {name: _client_and_run(uri) for name, uri in (("amlmock", aml_uri), ("sqlite", sqlite_uri), ("file", file_uri))}
        answering = FakeShare(aml)
        variants = {name: (lambda c=c: measure(c[0], c[1], count)) for name, c in clients.items()}
        on_amlmock = variants["amlmock"]
        variants["amlmock"] = lambda: answering.measure(on_amlmock, shares)
        samples = alternate(variants, settings)
    for name, taken in samples.items():
        results[f"{name}_ms"] = median_wall(taken) / count * 1000
        results[f"{name}_cpu_ms"] = median_cpu(taken) / count * 1000
    results["amlmock_share_ms"] = statistics.median(shares[-settings.repeat:]) / count * 1000
    return results


def _fresh(store: Callable[[], ContextManager[str]]) -> Sample:
    """A test's set-up and tear-down: a fresh store, an experiment and a run in it."""

    def setup() -> None:
        with store() as uri:
            _client_and_run(uri)

    return timed(setup)


def _fresh_amlmock() -> Sample:
    return _fresh(_amlmock)


def _fresh_sqlite() -> Sample:
    return _fresh(lambda: _local("sqlite"))


def run(settings: Settings) -> list[Figure]:
    """Per-call cost under amlmock over the file store's, and a fresh amlmock workspace over a fresh SQLite store."""
    missing = _missing()
    if missing:
        return [Figure.skip(NAME, "per-call log_metric, log_batch and set-up", missing)]
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # deprecated and refused by default since MLflow 3.x
    metric = _per_call(settings, _log_metrics, settings.pick(CALLS, 5))
    batch = _per_call(settings, _log_batches, settings.pick(BATCHES, 2))
    setup_settings = Settings(repeat=settings.pick(min(settings.repeat, SETUP_SAMPLES), 1), smoke=settings.smoke)
    setups = alternate({"amlmock": _fresh_amlmock, "sqlite": _fresh_sqlite}, setup_settings)
    setup = {f"{name}_setup_ms": median_wall(taken) * 1000 for name, taken in setups.items()}
    return [
        Figure(NAME, "log_metric per call: amlmock / file store", metric["amlmock_ms"] / metric["file_ms"], "×", 1.0, metric),
        Figure(NAME, "log_metric per call: amlmock's own share / file store", metric["amlmock_share_ms"] / metric["file_ms"], "×", 1.0, {}),
        Figure(NAME, "log_metric per call: amlmock / SQLite store", metric["amlmock_ms"] / metric["sqlite_ms"], "×", None, {}),
        Figure(NAME, "log_batch (100) per call: amlmock / file store", batch["amlmock_ms"] / batch["file_ms"], "×", 1.0, batch),
        Figure(NAME, "log_batch (100) per call: amlmock's own share / file store", batch["amlmock_share_ms"] / batch["file_ms"], "×", 1.0, {}),
        Figure(NAME, "log_batch (100) per call: amlmock / SQLite store", batch["amlmock_ms"] / batch["sqlite_ms"], "×", None, {}),
        Figure(NAME, "fresh workspace / fresh SQLite store (set-up)", setup["amlmock_setup_ms"] / setup["sqlite_setup_ms"], "×", 0.01, setup),
    ]
