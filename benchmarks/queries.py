"""Benchmark 2: selective run queries as the experiment grows, and memory per stored run and metric value.

Runs are seeded straight into the backend (no HTTP), each with 10 tags of ``faker`` values. Their
bodies go through ``json`` first, as the API layer's would, so every run owns its strings and the
memory figures count them.
"""

from __future__ import annotations

import functools
import json
import statistics
import time
import tracemalloc
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from azureml.core import Experiment
from faker import Faker
from requests import PreparedRequest

from amlmock import AmlMock, mock_aml
from amlmock.api import parse
from amlmock.backend.models import Experiment as FakeExperiment
from amlmock.backend.models import Run as FakeRun
from amlmock.backend.models import Workspace as FakeWorkspace
from amlmock.backend.service import Backend
from amlmock.backend.values import RunFields
from amlmock.transports.responses_adapter import Reply, catch_all, wsgi_callback

from .floor import Floor
from .measure import Figure, Sample, Settings, alternate, median_cpu, progress, timed
from .walkthrough import workspace

NAME = "2 queries"
EXPERIMENT = "query-scaling"
BUCKETS = 100  # each run falls in one of 100 buckets: a query for one bucket matches 1% of the runs
COHORT = 1000  # runs 0-999 form cohort c0: with a bucket, a query that matches 10 runs at every size
POOL_SIZE = 1000
SDK_PAGE_SIZE = 500  # the SDK's DEFAULT_PAGE_SIZE: the ``top`` of every run query it sends
METRIC_BATCH = 250  # the service's maximum rows per metric batch


class RunSeeder:
    """Makes run bodies with 10 tags (9 of ``faker`` values, one bucket) and 2 properties (bucket, cohort).

    Each faker tag takes one of 1,000 values, so at 10k runs a value is shared by about 10 runs, as owners,
    datasets and commits are in a real experiment; ``unique`` gives every run values of its own instead.
    """

    def __init__(self, seed: int = 5, unique: bool = False) -> None:
        self.unique = unique
        fake = Faker()
        fake.seed_instance(seed)
        makers: dict[str, Callable[[], Any]] = {
            "owner": fake.user_name,
            "team": fake.word,
            "dataset": fake.file_name,
            "commit": fake.sha1,
            "learning_rate": lambda: f"{fake.pyfloat(min_value=0, max_value=1):.5f}",
            "host": fake.hostname,
            "created_by": fake.name,
            "note": lambda: fake.sentence(nb_words=4),
            "region": fake.country_code,
        }
        self.pools = {key: [make() for _ in range(POOL_SIZE)] for key, make in makers.items()}

    def body(self, index: int) -> dict[str, Any]:
        """The body of run ``index``, decoded from JSON like a request's."""
        run_id = f"run_{index:07d}"
        suffix = f"-{index}" if self.unique else ""
        tags = {key: pool[(index * 7 + n) % POOL_SIZE] + suffix for n, (key, pool) in enumerate(self.pools.items())}
        tags["bucket"] = f"b{index % BUCKETS}{suffix}"
        properties = {"split": f"s{index % BUCKETS}{suffix}", "cohort": f"c{index // COHORT}{suffix}"}
        body = {"runId": run_id, "name": run_id, "tags": tags, "properties": properties}
        return json.loads(json.dumps(body))

    def seed(
        self, backend: Backend, workspace: FakeWorkspace, experiment: FakeExperiment, start: int, stop: int
    ) -> None:
        """Store runs ``start`` to ``stop - 1`` (progress on stderr)."""
        for index in range(start, stop):
            body = self.body(index)
            backend.create_or_update_run(workspace, experiment, body["runId"], parse.run_fields(body, body["runId"]))
            if (index + 1) % 20_000 == 0:
                progress(f"seeded {index + 1:,} runs")


def _metric_batch(first_step: int, rows: int) -> list[dict[str, Any]]:
    """One metric batch as the SDK sends it: one entry per logged scalar, decoded from JSON."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    entries = [
        {
            "name": "loss",
            "columns": {"loss": "double"},
            "value": [{"metricId": str(uuid.uuid4()), "createdUtc": now, "data": {"loss": 1 / (step + 1)}}],
            "properties": {"uxMetricType": "azureml.v1.scalar"},
        }
        for step in range(first_step, first_step + rows)
    ]
    return json.loads(json.dumps(entries))


def _traced_bytes(action: Callable[[], None]) -> int:
    """Bytes still allocated after ``action`` that were allocated during it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def _fake_parts() -> tuple[Backend, FakeWorkspace, FakeExperiment]:
    backend = Backend()
    fake_ws = backend.create_workspace("sub", "rg", "ws")
    return backend, fake_ws, backend.create_experiment(fake_ws, EXPERIMENT)


def bytes_per_run(seeder: RunSeeder, runs: int) -> float:
    """Memory the backend keeps per run (its strings and the indexes included)."""
    backend, fake_ws, fake_exp = _fake_parts()
    return _traced_bytes(lambda: seeder.seed(backend, fake_ws, fake_exp, 0, runs)) / runs


