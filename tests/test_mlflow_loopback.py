"""MLflow over loopback HTTP: a submitted script's ``mlflow`` calls land in its run, with no set-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("mlflow", reason="the MLflow tests need the 'mlflow' extra (azureml-mlflow, mlflow-skinny)")
pytest.importorskip("azureml.mlflow", reason="the MLflow tests need the 'mlflow' extra (azureml-mlflow, mlflow-skinny)")

import mlflow  # noqa: E402
import requests  # noqa: E402
from azureml.core import ScriptRunConfig  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

SCRIPTS = Path(__file__).parent / "scripts"
pytestmark = pytest.mark.aml_fake_only


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    shutil.copytree(SCRIPTS, folder)
    return folder


def test_a_submitted_scripts_mlflow_calls_land_in_its_run(aml, aml_experiment, project):
    run = aml_experiment.submit(ScriptRunConfig(source_directory=str(project), script="mlflow_logging.py"))
    run.wait_for_completion(raise_on_error=True)
    assert run.get_status() == "Completed"  # mlflow.end_run() in the script leaves the status to the service
    assert run.get_metrics() == {"loss": [0.5, 0.25]}
    assert aml.params(run.id) == {"lr": "0.01"}
    assert run.get_tags() == {"stage": "train", "mlflow.source.type": "JOB", "mlflow.source.name": "mlflow_logging.py"}
    assert "outputs_note.txt" in run.get_file_names()
    assert aml.artifacts(run.id)["outputs_note.txt"] == b"from mlflow"
    seen = mlflow.get_run(run.id)
    assert seen.data.metrics == {"loss": 0.25} and seen.data.params == {"lr": "0.01"}
    assert [m.step for m in MlflowClient().get_metric_history(run.id, "loss")] == [0, 1]


def test_the_mlflow_api_is_served_on_loopback(aml):
    arm_id = aml.create_workspace().arm_id
    base = f"{aml.server_url}/mlflow/v2.0{arm_id}/api/2.0/mlflow"
    headers = {"Authorization": "Bearer test-token"}
    created = requests.post(f"{base}/experiments/create", json={"name": "over-http"}, headers=headers, timeout=10)
    experiment_id = created.json()["experiment_id"]
    run = requests.post(f"{base}/runs/create", json={"experiment_id": experiment_id}, headers=headers, timeout=10).json()["run"]
    assert run["info"]["artifact_uri"].startswith(f"azureml://{aml.server_url.split('//')[1]}/mlflow/v2.0")
    missing = requests.get(f"{base}/runs/get", params={"run_id": "nope"}, headers=headers, timeout=10)
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
