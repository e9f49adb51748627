"""Project snapshots of runs: taken by the SDK, restored as a zip byte for byte, through the real SDK."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
import requests
from azureml.core import ScriptRunConfig

from amlmock.backend.errors import NotImplementedByFake
from amlmock.backend.service import Backend
from tests.helpers import raw


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "src" / "deep").mkdir(parents=True)
    (folder / "train.py").write_text("print('training')\n")
    (folder / "src" / "my file (1).txt").write_bytes("ünïcödé ✓".encode())
    (folder / "src" / "deep" / "weights.bin").write_bytes(os.urandom(70_000))
    (folder / "debug.log").write_text("left out")
    (folder / "cache").mkdir()
    (folder / "cache" / "big.tmp").write_bytes(b"left out too")
    (folder / ".amlignore").write_text("*.log\ncache/\n")
    return folder


def expected_members(folder: Path) -> dict[str, bytes]:
    """The folder's files minus what its .amlignore excludes (``*.log`` and ``cache/``)."""
    found = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not relative.endswith(".log") and not relative.startswith("cache/"):
            found[relative] = path.read_bytes()
    return found


def restored(run, where: Path, snapshot_id: str | None = None) -> dict[str, bytes]:
    path = run.restore_snapshot(snapshot_id=snapshot_id, path=str(where))
    assert path == str(where / f"{snapshot_id or run.get_snapshot_id()}.zip")
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_restore_snapshot_of_a_submitted_run_gives_the_folder_minus_ignored(aml_experiment, project, tmp_path):
    run = aml_experiment.submit(ScriptRunConfig(source_directory=str(project), script="train.py"))
    run.wait_for_completion(raise_on_error=True)
    assert run.get_snapshot_id() == run.get_properties()["ContentSnapshotId"]
    assert restored(run, tmp_path) == expected_members(project)


def test_a_later_snapshot_holds_its_changes_and_what_it_inherits(aml_experiment, project, tmp_path):
    first = aml_experiment.start_logging(snapshot_directory=str(project))
    before = expected_members(project)
    (project / "train.py").write_text("print('changed')\n")
    (project / "src" / "my file (1).txt").unlink()
    (project / "new.txt").write_text("added")
    second = aml_experiment.start_logging(snapshot_directory=str(project))  # uploads only what changed
    assert restored(second, tmp_path / "second") == expected_members(project)
    assert restored(first, tmp_path / "first") == before
    assert restored(second, tmp_path / "by-id", snapshot_id=first.get_snapshot_id()) == before
    first.complete()
    second.complete()


def test_take_snapshot_on_a_logging_run(aml_experiment, project, tmp_path):
    run = aml_experiment.start_logging(snapshot_directory=None)
    assert run.get_snapshot_id() is None
    snapshot_id = run.take_snapshot(str(project / "src"))
    assert run.get_snapshot_id() == snapshot_id
    assert restored(run, tmp_path) == {
        "my file (1).txt": "ünïcödé ✓".encode(),
        "deep/weights.bin": (project / "src" / "deep" / "weights.bin").read_bytes(),
    }
    run.complete()


def test_restoring_an_unknown_snapshot_is_not_found(aml_experiment, tmp_path):
    run = aml_experiment.start_logging(snapshot_directory=None)
    (tmp_path / "restore").mkdir()
    with pytest.raises(requests.HTTPError, match="404"):
        run.restore_snapshot(snapshot_id="00000000-0000-0000-0000-000000000000", path=str(tmp_path / "restore"))
    assert list((tmp_path / "restore").iterdir()) == []
    run.complete()


def test_a_snapshot_without_its_files_is_refused_loudly_not_zipped_empty():
    backend = Backend()
    workspace = backend.create_workspace("sub", "rg", "ws", "eastus")
    backend.commit_snapshot(workspace, "s1", None, {}, tree=["train.py"], blobs={})
    with pytest.raises(NotImplementedByFake, match="no content for 1 file.*train.py"):
        backend.snapshot_contents(workspace, "s1")


def test_snapshot_files_resolve_through_the_parent_chain():
    backend = Backend()
    workspace = backend.create_workspace("sub", "rg", "ws", "eastus")
    backend.write_blob(workspace, "snapshots", "p1/a.txt", b"a1")
    backend.write_blob(workspace, "snapshots", "p1/b.txt", b"b1")
    backend.write_blob(workspace, "snapshots", "p2/a.txt", b"a2")
    backend.commit_snapshot(workspace, "s1", None, {"a.txt": 2, "b.txt": 2}, ["a.txt", "b.txt"], {"a.txt": "p1/a.txt", "b.txt": "p1/b.txt"})
    backend.commit_snapshot(workspace, "s2", "s1", {"a.txt": 2}, ["a.txt", "b.txt"], {"a.txt": "p2/a.txt"})
    backend.commit_snapshot(workspace, "s3", "s2", {}, ["b.txt"], {})
    assert backend.snapshot_contents(workspace, "s1") == {"a.txt": b"a1", "b.txt": b"b1"}
    assert backend.snapshot_contents(workspace, "s2") == {"a.txt": b"a2", "b.txt": b"b1"}
    assert backend.snapshot_contents(workspace, "s3") == {"b.txt": b"b1"}




def test_a_tree_name_that_would_escape_the_zip_is_refused(aml):
    workspace = aml.create_workspace()
    scope = (f"/subscriptions/{workspace.subscription_id}/resourceGroups/{workspace.resource_group}"
             f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace.name}")
    tree = {"name": "", "type": "Directory", "children": {"..": {"name": "..", "type": "Directory", "children": {
        "evil.py": {"name": "evil.py", "type": "File", "children": {}}}}}}
    url = f"https://eastus.api.azureml.ms/content/v2.0{scope}/snapshots/00000000-0000-0000-0000-00000000000e"
    response = raw("POST", url, json={"ParentSnapshotId": None, "DirTreeNode": tree, "FileRevisionList": {"FileNodes": []}})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "ValidationError"
    assert workspace.snapshots == {}
