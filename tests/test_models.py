"""The model registry, through the real SDK: register from a run, a submitted script and a path; get, list,
download, update and delete; and the rules (versions, immutable files, add-only properties, mutable tags)."""

from __future__ import annotations

import shutil
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from azureml._restclient.assets_client import AssetsClient
from azureml._restclient.models import ModelErrorResponseException
from azureml._restclient.models_client import ModelsClient
from azureml.core import Model, Run, ScriptRunConfig
from azureml.exceptions import ModelNotFoundException, ModelPathNotFoundException, WebserviceException

from tests.helpers import raw
from tests.test_serve import WS, Server, seed_run

SCRIPTS = Path(__file__).parent / "scripts"
pytestmark = pytest.mark.aml_fake_only  # inspects the fake's registry


def logged_run(experiment, files: dict[str, bytes]):
    """A running run that has uploaded ``files`` (artifact name -> content)."""
    run = experiment.start_logging(snapshot_directory=None)
    for name, content in files.items():
        local = Path("upload") / name
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(content)
        run.upload_file(name=name, path_or_stream=str(local))
    return run


def test_a_run_registers_its_model_and_the_model_links_back(aml, aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/model.pkl": b"weights"})
    model = run.register_model(
        model_name="churn", model_path="outputs/model.pkl", tags={"stage": "dev", "worth another look": None},
        properties={"accuracy": "0.93"}, description="first try",
    )
    run.complete()
    assert (model.name, model.version, model.id) == ("churn", 1, "churn:1")
    assert model.tags == {"stage": "dev", "worth another look": None}
    assert model.properties == {"accuracy": "0.93"}
    assert (model.run_id, model.experiment_name, model.run.id) == (run.id, aml_experiment.name, run.id)
    assert model.url.startswith("aml://asset/")
    assert [m.id for m in Model.list(aml_workspace, run_id=run.id)] == ["churn:1"]  # the SDK's view of a run's models
    again = Model(aml_workspace, "churn")
    assert (again.description, again.tags, again.run.get_status()) == ("first try", model.tags, "Completed")
    [record] = aml.models()
    assert (record.name, record.version, record.run_id) == ("churn", 1, run.id)
    assert record.files == {"outputs/model.pkl": b"weights"}


def test_versions_count_up_per_name_from_one_and_are_never_reused(aml, aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/a.pkl": b"a"})
    versions = [run.register_model(name, "outputs/a.pkl").version for name in ("a", "a", "b", "a")]
    assert versions == [1, 2, 1, 3]
    Model(aml_workspace, "a", version=3).delete()
    assert run.register_model("a", "outputs/a.pkl").version == 4
    assert [(m.name, m.version) for m in aml.models()] == [("a", 1), ("a", 2), ("b", 1), ("a", 4)]
    run.complete()


def test_register_from_a_local_file_and_folder_then_download(aml_workspace, tmp_path):
    Path("model.onnx").write_bytes(b"onnx bytes")
    folder = Path("bundle")
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"w")
    (folder / "sub" / "vocab.txt").write_bytes(b"v")
    single = Model.register(aml_workspace, model_path="model.onnx", model_name="onnx-model", tags={"format": "onnx"})
    bundle = Model.register(aml_workspace, model_path="bundle", model_name="bundle-model")
    assert (single.version, single.run_id, single.tags) == (1, None, {"format": "onnx"})
    path = Path(single.download(target_dir=str(tmp_path / "one")))
    assert path.read_bytes() == b"onnx bytes" and path.name == "model.onnx"
    downloaded = Path(bundle.download(target_dir=str(tmp_path / "two")))
    assert downloaded.name == "bundle"
    assert sorted(str(p.relative_to(downloaded)) for p in downloaded.rglob("*") if p.is_file()) == ["sub/vocab.txt", "weights.bin"]
    with pytest.raises(WebserviceException, match="File already exists"):
        single.download(target_dir=str(tmp_path / "one"))


def test_get_by_name_version_and_id_and_what_is_not_there(aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    for _ in range(3):
        run.register_model("m", "outputs/m.pkl")
    assert Model(aml_workspace, "m").version == 3  # the latest
    assert Model(aml_workspace, "m", version=2).id == "m:2"
    assert Model(aml_workspace, id="m:1").version == 1
    with pytest.raises(WebserviceException, match="ModelNotFound"):
        Model(aml_workspace, "missing")
    with pytest.raises(WebserviceException, match="ModelNotFound"):
        Model(aml_workspace, "m", version=9)
    with pytest.raises(WebserviceException, match="ModelNotFound"):
        Model(aml_workspace, id="no-version")
    run.complete()


def test_list_filters_by_name_tags_properties_run_and_latest(aml_workspace, aml_experiment):
    first = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    first.register_model("cls", "outputs/m.pkl", tags={"stage": "dev", "flag": None}, properties={"algo": "tree"})
    first.register_model("cls", "outputs/m.pkl", tags={"stage": "prod"}, properties={"algo": "forest"})
    second = logged_run(aml_experiment, {"outputs/m.pkl": b"2"})
    second.register_model("reg", "outputs/m.pkl", tags={"stage": "prod"})

    def ids(**filters):
        return [m.id for m in Model.list(aml_workspace, **filters)]

    assert ids() == ["reg:1", "cls:2", "cls:1"]  # newest first
    assert ids(name="cls") == ["cls:2", "cls:1"]
    assert ids(tags=["flag"]) == ["cls:1"]  # a valueless tag is there
    assert ids(tags=[["stage", "prod"]]) == ["reg:1", "cls:2"]
    assert ids(tags=["stage", ["stage", "dev"]]) == ["cls:1"]
    assert ids(properties=[["algo", "forest"]]) == ["cls:2"]
    assert ids(properties=["algo"], name="reg") == []
    assert ids(run_id=second.id) == ["reg:1"]
    assert ids(latest=True) == ["reg:1", "cls:2"]
    assert ids(latest=True, tags=[["stage", "dev"]]) == ["cls:1"]  # the newest of those that match
    first.complete()
    second.complete()


def test_a_long_list_is_paged_and_every_model_comes_back(aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    for index in range(45):
        run.register_model(f"model-{index:02d}", "outputs/m.pkl")
    listed = Model.list(aml_workspace, page_count=20, expand=False)
    assert [m.name for m in listed] == [f"model-{index:02d}" for index in reversed(range(45))]
    run.complete()


def test_tags_change_freely_and_properties_are_only_added(aml, aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    model = run.register_model("m", "outputs/m.pkl", tags={"stage": "dev"}, properties={"author": "azureml-user"})
    model.add_tags({"stage": "prod", "reviewed": None})
    model.remove_tags(["reviewed"])
    model.add_properties({"team": "ml"})
    stored = Model(aml_workspace, id=model.id)
    assert (stored.tags, stored.properties) == ({"stage": "prod"}, {"author": "azureml-user", "team": "ml"})
    model.update(tags={"only": "this"}, description="replaced")
    assert (Model(aml_workspace, id=model.id).tags, aml.models()[0].description) == ({"only": "this"}, "replaced")
    with pytest.raises(WebserviceException, match="properties are immutable"):  # the SDK's own check
        model.add_properties({"author": "someone-else"})
    stale = Model(aml_workspace, id=model.id)
    model.add_properties({"reviewer": "ana"})
    with pytest.raises(WebserviceException, match="Response Code: 400") as caught:  # the service's check
        stale.add_properties({"reviewer": "bob"})
    detail = caught.value.__context__.error.details[0]
    assert detail.code == "ImmutableProperty"
    assert detail.message == "Property reviewer already exists with value ana; cannot overwrite with bob"
    assert aml.models()[0].properties == {"author": "azureml-user", "team": "ml", "reviewer": "ana"}
    run.complete()


def test_a_models_files_never_change(aml, aml_workspace, aml_experiment, tmp_path):
    run = logged_run(aml_experiment, {"outputs/model.pkl": b"version one"})
    model = run.register_model("frozen", "outputs/model.pkl")
    Path("upload/outputs/model.pkl").write_bytes(b"overwritten later")
    run.upload_file(name="outputs/model.pkl", path_or_stream="upload/outputs/model.pkl")
    assert aml.artifacts(run.id)["outputs/model.pkl"] == b"overwritten later"
    assert Path(model.download(target_dir=str(tmp_path))).read_bytes() == b"version one"
    asset = aml.models()[0].asset
    workspace = aml.workspaces()[0]
    blob = f"https://eastus.api.azureml.ms/amlmockstorage/{workspace.workspace_id}/{asset.container}/outputs/model.pkl"
    refused = raw("PUT", blob, data=b"tampered", headers={"x-ms-blob-type": "BlockBlob"})
    assert refused.status_code == 409
    assert aml.models()[0].files == {"outputs/model.pkl": b"version one"}
    run.complete()


def test_registering_a_path_the_run_does_not_have_is_refused(aml, aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/model.pkl": b"1"})
    with pytest.raises(ModelPathNotFoundException, match="outputs/missing.pkl"):  # the SDK looks first
        run.register_model("m", "outputs/missing.pkl")
    prefix = f"ExperimentRun/dcid.{run.id}/outputs/missing.pkl"
    with pytest.raises(ModelErrorResponseException) as caught:  # the service refuses it too
        AssetsClient(aml_workspace.service_context).create_asset("m", [{"prefix": prefix}], None, run_id=run.id)
    assert caught.value.error.status_code == 404
    assert "outputs/missing.pkl" in caught.value.message and "nothing to register" in caught.value.message
    assert aml.models() == []
    run.complete()


def test_the_service_refuses_bad_registrations(aml, aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    asset = AssetsClient(aml_workspace.service_context).create_asset("m", [{"prefix": f"ExperimentRun/dcid.{run.id}/outputs"}], None)
    client = ModelsClient(aml_workspace.service_context)
    url = f"aml://asset/{asset.id}"
    with pytest.raises(WebserviceException, match="Response Code: 400"):
        client.register_model(name="not a valid name!", url=url)
    with pytest.raises(WebserviceException, match="ModelNotFound"):  # the SDK reads every 404 as ModelNotFound
        client.register_model(name="m", url="aml://asset/no-such-asset")
    with pytest.raises(WebserviceException, match="ModelNotFound"):
        client.register_model(name="m", url=url, run_id="no-such-run")
    with pytest.raises(WebserviceException, match="Response Code: 400"):
        client.register_model(name="m", url=url, run_id=run.id, experiment_name="another-experiment")
    assert aml.models() == []
    assert client.register_model(name="m", url=url, run_id=run.id).version == 1
    run.complete()


def test_delete_forgets_one_version(aml, aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    run.register_model("m", "outputs/m.pkl")
    second = run.register_model("m", "outputs/m.pkl")
    second.delete()
    assert [m.id for m in Model.list(aml_workspace)] == ["m:1"]
    assert Model(aml_workspace, "m").version == 1
    with pytest.raises(WebserviceException, match="ModelNotFound"):
        second.delete()
    with pytest.raises(WebserviceException, match="ModelNotFound"):
        second.add_tags({"k": "v"})
    run.complete()


def test_get_model_path_downloads_into_the_cache_in_a_run_and_reads_it_offline(aml_workspace, aml_experiment, aml_run_context):
    run = logged_run(aml_experiment, {"outputs/model.pkl": b"cached"})
    run.register_model("cached-model", "outputs/model.pkl")
    run.complete()
    path = Model.get_model_path("cached-model")  # inside a run: from the registry
    assert Path(path) == Path("azureml-models/cached-model/1/model.pkl")
    assert Path(path).read_bytes() == b"cached"


def test_get_model_path_without_a_run_needs_a_workspace_or_the_cache(aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/model.pkl": b"cached"})
    run.register_model("cached-model", "outputs/model.pkl")
    run.complete()
    with pytest.raises(ModelNotFoundException):  # no run, no workspace, empty cache: the SDK looks only on disk
        Model.get_model_path("cached-model")
    assert Path(Model.get_model_path("cached-model", _workspace=aml_workspace)).read_bytes() == b"cached"
    assert Path(Model.get_model_path("cached-model", version=1)).read_bytes() == b"cached"  # now in the cache


def test_a_submitted_script_registers_its_model(aml, aml_workspace, aml_experiment, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(SCRIPTS, project)
    run = aml_experiment.submit(ScriptRunConfig(source_directory=str(project), script="register_model.py"))
    assert run.wait_for_completion()["status"] == "Completed", aml.artifacts(run.id).get("azureml-logs/70_driver_log.txt")
    assert run.get_tags()["registered"] == "script-model:1"
    assert run.get_tags()["read back"] == "weights from the script"
    [model] = Model.list(aml_workspace, run_id=run.id)
    assert (model.name, model.tags, model.run_id) == ("script-model", {"trained by": "script"}, run.id)
    assert aml.models()[0].files == {"outputs/model.pkl": b"weights from the script"}
    assert Run(aml_experiment, run.id).get_status() == "Completed"


@pytest.mark.parametrize("method, route", [("POST", "/models/list"), ("GET", "/no-such-route")])
def test_unimplemented_model_management_calls_say_so_in_the_services_error_shape(aml, method, route):
    workspace = aml.create_workspace()
    url = f"https://eastus.api.azureml.ms/modelmanagement/v1.0{workspace.arm_id}{route}"
    answer = raw(method, url, json={})
    assert answer.status_code == 404
    body = answer.json()
    assert body["statusCode"] == 404
    assert body["message"] == f"amlmock does not implement {method} {url}"
    assert body["details"][0]["code"] == "NotImplementedByAmlmock"


def test_the_registry_over_http_is_the_same_registry(aml, aml_server, aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    run.register_model("shared", "outputs/m.pkl", tags={"k": "v"})
    run.complete()
    path = f"/modelmanagement/v1.0{aml.create_workspace().arm_id}/models"
    listed = requests.get(aml_server + path, params={"name": "shared"}, headers={"Authorization": "Bearer t"}, timeout=10)
    assert [(m["id"], m["kvTags"]) for m in listed.json()["value"]] == [("shared:1", {"k": "v"})]


def register_over_http(server, name: str) -> dict:
    """What ``run.register_model`` sends, as plain HTTP to an ``amlmock serve`` process: artifact, asset, model."""
    artifacts = f"/artifact/v2.0{WS}/artifacts/batch/metadata/ExperimentRun/dcid.run_1"
    created = server.call("POST", artifacts, json={"paths": [{"path": "outputs/m.pkl"}]}).json()
    upload = created["artifactContentInformation"]["outputs/m.pkl"]["contentUri"]
    assert requests.put(upload, data=b"served", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10).status_code == 201
    mms = f"/modelmanagement/v1.0{WS}"
    prefix = "ExperimentRun/dcid.run_1/outputs/m.pkl"
    asset = server.call("POST", f"{mms}/assets", json={"name": name, "artifacts": [{"prefix": prefix}], "runid": "run_1"})
    body = {"name": name, "url": f"aml://asset/{asset.json()['id']}", "mimeType": "application/json", "runId": "run_1"}
    return server.call("POST", f"{mms}/models", json=body).json()


def test_amlmock_serve_keeps_the_registry_across_a_restart(tmp_path):
    state = str(tmp_path / "state.sqlite")
    server = Server("--workspace", "ws1", "--resource-group", "rg1", "--subscription-id", "sub-1", "--state", state)
    seed_run(server)
    assert register_over_http(server, "served")["id"] == "served:1"
    server.stop(signal.SIGKILL)
    restarted = Server("--state", state)
    try:
        listed = restarted.call("GET", f"/modelmanagement/v1.0{WS}/models", params={"name": "served"}).json()
        assert [(m["id"], m["runId"], m["experimentName"]) for m in listed["value"]] == [("served:1", "run_1", "exp")]
        assert register_over_http(restarted, "served")["version"] == 2
        [workspace] = restarted.call("GET", "/amlmock/v1.0/admin/state").json()["workspaces"]
        assert [m["id"] for m in workspace["models"]] == ["served:1", "served:2"]
    finally:
        assert restarted.stop()[0] == 0


@pytest.mark.parametrize(
    "patch",
    [{"op": "replace", "path": "/kvTags", "value": None}, {"op": "add", "path": "/properties", "value": ["x"]},
     {"op": "replace", "path": "/description", "value": 5}],
)
def test_a_patch_with_a_value_of_the_wrong_type_is_refused_and_changes_nothing(aml, aml_workspace, aml_experiment, patch):
    run = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    model = run.register_model("m", "outputs/m.pkl", tags={"k": "v"}, properties={"p": "1"}, description="d")
    with pytest.raises(WebserviceException, match="Response Code: 400"):
        ModelsClient(aml_workspace.service_context).patch(model.id, body=[{"op": "replace", "path": "/kvTags", "value": {}}, patch])
    [record] = aml.models()
    assert (record.tags, record.properties, record.description) == ({"k": "v"}, {"p": "1"}, "d")
    run.complete()


def test_concurrent_registrations_of_one_name_get_distinct_versions(aml, aml_workspace, aml_experiment):
    run = logged_run(aml_experiment, {"outputs/m.pkl": b"1"})
    with ThreadPoolExecutor(max_workers=6) as pool:
        versions = list(pool.map(lambda _: run.register_model("busy", "outputs/m.pkl").version, range(12)))
    assert sorted(versions) == list(range(1, 13))
    assert [m.version for m in aml.models("busy")] == list(range(1, 13))
    run.complete()
