"""Submitted local runs: the script runs for real, against the fake, through the real SDK."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from azureml.core import Experiment, Run, ScriptRunConfig
from azureml.core.runconfig import RunConfiguration
from azureml.exceptions import ActivityFailedException

from amlmock.execution.supervisor import process_alive
from tests.helpers import wait_for

SCRIPTS = Path(__file__).parent / "scripts"
pytestmark = pytest.mark.aml_fake_only  # amlmock's execution runtime (driver, log, error text)


@pytest.fixture
def project(tmp_path):
    """A source directory holding the test scripts."""
    folder = tmp_path / "project"
    shutil.copytree(SCRIPTS, folder)
    return folder


def submit(experiment, project, script, **kwargs):
    return experiment.submit(ScriptRunConfig(source_directory=str(project), script=script, **kwargs))




alive = process_alive


def test_submit_and_wait_streams_the_log(aml, aml_experiment, project, capsys):
    run = submit(aml_experiment, project, "hello_with_delay.py")
    assert run.get_status() in ("Starting", "Running")
    details = run.wait_for_completion(show_output=True)
    assert details["status"] == "Completed"
    output = capsys.readouterr().out
    assert "Streaming azureml-logs/70_driver_log.txt" in output
    lines = [line for line in output.splitlines() if line.startswith(("Hello", "step", "Goodbye"))]
    assert lines == ["Hello. Start of script.", "step 0", "step 1", "step 2", "Goodbye. End of script."]
    assert run.get_metrics() == {"step": [0, 1, 2], "last words": 1}
    record = aml.run(run.id)
    assert record.run_type == "azureml.scriptrun"
    assert [e.status_after for e in record.status_history if e.applied] == ["Starting", "Running", "Completed"]
    assert Run(aml_experiment, run.id).get_details()["status"] == run.get_status() == "Completed"


def test_arguments_environment_and_outputs_reach_the_script(aml, aml_experiment, project):
    config = RunConfiguration()
    config.environment.environment_variables = {"EXAMPLE_ENV_VAR": "from-config"}
    run = submit(aml_experiment, project, "args_and_env.py", arguments=["--alpha", "0.5"], run_config=config)
    run.wait_for_completion()
    assert run.get_tags() == {"args": "--alpha 0.5", "env": "from-config"}
    assert aml.artifacts(run.id)["outputs/result.txt"] == b"done"


def test_user_managed_interpreter_is_used(aml, aml_experiment, project):
    import sys

    config = RunConfiguration()
    config.environment.python.user_managed_dependencies = True
    config.environment.python.interpreter_path = sys.executable
    run = submit(aml_experiment, project, "args_and_env.py", run_config=config)
    assert run.wait_for_completion()["status"] == "Completed"


def test_a_failing_script_fails_the_run_with_its_error(aml_experiment, project):
    run = submit(aml_experiment, project, "failing.py")
    with pytest.raises(ActivityFailedException) as caught:
        run.wait_for_completion(show_output=False)
    assert "ValueError: bad input data" in str(caught.value)
    error = run.get_details()["error"]["error"]
    assert "exited with code 1" in error["message"]
    assert "about to fail" in error["message"]
    assert run.get_status() == "Failed"


def test_children_created_inside_the_script(aml, aml_experiment, project):
    run = submit(aml_experiment, project, "hello_with_children.py")
    run.wait_for_completion()
    children = list(run.get_children())
    assert len(children) == 7
    assert {c.get_status() for c in children} == {"Completed"}
    values = sorted(c.get_metrics().get("Hello from child run", -1) for c in children)
    assert values == [-1, -1, 0, 1, 2, 3, 4]
    assert run.get_metrics()["children"] == 7
    assert run.get_status() == "Completed"


def test_cancel_stops_the_script_and_keeps_its_metrics(aml, aml_experiment, project, tmp_path, monkeypatch):
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    run = submit(aml_experiment, project, "sleeper.py")
    assert wait_for(lambda: pid_file.exists() and pid_file.read_text())
    pid = int(pid_file.read_text())
    assert wait_for(lambda: "sleeping" in (aml.artifacts(run.id).get("azureml-logs/70_driver_log.txt") or b"").decode())
    run.cancel()
    assert run.get_status() == "Canceled"
    assert wait_for(lambda: not alive(pid), 5)
    assert run.wait_for_completion()["status"] == "Canceled"
    assert wait_for(lambda: run.get_metrics() == {"before cancel": 1}, 5)
    assert aml.run(run.id).status == "Canceled"


def test_fail_a_running_submitted_run_stays_failed(aml, aml_experiment, project, monkeypatch):
    monkeypatch.setenv("EXTRA_SLEEP", "0.5")
    run = submit(aml_experiment, project, "hello_with_delay.py")
    run.fail()
    assert wait_for(lambda: aml.run(run.id).processes and not any(alive(p) for p in aml.run(run.id).processes.values()))
    time.sleep(0.2)
    record = aml.run(run.id)
    assert record.status == "Failed"
    assert any(e.name.endswith("Completed") and not e.applied for e in record.status_history)


def test_several_runs_at_once(aml_experiment, project):
    runs = [submit(aml_experiment, project, "hello_with_delay.py") for _ in range(3)]
    assert [r.wait_for_completion()["status"] for r in runs] == ["Completed"] * 3


def test_leaving_the_mock_stops_running_scripts(project, tmp_path, monkeypatch):
    from amlmock import mock_aml

    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    with mock_aml() as aml:
        experiment = Experiment(aml.workspace(), "left-running")
        run = submit(experiment, project, "sleeper.py")
        assert wait_for(lambda: pid_file.exists() and pid_file.read_text())
        record = aml.run(run.id)
    assert record.status == "Canceled"
    assert not alive(int(pid_file.read_text()))
    assert not any(alive(pid) for pid in record.processes.values())


def test_the_server_refuses_requests_without_a_token(aml):
    import requests

    url = aml.server_url
    assert url.startswith("http://127.0.0.1:")
    workspace = aml.create_workspace()
    response = requests.get(f"{url}/history/v1.0{workspace.arm_id}/experiments/x", timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["innerError"]["code"] == "AuthenticationFailed"
    authorized = requests.get(f"{url}/history/v1.0{workspace.arm_id}/experiments/x", headers={"Authorization": "Bearer t"}, timeout=5)
    assert authorized.status_code == 404


def test_leaving_the_mock_stops_a_failed_runs_script_too(project, tmp_path, monkeypatch):
    from amlmock import mock_aml

    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    with mock_aml() as aml:
        run = submit(Experiment(aml.workspace(), "failed-but-running"), project, "sleeper.py")
        assert wait_for(lambda: pid_file.exists() and pid_file.read_text())
        run.fail()
        record = aml.run(run.id)
    assert record.status == "Failed"
    assert not alive(int(pid_file.read_text()))


def test_a_run_token_only_works_for_its_own_workspace(aml):
    import requests

    from amlmock.tokens import run_token

    home = aml.create_workspace("home", "rg", "sub")
    other = aml.create_workspace("other", "rg", "sub")
    token = run_token("some-run", home.workspace_id)[0]
    headers = {"Authorization": "Bearer " + token}
    ok = requests.get(f"{aml.server_url}/history/v1.0{home.arm_id}/experiments/x", headers=headers, timeout=5)
    refused = requests.get(f"{aml.server_url}/history/v1.0{other.arm_id}/experiments/x", headers=headers, timeout=5)
    assert ok.status_code == 404  # allowed in: the experiment just does not exist
    assert refused.status_code == 403
    assert refused.json()["error"]["innerError"]["code"] == "AuthorizationFailed"
