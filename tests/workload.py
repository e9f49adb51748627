"""A deterministic SDK workload for the concurrency tests, and the checks of what the fake holds after it.

Every run a worker creates is named after the worker and its index, and everything it logs follows
from those names (``plan``), so the checking side needs no message from the workers: it recomputes
the plan of every run and compares it with the fake's records, value by value and in order.

Used in-process by ``tests/test_concurrency.py`` and, through a small script, by other processes
that talk to the fake's loopback server (``amlmock.sdk.auth.OfflineAuthentication`` pointed at it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from amlmock.backend.lifecycle import EVENT_PREFIX, apply_status_event, event_kind


def soak_factor(setting: str | None) -> int:
    """``AMLMOCK_SOAK``: unset or 0 -> 1; 1 (or any non-number) -> 10; another number -> that factor."""
    text = (setting or "").strip()
    if text in ("", "0"):
        return 1
    return int(text) if text.isdigit() and int(text) > 1 else 10


SOAK_FACTOR = soak_factor(os.environ.get("AMLMOCK_SOAK"))


@dataclass(frozen=True)
class Scale:
    """How much work: ``workers`` threads (per process), ``runs`` each, ``values`` metric values per run."""

    workers: int
    runs: int
    values: int


@dataclass
class RunPlan:
    """What one run must hold at the end."""

    run_id: str
    parent_id: str | None
    metrics: dict[str, list[Any]]
    tags: dict[str, str | None]
    properties: dict[str, str]
    events: list[str]
    status: str
    children: list[str] = field(default_factory=list)
    batch_children: int = 0


def root_id(worker: str, index: int) -> str:
    """The id of a worker's ``index``-th root run."""
    return f"{worker}_r{index}"


def plan(worker: str, index: int, values: int) -> list[RunPlan]:
    """The root run ``index`` of ``worker``, its ``child_run`` child and its two batch children.

    The batch children's ids are chosen by the service, so their plans carry the placeholder ids
    ``<root>#0`` and ``<root>#1``; ``check`` matches them by their ``azureml.batch_child_number`` tag.
    """
    rid = root_id(worker, index)
    base = float(index * 1000)
    metrics: dict[str, list[Any]] = {"loss": [], "acc": [], "label": [], "table": []}
    for i in range(values):
        kind = i % 4
        if kind == 0:
            metrics["loss"].append(base + i / 8)
        elif kind == 1:
            metrics["acc"].append(index * 100_000 + i)
        elif kind == 2:
            metrics["label"].append(f"{worker}/{index}/{i} \u00e9\u4e2d")
        else:
            metrics["table"].append({"epoch": i, "score": base - i / 4})
    ending = index % 3  # 0: complete(); 1: complete() twice; 2: complete() then fail()
    root_events = ["Start", "Completed"] + {0: [], 1: ["Completed"], 2: ["Error", "Failed"]}[ending]
    root = RunPlan(
        run_id=rid,
        parent_id=None,
        metrics={name: series for name, series in metrics.items() if series},
        tags={"worker": worker, "index": str(index), "valueless": None, "changed": "second"},
        properties={"owner": worker, "seq": str(index)},
        events=root_events,
        status="Failed" if ending == 2 else "Completed",
        children=[f"{rid}_child", f"{rid}#0", f"{rid}#1"],
    )
    child = RunPlan(
        run_id=f"{rid}_child",
        parent_id=rid,
        metrics={"child_metric": [index, index + 1, index + 2]},
        tags={"kind": "child"},
        properties={"parent": rid},
        events=["Start", "Completed"],
        status="Completed",
    )
    batch = [
        RunPlan(f"{rid}#0", rid, {}, {"azureml.batch_child_number": "0"}, {}, ["Start", "Completed"], "Completed"),
        RunPlan(f"{rid}#1", rid, {}, {"azureml.batch_child_number": "1"}, {}, ["Start", "Error", "Failed"], "Failed"),
    ]
    return [root, child, *batch]


def exercise(experiment: Any, worker: str, index: int, values: int) -> None:
    """Drive one root run (and its children) through the SDK, as ``plan`` describes."""
    root, child_plan, *_ = plan(worker, index, values)
    run = experiment.start_logging(snapshot_directory=None, run_id=root.run_id)
    run.tag("changed", "first")
    run.tag("temporary", "x")
    base = float(index * 1000)
    for i in range(values):
        kind = i % 4
        if kind == 0:
            run.log("loss", base + i / 8, step=i)
        elif kind == 1:
            run.log("acc", index * 100_000 + i)
        elif kind == 2:
            run.log("label", f"{worker}/{index}/{i} \u00e9\u4e2d")
        else:
            run.log_row("table", epoch=i, score=base - i / 4)
    run.set_tags({"worker": worker, "index": str(index), "changed": "second"})
    run.tag("valueless")
    run.remove_tags(["temporary"])
    run.add_properties({"owner": worker})
    run.add_properties({"owner": worker, "seq": str(index)})  # the same value again: accepted
    child = run.child_run(name="child", run_id=child_plan.run_id)
    for value in child_plan.metrics["child_metric"]:
        child.log("child_metric", value)
    child.tag("kind", "child")
    child.add_properties({"parent": root.run_id})
    child.complete()
    first, second = run.create_children(count=2)
    first.complete()
    second.fail(error_details="planned failure")
    run.complete()
    ending = index % 3
    if ending == 1:
        run.complete()
    elif ending == 2:
        run.fail(error_details="failed after completing")
    for done in (run, child, first, second):
        release(done)


