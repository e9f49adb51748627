"""One run, two views: the MLflow client and the v1 SDK against the same fake workspace, in-process."""

from __future__ import annotations

import pytest

mlflow = pytest.importorskip("mlflow", reason="the MLflow tests need the 'mlflow' extra (azureml-mlflow, mlflow-skinny)")
pytest.importorskip("azureml.mlflow", reason="the MLflow tests need the 'mlflow' extra (azureml-mlflow, mlflow-skinny)")

from azureml.core import Experiment, Run  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

pytestmark = pytest.mark.aml_fake_only


@pytest.fixture
def tracking(aml_workspace):
    """MLflow pointed at the workspace the way users do it (``get_mlflow_tracking_uri``)."""
    mlflow.set_tracking_uri(aml_workspace.get_mlflow_tracking_uri())
    return aml_workspace


def v1_run(workspace, experiment_name, run_id):
    return Run(Experiment(workspace, experiment_name), run_id)


def test_the_aml_fixture_alone_is_enough(aml):
    mlflow.set_experiment("no-setup")
    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", 0.9)
    assert aml.metrics(run.info.run_id) == {"accuracy": [0.9]}
    assert aml.run(run.info.run_id).status == "Completed"


def test_the_tracking_uri_names_the_workspace(tracking):
    uri = tracking.get_mlflow_tracking_uri()
    assert uri.startswith("azureml://eastus.api.azureml.ms/mlflow/v2.0/subscriptions/")
    assert mlflow.get_tracking_uri() == uri


def test_v1_metrics_are_mlflow_metrics(aml, tracking):
    exp = Experiment(tracking, "v1-to-mlflow")
    with exp.start_logging(snapshot_directory=None) as run:
        for value in (0.5, 0.25, 0.125):
            run.log("loss", value)
        run.log("name", "text is no MLflow metric")
    got = mlflow.get_run(run.id)
    assert got.data.metrics == {"loss": 0.125}
    history = MlflowClient().get_metric_history(run.id, "loss")
    assert [(m.value, m.step) for m in history] == [(0.5, 0), (0.25, 1), (0.125, 2)]
    assert got.info.status == "FINISHED"
    assert got.info.experiment_id == exp.id


def test_mlflow_metrics_are_v1_metrics(aml, tracking):
    mlflow.set_experiment("mlflow-to-v1")
    with mlflow.start_run() as active:
        mlflow.log_metric("loss", 0.5, step=0)
        mlflow.log_metric("loss", 0.25, step=1)
        mlflow.log_metrics({"f1": 0.7, "auc": 0.8})
    run = v1_run(tracking, "mlflow-to-v1", active.info.run_id)
    assert run.get_metrics() == {"loss": [0.5, 0.25], "f1": 0.7, "auc": 0.8}
    assert aml.metrics(active.info.run_id) == {"loss": [0.5, 0.25], "f1": [0.7], "auc": [0.8]}


def test_tags_are_shared_both_ways(tracking):
    mlflow.set_experiment("tags")
    with mlflow.start_run() as active:
        mlflow.set_tag("stage", "train")
        run = v1_run(tracking, "tags", active.info.run_id)
        run.tag("reviewed", "yes")
        run.tag("worth another look")
    assert run.get_tags()["stage"] == "train"
    tags = mlflow.get_run(active.info.run_id).data.tags
    assert tags["reviewed"] == "yes" and tags["worth another look"] == ""
    MlflowClient().delete_tag(active.info.run_id, "stage")
    assert "stage" not in run.get_tags()


def test_params_are_kept_as_strings_and_shown_by_the_handle(aml, tracking):
    mlflow.set_experiment("params")
    with mlflow.start_run() as active:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"layers": 3, "optimizer": "adam"})
    assert aml.params(active.info.run_id) == {"lr": "0.01", "layers": "3", "optimizer": "adam"}
    assert mlflow.get_run(active.info.run_id).data.params == {"lr": "0.01", "layers": "3", "optimizer": "adam"}
    assert "lr" not in v1_run(tracking, "params", active.info.run_id).get_properties()


def test_status_follows_the_v1_state_machine(aml, tracking):
    exp = Experiment(tracking, "status")
    run = exp.start_logging(snapshot_directory=None)
    assert mlflow.get_run(run.id).info.status == "RUNNING"
    run.complete()
    MlflowClient().set_terminated(run.id, status="KILLED")  # a terminal v1 run stays as it is
    assert mlflow.get_run(run.id).info.status == "FINISHED"
    assert run.get_status() == "Completed"
    client = MlflowClient()
    created = client.create_run(exp.id)
    assert v1_run(tracking, "status", created.info.run_id).get_status() == "Running"
    client.set_terminated(created.info.run_id, status="FAILED")
    assert v1_run(tracking, "status", created.info.run_id).get_status() == "Failed"
    assert mlflow.get_run(created.info.run_id).info.end_time is not None


