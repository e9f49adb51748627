"""Artifacts, project snapshots and the blob store behind their upload URLs."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from ..backend.errors import NotImplementedByFake, ValidationError
from ..backend.models import Artifact, Workspace, new_id
from ..backend.service import normalise_artifact_path
from .app import WORKSPACE_PATH, Call, Router
from .wire import artifact_dto, content_info

router = Router()

ARTIFACTS = "/artifact/v2.0" + WORKSPACE_PATH + "/artifacts"
CONTENT = "/content/<version>" + WORKSPACE_PATH + "/snapshots"
BLOB = "/amlmockstorage/<workspace_id>/<container>/<path:path>"
SNAPSHOT_CONTAINER = "snapshots"


def _workspace(call: Call, names: dict[str, str]) -> Workspace:
    return call.workspace(names["subscription_id"], names["resource_group"], names["workspace_name"])


def blob_url(call: Call, workspace: Workspace, container: str, path: str) -> str:
    """Where the SDK uploads (and downloads) an artifact's bytes."""
    return f"{call.service_base(workspace)}/amlmockstorage/{workspace.workspace_id}/{container}/{quote(path)}?{call.access.sas_query(workspace.workspace_id, container, path)}"


def _info(call: Call, workspace: Workspace, artifact: Artifact) -> dict[str, Any]:
    return content_info(artifact, blob_url(call, workspace, artifact.container, artifact.path))


@router.route(ARTIFACTS + "/batch/metadata/<origin>/<container>", "POST")
def create_artifacts(call: Call, **names: str) -> dict[str, Any]:
    """F2: register paths and hand out upload URLs."""
    workspace = _workspace(call, names)
    paths = call.json_object().get("paths")
    if not isinstance(paths, list) or not all(isinstance(p, dict) and isinstance(p.get("path"), str) for p in paths):
        raise ValidationError("paths must be a list of {path} objects", target="paths")
    requested = [p["path"] for p in paths]
    created = call.backend.create_artifacts(workspace, names["origin"], names["container"], requested)
    return {
        "artifacts": {path: artifact_dto(a) for path, a in zip(requested, created, strict=True)},
        "artifactContentInformation": {path: _info(call, workspace, a) for path, a in zip(requested, created, strict=True)},
        "errors": {},
    }


@router.route(ARTIFACTS + "/<origin>/<container>", "GET")
def list_artifacts(call: Call, **names: str) -> dict[str, Any]:
    """F4: ``get_file_names``."""
    workspace = _workspace(call, names)
    artifacts = call.backend.list_artifacts(workspace, names["container"])
    return {"value": [artifact_dto(a) for a in artifacts], "continuationToken": None}


@router.route(ARTIFACTS + "/prefix/contentinfo/<origin>/<container>/<path:path>", "GET")
def list_content_info(call: Call, **names: str) -> dict[str, Any]:
    """F1: content URLs of the artifacts under a prefix (log files in ``get_details``)."""
    workspace = _workspace(call, names)
    artifacts = call.backend.list_artifacts(workspace, names["container"], names["path"])
    return {"value": [_info(call, workspace, a) for a in artifacts], "continuationToken": None}


@router.route(ARTIFACTS + "/contentinfo/<origin>/<container>/<path:path>", "GET")
@router.route(ARTIFACTS + "/write/<origin>/<container>/<path:path>", "GET")
def get_content_info(call: Call, **names: str) -> dict[str, Any]:
    """F3/F5: the content URL of one artifact."""
    workspace = _workspace(call, names)
    artifact = call.backend.get_artifact(workspace, names["container"], names["path"])
    return _info(call, workspace, artifact)


# ------------------------------------------------------------------------------ snapshots
@router.route(CONTENT + "/latest/metadata", "GET")
def latest_snapshot(call: Call, **names: str) -> dict[str, Any]:
    """C1: the previous snapshot, or none."""
    snapshot = call.backend.latest_snapshot(_workspace(call, names))
    return {"id": snapshot.snapshot_id if snapshot else None, "root": {}}


