"""Many SDK clients at once: threads in this process, and other processes on the loopback server.

Each worker drives root runs through the real SDK (metrics of four kinds, tags set, changed and
removed, properties added twice, a ``child_run`` and two ``create_children`` children, endings that
repeat ``complete()`` or ``fail()`` after it). Afterwards every run, metric value (in order), tag,
property and child must be in the fake exactly once, and every status history must replay through
``amlmock.backend.lifecycle``. See ``tests/workload.py`` for the plan, ``docs/reliability.md`` for the
numbers; ``AMLMOCK_SOAK=1`` multiplies the runs per worker by 10.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import requests
from azureml.core import Experiment

from amlmock.defaults import (
    DEFAULT_RESOURCE_GROUP,
    DEFAULT_SUBSCRIPTION,
    DEFAULT_WORKSPACE,
)
from tests.workload import SOAK_FACTOR, Scale, check, run_workers

ROOT = Path(__file__).resolve().parents[1]
THREADS = Scale(workers=16, runs=20 * SOAK_FACTOR, values=200)  # the scale
PROCESSES = 4
PROCESS_SCALE = Scale(workers=4, runs=5 * SOAK_FACTOR, values=200)
EXPERIMENTS = 4  # workers share experiments, so they race on creating them and on their run lists
TIMEOUT = 600.0 * SOAK_FACTOR


def settled(aml):
    """Flush every SDK run once; then ``aml.run``/``aml.metrics`` need not flush them all again per call."""
    aml.flush()
    aml.flush = lambda: None  # the instance attribute shadows the method for the rest of the test
    return aml


def check_queries(aml, workspace, workers: list[str], scale: Scale) -> None:
    """Each experiment lists each run once, and a tag query finds exactly each worker's root runs."""
    listed = [run_id for experiment in aml.experiments() for run_id in experiment.run_ids]
    assert len(listed) == len(set(listed)) == len(workers) * scale.runs * 4
    for worker in workers:
        experiment = Experiment(workspace, f"concurrency-{int(worker.rsplit('t', 1)[1]) % EXPERIMENTS}")
        found = sorted(run.id for run in experiment.get_runs(tags={"worker": worker}))
        assert found == sorted(f"{worker}_r{i}" for i in range(scale.runs)), worker


def test_threads_through_the_sdk_lose_nothing(aml, aml_workspace):
    def experiment(number: int) -> Experiment:
        return Experiment(aml_workspace, f"concurrency-{number % EXPERIMENTS}")

    stop_reading = threading.Event()
    read_errors: list[BaseException] = []
    reads = [0]

    def reader() -> None:
        """Query while the writers write: listings and metric reads must never fail."""
        exp = Experiment(aml_workspace, "concurrency-0")
        while not stop_reading.is_set():
            try:
                for run in exp.get_runs(tags="valueless", include_children=True):
                    run.get_metrics()
                    break
                list(exp.get_runs(properties={"owner": "it0t0"}))
                reads[0] += 1
            except BaseException as error:  # noqa: BLE001 - reported by the test
                read_errors.append(error)
                return

    reader_thread = threading.Thread(target=reader, daemon=True)
    reader_thread.start()
    started = time.perf_counter()
    try:
        done = run_workers(experiment, "it0", THREADS, TIMEOUT)
    finally:
        stop_reading.set()
        reader_thread.join(30)
    elapsed = time.perf_counter() - started
    assert not read_errors, read_errors[:3]
    assert len(done) == THREADS.workers * THREADS.runs
    workers = [f"it0t{n}" for n in range(THREADS.workers)]
    aml = settled(aml)
    count = check(aml.runs(), aml.metrics, workers, THREADS)
    assert count == THREADS.workers * THREADS.runs * 4
    check_queries(aml, aml_workspace, workers, THREADS)
    print(f"\n{count} runs, {reads[0]} concurrent query rounds in {elapsed:.1f} s")


SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from contextlib import ExitStack
from azureml.core import Experiment, Workspace
from amlmock.sdk.auth import OfflineAuthentication
from amlmock.sdk.tuning import speed_up_sdk
from tests.workload import Scale, run_workers

url, prefix = sys.argv[1], sys.argv[2]
OfflineAuthentication.arm_endpoint = url + "/"
OfflineAuthentication.subscriptions = staticmethod(lambda: [{subscription!r}])
workspace = Workspace({subscription!r}, {resource_group!r}, {workspace!r}, auth=OfflineAuthentication())
with ExitStack() as stack:
    speed_up_sdk(stack)
    done = run_workers(lambda n: Experiment(workspace, "concurrency-%d" % (n % {experiments})), prefix, Scale({scale}), {timeout})
print(json.dumps(done))
"""


def test_processes_on_the_loopback_server_lose_nothing(aml, aml_workspace, tmp_path):
    aml.create_workspace()
    url = aml.server_url
    script = tmp_path / "worker.py"
    scale = f"workers={PROCESS_SCALE.workers}, runs={PROCESS_SCALE.runs}, values={PROCESS_SCALE.values}"
    script.write_text(textwrap.dedent(SCRIPT).format(
        root=str(ROOT), subscription=DEFAULT_SUBSCRIPTION, resource_group=DEFAULT_RESOURCE_GROUP,
        workspace=DEFAULT_WORKSPACE, experiments=EXPERIMENTS, scale=scale, timeout=TIMEOUT,
    ))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "AMLMOCK_URL"))}
    env["AZUREML_CURRENT_CLOUD"] = "AzureCloud"
    started = time.perf_counter()
    processes = []
    for n in range(PROCESSES):
        home = tmp_path / f"home{n}"  # the SDK's caches (~/.azureml) stay in the test's directory
        home.mkdir()
        with open(tmp_path / f"p{n}.out", "w") as out, open(tmp_path / f"p{n}.err", "w") as err:
            processes.append(subprocess.Popen([sys.executable, str(script), url, f"p{n}"], stdout=out, stderr=err,
                                              env={**env, "HOME": str(home)}, cwd=tmp_path))
    polls = 0
    headers = {"Authorization": "Bearer test-token"}
    try:
        while any(p.poll() is None for p in processes) and time.perf_counter() - started < TIMEOUT:
            state = requests.get(url + "/amlmock/v1.0/admin/state?runs=false", headers=headers, timeout=30)
            assert state.status_code == 200
            polls += 1
            time.sleep(0.2)
        for process in processes:
            process.wait(timeout=60)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    outputs = []
    for n, process in enumerate(processes):
        assert process.returncode == 0, (tmp_path / f"p{n}.err").read_text()[-3000:]
        outputs.append(json.loads((tmp_path / f"p{n}.out").read_text().strip().splitlines()[-1]))
    elapsed = time.perf_counter() - started
    workers = [f"p{n}t{t}" for n in range(PROCESSES) for t in range(PROCESS_SCALE.workers)]
    assert sorted(r for done in outputs for r in done) == sorted(
        f"{w}_r{i}" for w in workers for i in range(PROCESS_SCALE.runs)
    )
    count = check(aml.runs(), aml.metrics, workers, PROCESS_SCALE)
    assert count == len(workers) * PROCESS_SCALE.runs * 4
    check_queries(aml, aml_workspace, workers, PROCESS_SCALE)
    print(f"\n{count} runs from {PROCESSES} processes, {polls} state polls in {elapsed:.1f} s")
