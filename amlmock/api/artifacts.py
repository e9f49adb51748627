"""Artifacts, project snapshots and the blob store behind their upload URLs."""

from __future__ import annotations

import io
import re
import zipfile
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.wrappers import Response

from ..backend.errors import NotFoundError, NotImplementedByFake, ValidationError
from ..backend.models import SNAPSHOT_CONTAINER, Artifact, Workspace, new_id
from ..backend.artifacts import normalise_artifact_path
from .access import STORAGE_VERSION
from .app import WORKSPACE_PATH, Call, Router
from .blobnames import decode_blob_name, encode_blob_name
from .wire import artifact_dto, content_etag, content_info

router = Router()

ARTIFACTS = "/artifact/v2.0" + WORKSPACE_PATH + "/artifacts"
CONTENT = "/content/<version>" + WORKSPACE_PATH + "/snapshots"
BLOB = "/amlmockstorage/<workspace_id>/<container>/<path:path>"
BYTE_RANGE = re.compile(r"bytes=(\d+)-(\d*)")  # the x-ms-range / Range of a ranged blob download



def blob_url(call: Call, workspace: Workspace, container: str, path: str) -> str:
    """Where the SDK uploads (and downloads) an artifact's bytes."""
    name = encode_blob_name(path)
    sas = call.access.sas_query(workspace.workspace_id, container, path)
    return f"{call.service_base(workspace)}/amlmockstorage/{workspace.workspace_id}/{container}/{name}?{sas}"


def info_with_url(call: Call, workspace: Workspace, artifact: Artifact) -> dict[str, Any]:
    """An artifact's content information, with a URL that reads it."""
    return content_info(artifact, blob_url(call, workspace, artifact.container, artifact.path))


def requested_paths(call: Call) -> list[str]:
    """The paths of a batch metadata request: ``{"paths": [{"path": ...}, ...]}``."""
    paths = call.json_object().get("paths")
    if not isinstance(paths, list) or not all(isinstance(p, dict) and isinstance(p.get("path"), str) for p in paths):
        raise ValidationError("paths must be a list of {path} objects", target="paths")
    return [p["path"] for p in paths]


def created_reply(call: Call, workspace: Workspace, requested: list[str], created: list[Artifact]) -> dict[str, Any]:
    """The reply to a batch metadata request: each artifact by its path, with its upload URL."""
    pairs = list(zip(requested, created, strict=True))
    return {
        "artifacts": {path: artifact_dto(a) for path, a in pairs},
        "artifactContentInformation": {path: info_with_url(call, workspace, a) for path, a in pairs},
        "errors": {},
    }


@router.route(ARTIFACTS + "/batch/metadata/<origin>/<container>", "POST")
def create_artifacts(call: Call, **names: str) -> dict[str, Any]:
    """F2: register paths and hand out upload URLs."""
    workspace = call.path_workspace(names)
    requested = requested_paths(call)
    created = call.backend.create_artifacts(workspace, names["origin"], names["container"], requested)
    return created_reply(call, workspace, requested, created)


@router.route(ARTIFACTS + "/<origin>/<container>", "GET")
def list_artifacts(call: Call, **names: str) -> dict[str, Any]:
    """F4: ``get_file_names``."""
    workspace = call.path_workspace(names)
    artifacts = call.backend.list_artifacts(workspace, names["container"])
    return {"value": [artifact_dto(a) for a in artifacts], "continuationToken": None}


@router.route(ARTIFACTS + "/prefix/contentinfo/<origin>/<container>/<path:path>", "GET")
@router.route(ARTIFACTS + "/prefix/contentinfo/<origin>/<container>/", "GET")
def list_content_info(call: Call, **names: str) -> dict[str, Any]:
    """F1: content URLs of the artifacts under a prefix (log files in ``get_details``; all of them
    for ``download_files()`` without a prefix)."""
    workspace = call.path_workspace(names)
    artifacts = call.backend.list_artifacts(workspace, names["container"], names.get("path", ""))
    return {"value": [info_with_url(call, workspace, a) for a in artifacts], "continuationToken": None}


@router.route(ARTIFACTS + "/contentinfo/<origin>/<container>/<path:path>", "GET")
@router.route(ARTIFACTS + "/write/<origin>/<container>/<path:path>", "GET")
def get_content_info(call: Call, **names: str) -> dict[str, Any]:
    """F3/F5: the content URL of one artifact."""
    workspace = call.path_workspace(names)
    artifact = call.backend.get_artifact(workspace, names["container"], names["path"])
    return info_with_url(call, workspace, artifact)


# ------------------------------------------------------------------------------ snapshots
@router.route(CONTENT + "/latest/metadata", "GET")
def latest_snapshot(call: Call, **names: str) -> dict[str, Any]:
    """C1: the previous snapshot, or none."""
    snapshot = call.backend.latest_snapshot(call.path_workspace(names))
    return {"id": snapshot.snapshot_id if snapshot else None, "root": {}}


@router.route(CONTENT + "/getblob", "POST")
def snapshot_upload_urls(call: Call, **names: str) -> dict[str, Any]:
    """C2: one upload URL per file of the snapshot; none for callers on loopback (their SDK cannot upload there)."""
    workspace = call.path_workspace(names)
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
    """C3: record the snapshot, its whole file tree and the blobs its new or changed files went to."""
    workspace = call.path_workspace(names)
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
    blobs = {n["FullName"]: blob for n in nodes if (blob := _snapshot_blob(n.get("BlobUri"))) is not None}
    listed = tree_files(body.get("DirTreeNode")) or sorted(files)
    tree = [normalise_artifact_path(path) for path in listed]  # they become zip member names: no '..' may escape
    snapshot = call.backend.commit_snapshot(workspace, names["snapshot_id"], body.get("ParentSnapshotId"), files, tree, blobs)
    return {"id": snapshot.snapshot_id, "root": {}}


