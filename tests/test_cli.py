"""``amlmock az ml ...``: the seed article's CLI commands, as subprocesses, against the test's server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azureml.core import Experiment, Run

from amlmock import DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, DEFAULT_WORKSPACE
from amlmock.execution.supervisor import process_alive
from tests.helpers import wait_for

EXPERIMENT = "testexperiment"
COMMAND_TIMEOUT = 120
TRAIN = """\
from azureml.core import Run
print("Hello from train.py")
Run.get_context().log("accuracy", 0.9)
print("Goodbye from train.py")
"""
SLEEPER = """\
import time
print("sleeping", flush=True)
time.sleep(120)
"""


@dataclass
class Result:
    """A finished ``amlmock az`` process."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


class Cli:
    """Runs ``amlmock az ml ...`` as subprocesses in one folder, with a private HOME and TMPDIR.

    Every process shares the TMPDIR, as two shells of one user do (``run cancel`` needs that).
    """

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env

    def start(self, *args: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "amlmock", "az", "ml", *args]
        pipe = subprocess.PIPE
        return subprocess.Popen(command, cwd=self.folder, env=self.env, stdout=pipe, stderr=pipe, text=True)

    def __call__(self, *args: str) -> Result:
        return self.all(args)[0]

    def all(self, *commands: tuple[str, ...]) -> list[Result]:
        """Run independent commands side by side (each pays ~1 s of imports)."""
        processes = [self.start(*args) for args in commands]
        results = []
        for process in processes:
            out, err = process.communicate(timeout=COMMAND_TIMEOUT)
            results.append(Result(process.returncode, out, err))
        return results


def cli_env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    """This environment with a private HOME and TMPDIR, and ``changes`` (None removes a variable)."""
    env = {**os.environ, "HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp")}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    for folder in (env["HOME"], env["TMPDIR"]):
        os.makedirs(folder, exist_ok=True)
    return env


@pytest.fixture
def cli(aml_server: str, tmp_path: Path) -> Cli:
    """A CLI in an empty project folder, talking to the test's server (``$AMLMOCK_URL``)."""
    project = tmp_path / "project"
    project.mkdir()
    return Cli(project, cli_env(tmp_path))


@pytest.fixture
def attached(cli: Cli) -> Cli:
    """The seed's set-up: ``folder attach``, then an ``sklearn`` runconfig (a copy of the ``local`` one)."""
    result = cli("folder", "attach", "-w", DEFAULT_WORKSPACE, "-g", DEFAULT_RESOURCE_GROUP, "-e", EXPERIMENT)
    assert result.code == 0, result.err
    shutil.copy(cli.folder / ".azureml" / "local", cli.folder / ".azureml" / "sklearn.runconfig")
    return cli


@pytest.fixture
def seed_runs(aml_workspace: Any) -> dict[str, str]:
    """Three finished runs with the seed article's properties and tags, made through the SDK."""
    experiment = Experiment(aml_workspace, EXPERIMENT)
    specs = {
        "fantastic": ({"author": "azureml-user"}, {"quality": "fantastic run"}),
        "look": ({"author": "azureml-user"}, {"worth another look": ""}),
        "other": ({"author": "someone-else"}, {"quality": "fantastic run"}),
    }
    ids = {}
    for label, (properties, tags) in specs.items():
        run = experiment.start_logging(snapshot_directory=None)
        run.add_properties(properties)
        run.set_tags(tags)
        run.complete()
        ids[label] = run.id
    return ids


def log_and_run(stdout: str) -> tuple[str, Any]:
    """A streamed log, and the JSON run printed after it (whose opening brace is alone on its line)."""
    start = stdout.rindex("\n{\n") + 1
    return stdout[:start], json.loads(stdout[start:])