@router.route(CONTENT + "/getblob", "POST")
def snapshot_upload_urls(call: Call, **names: str) -> dict[str, Any]:
    """C2: one upload URL per file of the snapshot; none for callers on loopback (their SDK cannot upload there)."""
    workspace = _workspace(call, names)
    files = call.json_object().get("FileNames")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ValidationError("FileNames must be a list of paths", target="FileNames")
    for name in files:
        normalise_artifact_path(name)  # each name becomes part of a blob URL
    if call.from_loopback():  # the SDK rebuilds an Azure HTTPS host from a blob URL: nothing to upload to here
        return {"fileNodes": []}
    prefix = new_id()
    return {
        "fileNodes": [
            {"fullName": name, "blobUri": blob_url(call, workspace, SNAPSHOT_CONTAINER, f"{prefix}/{name}")}
            for name in files
        ]
    }


@router.route(CONTENT + "/<snapshot_id>", "POST")
def commit_snapshot(call: Call, **names: str) -> dict[str, Any]:
    """C3: record the snapshot and its files."""
    workspace = _workspace(call, names)
    body = call.json_object()
    revisions = body.get("FileRevisionList") or {}
    if not isinstance(revisions, dict):
        raise ValidationError("FileRevisionList must be an object", target="FileRevisionList")
    if not isinstance(body.get("ParentSnapshotId"), (str, type(None))):
        raise ValidationError("ParentSnapshotId must be a string", target="ParentSnapshotId")
    nodes = revisions.get("FileNodes") or []
    if not isinstance(nodes, list) or not all(
        isinstance(n, dict) and isinstance(n.get("FullName"), str) and isinstance(n.get("FileSize", 0), int) for n in nodes
    ):
        raise ValidationError("FileRevisionList.FileNodes must list {FullName, FileSize} objects", target="FileNodes")
    files = {n["FullName"]: n.get("FileSize", 0) for n in nodes}
    snapshot = call.backend.commit_snapshot(workspace, names["snapshot_id"], body.get("ParentSnapshotId"), files)
    return {"id": snapshot.snapshot_id, "root": {}}


# ---------------------------------------------------------------------------------- blobs
def _blob_workspace(call: Call, workspace_id: str, container: str, path: str) -> Workspace:
    call.access.check_sas(call.request.args, workspace_id, container, path)
    return call.backend.workspace_by_id(workspace_id)


def _blob_headers(artifact: Artifact) -> dict[str, str]:
    return {
        "ETag": f'"0x{abs(hash((artifact.path, len(artifact.content or b"")))):X}"',
        "Last-Modified": format_datetime(artifact.created_utc, usegmt=True),
        "x-ms-request-id": new_id(),
        "x-ms-version": "2019-07-07",
    }


@router.route(BLOB, "PUT", public=True)
def put_blob(call: Call, workspace_id: str, container: str, path: str) -> Response:
    """B1/B3: block blob upload, append blob creation and append block."""
    workspace = _blob_workspace(call, workspace_id, container, path)
    comp = call.request.args.get("comp")
    data = call.request.get_data()
    if comp == "appendblock":
        artifact = call.backend.write_blob(workspace, container, path, data, append=True)
        headers = {"x-ms-blob-append-offset": str(len(artifact.content or b"") - len(data))}
    elif comp is None:
        artifact = call.backend.write_blob(workspace, container, path, data)
        headers = {}
    else:
        raise NotImplementedByFake(f"amlmock does not implement blob operation comp={comp}", target="comp")
    headers.update(_blob_headers(artifact))
    headers["x-ms-request-server-encrypted"] = "true"
    return Response(b"", status=201, headers=headers)


@router.route(BLOB, "HEAD", "GET", public=True)
def get_blob(call: Call, workspace_id: str, container: str, path: str) -> Response:
    """B2 and downloads: the blob's bytes and size."""
    workspace = _blob_workspace(call, workspace_id, container, path)
    artifact = call.backend.get_artifact(workspace, container, path)
    content = artifact.content or b""
    headers = _blob_headers(artifact)
    headers.update({"x-ms-blob-type": "BlockBlob", "Content-Length": str(len(content))})
    return Response(content, status=200, headers=headers, content_type="application/octet-stream")