def release(run: Any) -> None:
    """Stop the ended run's metric-queue timers (``complete()`` has flushed them).

    Each SDK ``Run`` that logged keeps a 1-second timer thread per metric queue until the process
    ends (amlmock stops them when the mock stops); a thousand finished runs would otherwise keep
    thousands of threads waking up every second and slow everything down.
    """
    metrics = run._client.metrics
    for queue in (metrics._task_queue_internal, metrics._task_queue_v2_internal):
        if queue is not None:
            queue.flush(metrics.identity)
            daemon = getattr(queue, "_daemon", None)
            if daemon is not None:
                daemon.stop()


def run_workers(make_experiment: Callable[[int], Any], prefix: str, scale: Scale, timeout: float) -> list[str]:
    """``scale.workers`` threads, each exercising ``scale.runs`` root runs; returns the root ids.

    All threads start together (a barrier); any exception in a worker fails the call.
    """
    barrier = threading.Barrier(scale.workers)
    failures: list[BaseException] = []
    done: list[str] = []
    lock = threading.Lock()

    def work(number: int) -> None:
        worker = f"{prefix}t{number}"
        try:
            experiment = make_experiment(number)
            barrier.wait(timeout=timeout)
            for index in range(scale.runs):
                exercise(experiment, worker, index, scale.values)
                with lock:
                    done.append(root_id(worker, index))
        except BaseException as error:  # noqa: BLE001 - reported below, with the worker's name
            with lock:
                failures.append(RuntimeError(f"{worker}: {type(error).__name__}: {error}"))
            barrier.abort()

    threads = [threading.Thread(target=work, args=(n,), name=f"worker-{n}", daemon=True) for n in range(scale.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    hung = [t.name for t in threads if t.is_alive()]
    if failures or hung:
        raise AssertionError(f"workers failed: {failures[:5]} ({len(failures)} in all); still running: {hung}")
    return done


def check_history(run: Any) -> None:
    """Replay the run's status history through the lifecycle rules: every recorded outcome must follow."""
    status = "NotStarted"
    for event in run.status_history:
        if event.name.startswith("amlmock."):
            status = event.status_after
            continue
        kind = event_kind(event.name)
        assert kind is not None, (run.run_id, event.name)
        transition = apply_status_event(status, kind)
        recorded = (event.status_before, event.status_after, event.applied, event.reason)
        assert recorded == (status, transition.status, transition.applied, transition.reason), (run.run_id, event)
        status = transition.status
    assert status == run.status, (run.run_id, status, run.status)
    times = [e.received_utc for e in run.status_history]
    assert times == sorted(times), run.run_id
    if run.status in ("Completed", "Failed", "Canceled"):
        assert run.end_time_utc is not None, run.run_id
        if run.start_time_utc is not None:
            assert run.start_time_utc <= run.end_time_utc, run.run_id


def check(
    runs: Sequence[Any],
    metrics_of: Callable[[str], dict[str, list[Any]]],
    workers: Sequence[str],
    scale: Scale,
) -> int:
    """Every planned run is in ``runs`` exactly once, with exactly the planned content; returns the run count.

    ``runs`` are the fake's records (``aml.runs()``); ``metrics_of`` is ``aml.metrics``.
    """
    by_id: dict[str, Any] = {}
    for run in runs:
        assert run.run_id not in by_id, f"run {run.run_id} is listed twice"
        by_id[run.run_id] = run
    numbers = [run.run_number for run in runs]
    assert len(set(numbers)) == len(numbers), "two runs share a run number"
    expected = [p for worker in workers for index in range(scale.runs) for p in plan(worker, index, scale.values)]
    assert len(by_id) == len(expected), f"{len(by_id)} runs in the fake, {len(expected)} planned"
    for planned in expected:
        if "#" in planned.run_id:
            continue  # checked with its parent below
        run = by_id[planned.run_id]
        _check_run(run, planned, metrics_of)
        if planned.parent_id is None:
            assert len(run.children) == len(set(run.children)) == 3, (run.run_id, run.children)
            assert run.children[0] == planned.children[0], (run.run_id, run.children)
            batch = sorted((by_id[c] for c in run.children[1:]), key=lambda c: c.tags.get("azureml.batch_child_number", ""))
            for number, kid in enumerate(batch):
                kid_plan = plan(planned.tags["worker"], int(planned.tags["index"]), scale.values)[2 + number]
                _check_run(kid, kid_plan, metrics_of, parent=run.run_id)
    return len(by_id)


def _check_run(run: Any, planned: RunPlan, metrics_of: Callable[[str], dict[str, list[Any]]], parent: str | None = None) -> None:
    where = run.run_id
    assert run.parent_run_id == (parent or planned.parent_id), where
    assert metrics_of(run.run_id) == planned.metrics, where
    assert run.tags == planned.tags, (where, run.tags)
    missing = {k: v for k, v in planned.properties.items() if run.properties.get(k) != v}
    assert not missing, (where, run.properties)
    names = [e.name[len(EVENT_PREFIX):] for e in run.status_history]
    assert names == planned.events, (where, names)
    assert run.status == planned.status, (where, run.status)
    check_history(run)
