"""One registry, two views: MLflow's model registry calls and the v1 SDK's ``Model`` against the same fake workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

mlflow = pytest.importorskip("mlflow", reason="the MLflow tests need the 'mlflow' extra (azureml-mlflow, mlflow-skinny)")
pytest.importorskip("azureml.mlflow", reason="the MLflow tests need the 'mlflow' extra (azureml-mlflow, mlflow-skinny)")

from azureml.core import Experiment, Model  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

pytestmark = pytest.mark.aml_fake_only


def mlflow_model_dir(root: Path, weights: str = "w1") -> Path:
    """A directory as ``mlflow.<flavor>.save_model`` writes it: an ``MLmodel`` file and the model's files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: mymodel\n")
    (root / "model.pkl").write_text(weights)
    return root


def logged_run(tmp_path: Path, weights: str = "w1", path: str = "model") -> str:
    """A finished MLflow run that logged a model directory under ``path``."""
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(mlflow_model_dir(tmp_path / weights, weights)), path)
    return run.info.run_id


def model_uri(run_id: str) -> str:
    """The ``model`` directory of a run, as MLflow 3 resolves ``runs:/<id>/model`` when it holds an MLmodel file."""
    return mlflow.get_run(run_id).info.artifact_uri + "/model"


def error_code(call) -> str:
    with pytest.raises(MlflowException) as caught:
        call()
    return caught.value.error_code


def test_register_model_shows_in_v1_model_list(aml, aml_workspace, tmp_path):
    mlflow.set_experiment("mlflow-registers")
    run_id = logged_run(tmp_path)
    version = mlflow.register_model(model_uri(run_id), "churn", tags={"stage": "candidate"})
    assert (version.name, version.version, version.run_id) == ("churn", "1", run_id)
    assert version.source == f"runs:/{run_id}/model"
    model = Model(aml_workspace, "churn")
    assert (model.version, model.run_id, model.tags) == (1, run_id, {"stage": "candidate"})
    assert [m.id for m in Model.list(aml_workspace)] == ["churn:1"]
    assert [m.version for m in aml.models()] == [1]
    downloaded = Path(model.download(str(tmp_path / "out")))
    assert sorted(p.name for p in downloaded.rglob("*") if p.is_file()) == ["MLmodel", "model.pkl"]


def test_v1_registration_shows_in_search_model_versions(aml, aml_workspace, tmp_path):
    exp = Experiment(aml_workspace, "v1-registers")
    with exp.start_logging(snapshot_directory=None) as run:
        run.upload_file("outputs/model.pkl", str(mlflow_model_dir(tmp_path / "m") / "model.pkl"))
        run.register_model("fraud", model_path="outputs/model.pkl", tags={"team": "risk"})
        run.register_model("fraud", model_path="outputs/model.pkl")
    found = MlflowClient().search_model_versions("name='fraud'")
    assert [(v.version, v.run_id, v.source) for v in found] == [
        ("2", run.id, f"runs:/{run.id}/outputs/model.pkl"),
        ("1", run.id, f"runs:/{run.id}/outputs/model.pkl"),
    ]
    assert found[1].tags == {"team": "risk"}
    assert MlflowClient().get_model_version("fraud", "1").tags == {"team": "risk"}
    registered = MlflowClient().get_registered_model("fraud")
    assert [v.version for v in registered.latest_versions] == ["2"]


def test_versions_count_up_across_both_views(aml, aml_workspace, tmp_path):
    mlflow.set_experiment("both-views")
    first = mlflow.register_model(model_uri(logged_run(tmp_path, 'a')), "shared")
    exp = Experiment(aml_workspace, "both-views")
    with exp.start_logging(snapshot_directory=None) as run:
        run.upload_file("outputs/model.pkl", str(mlflow_model_dir(tmp_path / "b") / "model.pkl"))
        second = run.register_model("shared", model_path="outputs/model.pkl")
    third = mlflow.register_model(model_uri(logged_run(tmp_path, 'c')), "shared")
    assert (first.version, second.version, third.version) == ("1", 2, "3")
    assert [m.version for m in Model.list(aml_workspace, name="shared")] == [3, 2, 1]