def bytes_per_metric_value(values: int) -> float:
    """Memory the backend keeps per scalar metric value (batches are built while tracing: rows keep parts)."""
    backend, fake_ws, fake_exp = _fake_parts()
    run: FakeRun = backend.create_or_update_run(fake_ws, fake_exp, "metrics_run", RunFields())

    def store() -> None:
        for start in range(0, values, METRIC_BATCH):
            backend.post_metrics(run, parse.metric_batch(_metric_batch(start, min(METRIC_BATCH, values - start)))[0])

    return _traced_bytes(store) / values


QUERIES = {
    "1% match": {"tags": {"bucket": "b7"}, "properties": {"split": "s7"}},
    "10 matches": {"tags": {"bucket": "b7"}, "properties": {"cohort": "c0"}},
}


def _first_page(exp: Experiment, query: dict[str, Any]) -> None:
    """The first page of a query by tag and property (the SDK fetches up to 500 runs per page)."""
    next(iter(exp.get_runs(**query)))


def _query_costs(settings: Settings, sizes: tuple[int, ...], seeder: RunSeeder) -> dict[tuple[str, int, str], float]:
    """Median CPU seconds of each query's first page, at each size, as one experiment grows: against
    amlmock (``amlmock``, and ``fake`` for the part spent inside amlmock's transport answering), and
    against the floor (the SDK alone, handed amlmock's recorded reply to the same query)."""
    costs: dict[tuple[str, int, str], float] = {}
    with mock_aml() as aml:
        fake_ws = aml.create_workspace()
        fake_exp = aml.backend.create_experiment(fake_ws, EXPERIMENT)
        exp = Experiment(workspace=workspace(), name=EXPERIMENT)
        answering = FakeShare(aml)
        seeded = 0
        for size in sizes:
            started = time.perf_counter()
            seeder.seed(aml.backend, fake_ws, fake_exp, seeded, size)
            progress(f"{size:,} runs seeded in {time.perf_counter() - started:.1f} s; querying")
            seeded = size
            for label, query in QUERIES.items():
                page = functools.partial(_first_page, exp, query)
                floor = Floor.record_in(aml, page)  # also the warm-up
                shares: list[float] = []
                samples = alternate(
                    {"amlmock": lambda: answering.measure(page, shares), "floor": lambda: _on_floor(floor, page)},
                    settings,
                )
                for variant, measured in samples.items():
                    costs[label, size, variant] = median_cpu(measured)
                costs[label, size, "fake"] = statistics.median(shares[-settings.repeat:])
    return costs


class FakeShare:
    """amlmock's own transport with a clock: the CPU spent answering (routing, state, DTOs, JSON)."""

    def __init__(self, aml: AmlMock) -> None:
        self.answer = wsgi_callback(aml.app)
        self.seconds = 0.0

    def __call__(self, request: PreparedRequest) -> Reply:
        started = time.thread_time()
        try:
            return self.answer(request)
        finally:
            self.seconds += time.thread_time() - started

    def measure(self, action: Callable[[], None], shares: list[float]) -> Sample:
        """Time ``action`` answered through this transport; its answering time goes to ``shares``."""
        self.seconds = 0.0
        with catch_all(self):
            sample = timed(action)
        shares.append(self.seconds)
        return sample


def _on_floor(floor: Floor, page: Callable[[], None]) -> Sample:
    with floor.serving():
        return timed(page)


def run(settings: Settings) -> list[Figure]:
    """How queries scale (end to end, the SDK alone, amlmock's own share); bytes per stored run and metric value."""
    sizes = settings.pick((1_000, 10_000, 100_000), (100, 400))
    seeder = RunSeeder()
    costs = _query_costs(settings, sizes, seeder)
    small, large = sizes[0], sizes[-1]

    def figure(label: str, what: str, cost: Callable[[int], float], goal: float | None) -> Figure:
        raw = {f"{size}_runs_ms": cost(size) * 1000 for size in sizes}
        return Figure(NAME, f"{what} CPU({large:,} runs) / CPU({small:,}), {label}", cost(large) / cost(small), "×", goal, raw)

    def own(label: str) -> Callable[[int], float]:
        """amlmock's CPU answering; a share below the clock's resolution counts as 1 µs."""
        return lambda size: max(costs[label, size, "fake"], 1e-6)

    one_percent = "1% match"
    answer = {size: min(size // BUCKETS, SDK_PAGE_SIZE) for size in sizes}  # runs on the first page
    figures = [
        figure(one_percent + " (bound by the SDK: next row)", "query", lambda size: costs[one_percent, size, "amlmock"], 3.0),
        figure(one_percent, "SDK alone (floor)", lambda size: costs[one_percent, size, "floor"], None),
        figure(one_percent, "amlmock's share per run returned:", lambda size: own(one_percent)(size) / answer[size], 3.0),
        figure("10 matches", "query", lambda size: costs["10 matches", size, "amlmock"], 3.0),
        figure("10 matches", "amlmock's share", own("10 matches"), 3.0),
    ]
    per_run = bytes_per_run(seeder, settings.pick(10_000, 200))
    per_unique_run = bytes_per_run(RunSeeder(unique=True), settings.pick(10_000, 200))
    per_value = bytes_per_metric_value(settings.pick(20_000, 500))
    return figures + [
        Figure(NAME, "bytes per stored run (10 tags, 2 properties)", per_run, "B", 2048),
        Figure(NAME, "bytes per stored run, every tag and property value its own", per_unique_run, "B", 2048),
        Figure(NAME, "bytes per stored scalar metric value", per_value, "B", 200),
    ]