def test_folder_attach_writes_the_project_files(cli: Cli, aml: Any) -> None:
    result = cli("folder", "attach", "-w", DEFAULT_WORKSPACE, "-g", DEFAULT_RESOURCE_GROUP)
    assert result.json() == {
        "Experiment name": "project",  # the folder's name when -e is not given
        "Project path": str(cli.folder),
        "Resource group": DEFAULT_RESOURCE_GROUP,
        "Subscription id": DEFAULT_SUBSCRIPTION,
        "Workspace name": DEFAULT_WORKSPACE,
    }
    config = json.loads((cli.folder / ".azureml" / "config.json").read_text())
    workspace = aml.create_workspace()
    assert config == {"Id": "project", "Scope": f"{workspace.arm_id}/projects/project"}
    for name in ("local", "docker", "conda_dependencies.yml"):
        assert (cli.folder / ".azureml" / name).is_file(), name
    assert "target: local" in (cli.folder / ".azureml" / "local").read_text()
    assert ".azureml" in (cli.folder / ".amlignore").read_text().split()


def test_submit_script_streams_the_log_then_prints_the_run(attached: Cli, aml: Any) -> None:
    (attached.folder / "train.py").write_text(TRAIN)
    result = attached("run", "submit-script", "-c", "sklearn", "-e", EXPERIMENT, "train.py")
    assert result.code == 0, result.err
    log, run = log_and_run(result.out)
    assert "Streaming azureml-logs/70_driver_log.txt" in log
    assert log.index("Hello from train.py") < log.index("Goodbye from train.py")
    assert run["status"] == "Completed"
    assert run["run_id"] == run["name"] and run["_experiment_name"] == EXPERIMENT
    assert aml.run(run["run_id"]).status == "Completed"
    assert aml.metrics(run["run_id"]) == {"accuracy": [0.9]}


def test_async_submit_then_cancel_from_another_process(attached: Cli, aml: Any) -> None:
    (attached.folder / "sleeper.py").write_text(SLEEPER)
    submitted = attached("run", "submit-script", "-c", "sklearn", "--async", "sleeper.py").json()
    run_id = submitted["run_id"]
    assert submitted["status"] in ("Starting", "Running")
    assert wait_for(lambda: "script" in aml.run(run_id).processes), "the script never started"
    script = aml.run(run_id).processes["script"]
    assert process_alive(script)

    canceled = attached("run", "cancel", "-r", run_id)
    assert canceled.code == 0, canceled.err
    assert canceled.out.strip() == "Experiment run canceled successfully."
    assert wait_for(lambda: not process_alive(script)), "the script survived the cancel"
    assert aml.run(run_id).status == "Canceled"
    killfile = Path(attached.env["TMPDIR"], "azureml_runs", run_id, "azureml-setup", "killfile")
    assert killfile.read_text() == run_id  # written by the cancelling process, found by the run's driver


def test_run_list_with_the_seed_queries(attached: Cli, seed_runs: dict[str, str]) -> None:
    queries = (
        "[?properties.author=='azureml-user']",
        "[?tags.keys(@)[?starts_with(@, 'worth another look')]]",
        "[?properties.author=='azureml-user' && tags.quality=='fantastic run']",
    )
    results = attached.all(*(("run", "list", "--experiment-name", EXPERIMENT, "--query", query) for query in queries))
    by_author, worth_a_look, fantastic = ([run["run_id"] for run in result.json()] for result in results)
    assert sorted(by_author) == sorted([seed_runs["fantastic"], seed_runs["look"]])
    assert worth_a_look == [seed_runs["look"]]
    assert fantastic == [seed_runs["fantastic"]]


def test_list_prints_one_pretty_array_of_snake_case_runs(attached: Cli, seed_runs: dict[str, str]) -> None:
    result = attached("run", "list", "-e", EXPERIMENT)
    runs = result.json()
    assert isinstance(runs, list) and len(runs) == 3
    assert {"run_id", "status", "properties", "tags", "_experiment_name"} <= set(runs[0])
    assert result.out.startswith("[\n  {\n    \"")  # az's 2-space indent