def test_a_version_holds_the_model_directory_only(aml, aml_workspace, tmp_path):
    """`runs:/<id>/model` is the directory `model`, not every artifact whose name starts with `model`."""
    mlflow.set_experiment("copy")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(mlflow_model_dir(tmp_path / "m", "v1")), "model")
        mlflow.log_text("not part of the model", "model_notes.txt")
    mlflow.register_model(model_uri(run.info.run_id), "copied")
    [model] = aml.models("copied")
    assert sorted(model.files) == ["model/MLmodel", "model/model.pkl"]
    assert model.files["model/model.pkl"] == b"v1"


def test_tags_and_description_through_mlflow_show_in_v1(aml, aml_workspace, tmp_path):
    mlflow.set_experiment("labels")
    mlflow.register_model(model_uri(logged_run(tmp_path)), "labelled")
    client = MlflowClient()
    client.set_model_version_tag("labelled", "1", "owner", "ana")
    client.update_model_version("labelled", "1", description="first cut")
    model = Model(aml_workspace, "labelled")
    assert (model.tags, model.description) == ({"owner": "ana"}, "first cut")
    client.delete_model_version_tag("labelled", "1", "owner")
    assert Model(aml_workspace, "labelled").tags == {}
    assert error_code(lambda: client.delete_model_version_tag("labelled", "1", "owner")) == "RESOURCE_DOES_NOT_EXIST"


def test_search_filters(aml, aml_workspace, tmp_path):
    mlflow.set_experiment("search")
    run_a, run_b = logged_run(tmp_path, "a"), logged_run(tmp_path, "b")
    mlflow.register_model(model_uri(run_a), "alpha", tags={"kind": "tree"})
    mlflow.register_model(model_uri(run_b), "beta")
    client = MlflowClient()
    assert [v.name for v in client.search_model_versions(f"run_id='{run_b}'")] == ["beta"]
    assert [v.name for v in client.search_model_versions("tags.kind = 'tree'")] == ["alpha"]
    assert [v.name for v in client.search_model_versions(f"name='alpha' and run_id='{run_b}'")] == []
    assert [m.name for m in client.search_registered_models()] == ["alpha", "beta"]
    assert error_code(lambda: client.search_model_versions("name LIKE 'al%'")) == "ENDPOINT_NOT_FOUND"


def test_search_pages(aml, aml_workspace, tmp_path):
    mlflow.set_experiment("pages")
    run_id = logged_run(tmp_path)
    for _ in range(3):
        MlflowClient().create_model_version("paged", f"runs:/{run_id}/model", run_id)
    first = MlflowClient().search_model_versions("name='paged'", max_results=2)
    second = MlflowClient().search_model_versions("name='paged'", max_results=2, page_token=first.token)
    assert [v.version for v in first] + [v.version for v in second] == ["3", "2", "1"]
    assert not second.token


def test_missing_models_are_resource_does_not_exist(aml, aml_workspace, tmp_path):
    client = MlflowClient()
    assert error_code(lambda: client.get_registered_model("nope")) == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(lambda: client.get_model_version("nope", "1")) == "RESOURCE_DOES_NOT_EXIST"
    for version in ("one", "²", "-1"):
        assert error_code(lambda: client.get_model_version("nope", version)) == "INVALID_PARAMETER_VALUE"
    assert client.search_model_versions("name='nope'") == []


