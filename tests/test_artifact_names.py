"""Every artifact name the service accepts reads back byte for byte, in-process and over loopback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import requests
from azureml.core import Experiment, ScriptRunConfig
from azureml.exceptions import AzureMLException, ServiceException, UserErrorException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amlmock import mock_aml
from amlmock.api.blobnames import decode_blob_name, encode_blob_name

SCRIPTS = Path(__file__).parent / "scripts"
TRICKY = [
    "my file.txt",
    "p%20q.txt",
    "100%.txt",
    "a+b.txt",
    "h#x.txt",
    "q?x=1.txt",
    "(final) [v2] {x}.txt",
    "ünïcödé 名前 🙂.txt",
    "dir/sub dir/x y.txt",
    "semi;colon,comma=eq&amp@at!$'.txt",
    "tilde~7E~.txt",
]
# The SDK sends the name of download_file uncoded (msrest skip_quote=True): in a URL path '?' starts
# the query, '#' the fragment and '%XX' is decoded, so the service looks up another name; and msrest
# formats the URL with str.format, so '{' or '}' raise in the SDK before any request is sent; its urljoin
# drops a trailing ';' (an empty URL parameter).
SDK_CANNOT_ADDRESS = ("?", "#", "%", "{", "}")


def payload(name: str) -> bytes:
    return name.encode("utf-8") + bytes(range(256))


def upload_all(run, names, folder: Path) -> None:
    for index, name in enumerate(names):
        local = folder / f"payload_{index}.bin"
        local.write_bytes(payload(name))
        run.upload_file(name, str(local))


def addressable(name: str) -> bool:
    return not any(mark in name for mark in SDK_CANNOT_ADDRESS) and not name.endswith(";")


def check_round_trip(run, names, folder: Path, others: frozenset[str] = frozenset()) -> None:
    """``names`` (and nothing but ``others`` beside them) read back as written, by every download call."""
    assert sorted(set(run.get_file_names()) - others) == sorted(names)
    out = folder / "all"
    run.download_files(output_directory=str(out))
    for name in names:
        assert (out / name).read_bytes() == payload(name), name
    for name in filter(addressable, names):
        target = folder / "one.bin"
        run.download_file(name, str(target))
        assert target.read_bytes() == payload(name), name


def test_tricky_names_round_trip_in_process(aml, aml_experiment, tmp_path):
    run = aml_experiment.start_logging(snapshot_directory=None)
    upload_all(run, TRICKY, tmp_path)
    check_round_trip(run, TRICKY, tmp_path)
    assert {path: content for path, content in aml.artifacts(run.id).items()} == {n: payload(n) for n in TRICKY}
    run.complete()


def test_a_name_the_sdk_sends_unquoted_is_not_found_rather_than_empty(aml_experiment, tmp_path):
    run = aml_experiment.start_logging(snapshot_directory=None)
    upload_all(run, ["q?x=1.txt"], tmp_path)
    with pytest.raises(UserErrorException, match="was not found"):
        run.download_file("q?x=1.txt", str(tmp_path / "out.bin"))
    assert not (tmp_path / "out.bin").exists()


names = st.lists(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\/"),
        min_size=1,
        max_size=30,
    ).filter(lambda s: s.strip(".") and not (len(s) > 1 and s[1] == ":")),
    min_size=1,
    max_size=4,
    unique=True,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=names, folder=st.sampled_from(["", "outputs/", "a b/c%d/"]))
def test_any_accepted_name_round_trips(names, folder, tmp_path_factory):
    paths = [folder + name for name in names]
    work = tmp_path_factory.mktemp("names")
    with mock_aml() as aml:
        run = Experiment(aml.workspace(), "names").start_logging(snapshot_directory=None)
        upload_all(run, paths, work)
        check_round_trip(run, paths, work)
        run.complete()


@given(st.text(max_size=40))
def test_blob_name_codec_is_exact_and_url_safe(path):
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return
    name = encode_blob_name(path)
    assert decode_blob_name(name) == path
    assert requests.utils.quote(name, safe="~/") == name  # what the SDK's blob client sends is what it got


@pytest.mark.parametrize("bad", ["a\x00b.txt", "line\nbreak.txt", "tab\there", "../escape.txt", "a/../b", "C:/x.txt", "d:x", "back\\slash.txt"])
def test_names_the_service_refuses_are_refused_at_registration(aml, aml_experiment, tmp_path, bad):
    run = aml_experiment.start_logging(snapshot_directory=None)
    local = tmp_path / "f.txt"
    local.write_bytes(b"x")
    with pytest.raises(ServiceException) as raised:
        run.upload_file(bad, str(local))
    assert raised.value.status_code == 400
    assert run.get_file_names() == []
    run.upload_file("fine.txt", str(local))
    run.download_files(output_directory=str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out") == ["fine.txt"]


def test_registered_but_never_uploaded_is_blob_not_found(aml, aml_experiment, tmp_path):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run._client.artifacts.create_empty_artifacts("ExperimentRun", run._container, ["never.txt"])
    assert run.get_file_names() == ["never.txt"]
    with pytest.raises(AzureMLException, match="404"):
        run.download_file("never.txt", str(tmp_path / "never.txt"))
    assert not (tmp_path / "never.txt").exists() or (tmp_path / "never.txt").read_bytes() == b""
    url = run._client.artifacts.get_file_uri("ExperimentRun", run._container, "never.txt")
    response = requests.get(url, timeout=5)
    assert response.status_code == 404
    assert response.headers["x-ms-error-code"] == "BlobNotFound"
    assert b"<Code>BlobNotFound</Code>" in response.content
    assert aml.artifacts(run.id) == {"never.txt": None}


def test_download_files_without_prefix_takes_everything(aml_experiment, tmp_path):
    run = aml_experiment.start_logging(snapshot_directory=None)
    upload_all(run, ["outputs/model.pkl", "logs/train.log", "top.txt"], tmp_path)
    run.download_files(output_directory=str(tmp_path / "out"))
    found = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert found == ["logs/train.log", "outputs/model.pkl", "top.txt"]
    run.download_files(prefix="outputs", output_directory=str(tmp_path / "outputs-only"))
    assert [p.name for p in (tmp_path / "outputs-only").rglob("*") if p.is_file()] == ["model.pkl"]


@pytest.mark.aml_fake_only
def test_tricky_names_round_trip_from_a_submitted_script(aml, aml_experiment, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(SCRIPTS / "upload_tricky_names.py", project)
    (project / "names.json").write_text(json.dumps(TRICKY), encoding="utf-8")
    run = aml_experiment.submit(ScriptRunConfig(source_directory=str(project), script="upload_tricky_names.py"))
    run.wait_for_completion(raise_on_error=True)
    stored = aml.artifacts(run.id)
    for name in TRICKY:
        assert stored[name] == payload(name), name
    assert stored["outputs/nested folder/report (final).txt"] == b"written to ./outputs"
    others = frozenset(n for n in run.get_file_names() if n.startswith(("azureml-logs/", "logs/", "outputs/")))
    check_round_trip(run, TRICKY, tmp_path, others)