def test_update_add_tag_then_show(attached: Cli, aml: Any, aml_workspace: Any, seed_runs: dict[str, str]) -> None:
    run_id = seed_runs["look"]
    updated = attached("run", "update", "-r", run_id, "--add-tag", "quality=fantastic run").json()
    assert updated["runId"] == run_id  # a model: camelCase, as the bundled CLI converts it
    assert updated["tags"]["quality"] == "fantastic run"
    assert aml.run(run_id).tags["quality"] == "fantastic run"
    assert Run(Experiment(aml_workspace, EXPERIMENT), run_id).get_tags()["quality"] == "fantastic run"

    shown = attached("run", "show", "-r", run_id).json()
    assert shown["run_id"] == run_id and shown["status"] == "Completed"
    assert shown["tags"] == {"worth another look": "", "quality": "fantastic run"}
    assert shown["properties"]["author"] == "azureml-user"
    assert "token" not in shown


def test_table_and_tsv_outputs(attached: Cli, seed_runs: dict[str, str]) -> None:
    fields = "[].{id:run_id, status:status, quality:tags.quality}"
    table, tsv, experiments = attached.all(
        ("run", "list", "-e", EXPERIMENT, "--query", fields, "-o", "table"),
        ("run", "list", "-e", EXPERIMENT, "--query", "[].{status:status, id:run_id}", "--output", "tsv"),
        ("experiment", "list", "-o", "table"),
    )
    assert table.code == 0, table.err
    header, rule, *rows = table.out.splitlines()
    assert header.split() == ["Id", "Status", "Quality"]
    assert set(rule.replace("  ", "")) == {"-"}
    assert sorted(row.split()[0] for row in rows) == sorted(seed_runs.values())
    assert rows[0].index("Completed") == header.index("Status")  # aligned under its header
    assert tsv.code == 0, tsv.err
    expected_rows = [f"Completed\t{run_id}" for run_id in seed_runs.values()]  # in the query's order
    assert sorted(tsv.out.splitlines()) == sorted(expected_rows)
    assert experiments.code == 0, experiments.err
    assert EXPERIMENT in experiments.out.splitlines()[2].split()


def test_errors_against_the_server(attached: Cli) -> None:
    unknown_run, unknown_workspace, bad_option, bad_query = attached.all(
        ("run", "show", "-r", "no-such-run"),
        ("run", "list", "-w", "no-such-workspace", "-g", DEFAULT_RESOURCE_GROUP, "-e", EXPERIMENT),
        ("run", "list", "--no-such-option"),
        ("run", "list", "--query", "[?"),
    )
    assert unknown_run.code == 3 and "no-such-run" in unknown_run.err and "not found" in unknown_run.err
    assert unknown_workspace.code == 3 and "no-such-workspace" in unknown_workspace.err
    assert DEFAULT_WORKSPACE in unknown_workspace.err  # it says which workspaces the server has
    assert bad_option.code == 2 and "unrecognized arguments: --no-such-option" in bad_option.err
    assert bad_query.code == 2 and "invalid JMESPath query" in bad_query.err
    for result in (unknown_run, unknown_workspace, bad_option, bad_query):
        assert result.out == ""
        assert "Traceback" not in result.err


def test_errors_without_a_server(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    down = Cli(tmp_path, cli_env(tmp_path, AMLMOCK_URL=f"http://127.0.0.1:{closed_port}"))
    unset = Cli(tmp_path, cli_env(tmp_path, AMLMOCK_URL=None))
    started = time.monotonic()
    not_running, not_set = down("run", "list", "-e", EXPERIMENT), unset("run", "list", "-e", EXPERIMENT)
    assert time.monotonic() - started < 20  # no SDK retries
    assert not_running.code == 1
    assert f"amlmock server not reachable at http://127.0.0.1:{closed_port}" in not_running.err
    assert not_set.code == 2 and "AMLMOCK_URL is not set" in not_set.err
    assert not_running.out == not_set.out == ""