def test_register_errors_keep_nothing(aml, aml_workspace, tmp_path):
    mlflow.set_experiment("errors")
    run_id = logged_run(tmp_path)
    client = MlflowClient()
    assert error_code(lambda: client.create_model_version("bad name!", f"runs:/{run_id}/model", run_id)) == "INVALID_PARAMETER_VALUE"
    assert error_code(lambda: client.create_model_version("m", f"runs:/{run_id}/missing", run_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(lambda: client.create_model_version("m", "runs:/no-such-run/model")) == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(lambda: client.create_model_version("m", "s3://bucket/model")) == "ENDPOINT_NOT_FOUND"
    assert aml.models() == [] and Model.list(aml_workspace) == []
    assert all(not ws.registry.assets for ws in aml.workspaces())


def test_existing_name_is_resource_already_exists(aml, aml_workspace, tmp_path):
    mlflow.set_experiment("exists")
    mlflow.register_model(model_uri(logged_run(tmp_path)), "taken")
    assert error_code(lambda: MlflowClient().create_registered_model("taken")) == "RESOURCE_ALREADY_EXISTS"


def test_delete_through_mlflow_never_reuses_numbers(aml, aml_workspace, tmp_path):
    mlflow.set_experiment("deletes")
    run_id = logged_run(tmp_path)
    for _ in range(2):
        mlflow.register_model(model_uri(run_id), "gone")
    client = MlflowClient()
    client.delete_model_version("gone", "2")
    assert [m.version for m in Model.list(aml_workspace, name="gone")] == [1]
    client.delete_registered_model("gone")
    assert Model.list(aml_workspace, name="gone") == []
    assert mlflow.register_model(model_uri(run_id), "gone").version == "3"


def test_a_local_mlflow_model_directory_fails_loudly(aml, aml_workspace, tmp_path):
    """azureml-mlflow uploads a ``file://`` model directory through an artifact route the fake does not implement."""
    source = mlflow_model_dir(tmp_path / "local_model", "local")
    with pytest.raises(Exception, match="amlmock does not implement POST .*/batch/metadata"):
        MlflowClient().create_model_version("local", f"file://{source}")
    assert aml.models() == []


def test_register_model_of_a_runs_uri_needs_a_logged_model(aml, aml_workspace, tmp_path):
    """MLflow 3 looks for an MLmodel file directly under ``runs:/<id>/<path>``; azureml-mlflow lists run-relative
    paths, so it never finds one and asks for the run's logged models, which the fake does not keep."""
    mlflow.set_experiment("runs-uri")
    run_id = logged_run(tmp_path)
    with pytest.raises(MlflowException, match="Unable to find a logged_model"):
        mlflow.register_model(f"runs:/{run_id}/model", "via-runs-uri")
    assert aml.models() == []
    assert error_code(lambda: MlflowClient().get_registered_model("via-runs-uri")) == "RESOURCE_DOES_NOT_EXIST"


ROUTES = [("POST", "model-versions/create"), ("POST", "registered-models/create"), ("POST", "model-versions/set-tag"),
          ("PATCH", "model-versions/update"), ("DELETE", "model-versions/delete-tag"), ("DELETE", "model-versions/delete"),
          ("DELETE", "registered-models/delete"), ("GET", "model-versions/search"), ("GET", "model-versions/get")]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.sampled_from(["hostile", "1", "²", "runs:/x/model"]),
                   st.lists(st.dictionaries(st.sampled_from(["key", "value"]), st.one_of(st.none(), st.integers(), st.text(max_size=5)))))
BODIES = st.dictionaries(st.sampled_from(["name", "version", "source", "run_id", "tags", "key", "value", "description", "filter",
                                          "max_results", "page_token", "model_id"]), VALUES, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=BODIES)
def test_hostile_requests_are_mlflow_errors_and_change_nothing(aml, aml_workspace, route, body):
    method, path = route
    if not aml.models():
        mlflow.set_experiment("hostile")
        with mlflow.start_run() as run:
            mlflow.log_text("w", "model/model.pkl")
        MlflowClient().create_model_version("hostile", f"runs:/{run.info.run_id}/model", run.info.run_id)
    url = f"{mlflow.get_tracking_uri().split('?')[0].replace('azureml://', 'https://')}/api/2.0/mlflow/{path}"
    before = [(m.model_id, dict(m.tags), m.description) for m in aml.models()]
    kwargs = {"params": {k: str(v) for k, v in body.items()}} if method == "GET" else {"json": body}
    answer = requests.request(method, url, headers={"Authorization": "Bearer t"}, timeout=10, **kwargs)
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS", "ENDPOINT_NOT_FOUND")
        assert [(m.model_id, dict(m.tags), m.description) for m in aml.models()] == before