def test_nested_runs_are_child_runs(aml, tracking):
    mlflow.set_experiment("nested")
    with mlflow.start_run() as parent:
        with mlflow.start_run(nested=True) as child:
            mlflow.log_metric("fold", 1)
    v1_parent = v1_run(tracking, "nested", parent.info.run_id)
    assert [c.id for c in v1_parent.get_children()] == [child.info.run_id]
    assert aml.run(child.info.run_id).parent_run_id == parent.info.run_id
    assert mlflow.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_v1_child_runs_are_found_by_the_parent_tag_of_their_mlflow_view(tracking):
    exp = Experiment(tracking, "children")
    with exp.start_logging(snapshot_directory=None) as parent:
        child = parent.child_run()
        child.log("score", 3.0)
        child.complete()
    found = mlflow.search_runs([exp.id], filter_string=f"tags.mlflow.parentRunId = '{parent.id}'", output_format="list")
    assert [r.info.run_id for r in found] == [child.id]
    assert found[0].data.metrics == {"score": 3.0} and found[0].info.status == "FINISHED"


def test_artifacts_are_the_runs_files(aml, tracking, tmp_path):
    mlflow.set_experiment("files")
    model = tmp_path / "model.txt"
    model.write_text("weights")
    with mlflow.start_run() as active:
        mlflow.log_artifact(str(model))
        mlflow.log_text("notes", "docs/readme.txt")
    run = v1_run(tracking, "files", active.info.run_id)
    assert sorted(run.get_file_names()) == ["docs/readme.txt", "model.txt"]
    assert aml.artifacts(active.info.run_id)["model.txt"] == b"weights"
    listed = MlflowClient().list_artifacts(active.info.run_id)
    assert [(f.path, f.is_dir) for f in listed] == [("docs", True), ("model.txt", False)]
    assert mlflow.artifacts.load_text(active.info.artifact_uri + "/docs/readme.txt") == "notes"


def test_v1_uploads_are_mlflow_artifacts(tracking, tmp_path):
    exp = Experiment(tracking, "v1-files")
    (tmp_path / "out.csv").write_text("a,b")
    with exp.start_logging(snapshot_directory=None) as run:
        run.upload_file("outputs/out.csv", str(tmp_path / "out.csv"))
    paths = [f.path for f in MlflowClient().list_artifacts(run.id, "outputs")]
    assert paths == ["outputs/out.csv"]


def test_code_under_test_logs_to_the_run_context(aml, aml_run_context):
    mlflow.log_metric("from_mlflow", 1.5)
    aml_run_context.log("from_v1", 2.5)
    aml_run_context.flush()
    assert aml.metrics(aml_run_context.id) == {"from_mlflow": [1.5], "from_v1": [2.5]}
    assert mlflow.active_run().info.run_id == aml_run_context.id
    mlflow.end_run()
    assert aml.run(aml_run_context.id).status == "Running"  # as in a job: end_run leaves the status to the service


def test_async_batches_land_at_once(aml, tracking):
    mlflow.set_experiment("async")
    with mlflow.start_run() as active:
        mlflow.log_metric("loss", 0.3, synchronous=False).wait()
        mlflow.log_params({"a": "1"}, synchronous=False).wait()
    assert aml.metrics(active.info.run_id) == {"loss": [0.3]}
    assert aml.params(active.info.run_id) == {"a": "1"}


def test_the_migration_example_v1(aml, aml_workspace):
    exp = Experiment(aml_workspace, "train")
    with exp.start_logging(snapshot_directory=None) as run:
        run.log("loss", 0.5)
        run.log("loss", 0.25)
        run.tag("stage", "train")
    assert aml.metrics(run.id) == {"loss": [0.5, 0.25]}
    assert aml.run(run.id).tags["stage"] == "train"
    assert aml.run(run.id).status == "Completed"


def test_the_migration_example_mlflow(aml, aml_workspace):
    mlflow.set_experiment("train")
    with mlflow.start_run() as active:
        mlflow.log_metric("loss", 0.5, step=0)
        mlflow.log_metric("loss", 0.25, step=1)
        mlflow.set_tag("stage", "train")
        mlflow.log_param("lr", 0.01)
    run_id = active.info.run_id
    assert aml.metrics(run_id) == {"loss": [0.5, 0.25]}
    assert aml.run(run_id).tags["stage"] == "train"
    assert aml.run(run_id).status == "Completed"
    assert aml.params(run_id) == {"lr": "0.01"}
    assert Run(Experiment(aml_workspace, "train"), run_id).get_metrics() == {"loss": [0.5, 0.25]}
    found = mlflow.search_runs(filter_string="metrics.loss < 0.3 and params.lr = '0.01'", output_format="list")
    assert [r.info.run_id for r in found] == [run_id]