def tree_files(node: Any, prefix: str = "") -> list[str]:
    """The file paths of a snapshot's ``DirTreeNode`` (children as an object, or as a list in older SDKs)."""
    if not isinstance(node, dict):
        return []
    children = node.get("children") or {}
    found: list[str] = []
    for child in children.values() if isinstance(children, dict) else children:
        if not isinstance(child, dict) or not isinstance(child.get("name"), str):
            raise ValidationError("DirTreeNode children must be {name, type, children} objects", target="DirTreeNode")
        path = prefix + child["name"]
        found.extend([path] if child.get("type") == "File" else tree_files(child, path + "/"))
    return found


def _snapshot_blob(url: Any) -> str | None:
    """The blob path, in the snapshot container, of an upload URL this fake handed out (None for any other)."""
    if not isinstance(url, str):
        return None
    _, marker, rest = urlsplit(url).path.partition(f"/{SNAPSHOT_CONTAINER}/")
    return decode_blob_name(unquote(rest)) if marker and "/amlmockstorage/" in url else None


@router.route(CONTENT + "/<snapshot_id>/zip", "POST")
def snapshot_zip(call: Call, **names: str) -> dict[str, Any]:
    """C4: ``restore_snapshot``: the snapshot's files as one zip, and a download URL for it."""
    workspace = call.path_workspace(names)
    contents = call.backend.snapshot_contents(workspace, names["snapshot_id"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(contents.items()):
            archive.writestr(path, content)
    zip_path = f"zips/{names['snapshot_id']}.zip"
    call.backend.write_blob(workspace, SNAPSHOT_CONTAINER, zip_path, buffer.getvalue())
    return {"zipSasUri": blob_url(call, workspace, SNAPSHOT_CONTAINER, zip_path)}


# ---------------------------------------------------------------------------------- blobs


def _blob_path(call: Call, workspace_id: str, container: str, name: str) -> str | None:
    """The artifact path a blob URL names (None: not a name of the fake's), once its SAS is checked."""
    path = decode_blob_name(name)
    if path is not None:
        call.access.check_sas(call.request.args, workspace_id, container, path)
    return path


def _blob_headers(content: bytes, created: Any) -> dict[str, str]:
    return {
        "ETag": f'"{content_etag(content)}"',
        "Last-Modified": format_datetime(created, usegmt=True),
        "x-ms-request-id": new_id(),
        "x-ms-version": STORAGE_VERSION,
    }


def storage_error(status: int, code: str, message: str) -> Response:
    """Azure Storage's own error shape: an XML ``<Error>`` and the ``x-ms-error-code`` header."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}\nRequestId:{new_id()}</Message></Error>"
    )
    headers = {"x-ms-error-code": code, "x-ms-request-id": new_id(), "x-ms-version": STORAGE_VERSION}
    return Response(body.encode("utf-8"), status=status, headers=headers, content_type="application/xml")


def _blob_not_found() -> Response:
    return storage_error(404, "BlobNotFound", "The specified blob does not exist.")


@router.route(BLOB, "PUT", public=True)
def put_blob(call: Call, workspace_id: str, container: str, path: str) -> Response:
    """B1/B3: block blob upload, append blob creation and append block."""
    workspace = call.backend.workspace_by_id(workspace_id)
    artifact_path = _blob_path(call, workspace_id, container, path)
    if artifact_path is None:
        return storage_error(400, "InvalidUri", "The requested URI does not represent any resource on the server.")
    comp = call.request.args.get("comp")
    data = call.request.get_data()
    if comp == "appendblock":
        artifact = call.backend.write_blob(workspace, container, artifact_path, data, append=True)
        headers = {"x-ms-blob-append-offset": str(len(artifact.content or b"") - len(data))}
    elif comp is None:
        artifact = call.backend.write_blob(workspace, container, artifact_path, data)
        headers = {}
    else:
        raise NotImplementedByFake(f"amlmock does not implement blob operation comp={comp}", target="comp")
    headers.update(_blob_headers(artifact.content or b"", artifact.created_utc))
    headers["x-ms-request-server-encrypted"] = "true"
    return Response(b"", status=201, headers=headers)


@router.route(BLOB, "HEAD", "GET", public=True)
def get_blob(call: Call, workspace_id: str, container: str, path: str) -> Response:
    """B2 and downloads: the blob's bytes and size (or a ``Range``/``x-ms-range`` of them); 404 ``BlobNotFound``
    for a path never uploaded."""
    workspace = call.backend.workspace_by_id(workspace_id)
    artifact_path = _blob_path(call, workspace_id, container, path)
    if artifact_path is None:
        return _blob_not_found()
    try:
        artifact = call.backend.get_artifact(workspace, container, artifact_path)
    except NotFoundError:
        return _blob_not_found()
    content = artifact.content
    if content is None:  # registered, never written: storage has no such blob
        return _blob_not_found()
    headers = _blob_headers(content, artifact.created_utc)
    headers["x-ms-blob-type"] = "BlockBlob"
    wanted = BYTE_RANGE.fullmatch(call.request.headers.get("x-ms-range") or call.request.headers.get("Range") or "")
    if wanted is None:
        headers["Content-Length"] = str(len(content))
        return Response(content, status=200, headers=headers, content_type="application/octet-stream")
    start, end = int(wanted.group(1)), min(int(wanted.group(2) or len(content) - 1), len(content) - 1)
    if start > end:  # as Azure Storage: a range past the end (of an empty blob, too) is 416 InvalidRange
        headers["Content-Range"] = f"bytes */{len(content)}"
        return Response(b"", status=416, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
    return Response(content[start:end + 1], status=206, headers=headers, content_type="application/octet-stream")
