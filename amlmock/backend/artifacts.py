"""Artifacts (paths in containers, their bytes from the blob store) and snapshots of submitted folders."""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from . import limits, messages
from .errors import ConflictError, NotFoundError, NotImplementedByFake, ValidationError
from .locking import locked
from .models import SNAPSHOT_CONTAINER, Artifact, Snapshot, Workspace
from .times import utcnow
from .registry import is_registry_container
from .state import BackendState


class ArtifactOperations(BackendState):
    """The artifacts and snapshots of workspaces."""

    @locked
    def create_artifacts(self, workspace: Workspace, origin: str, container: str, paths: Sequence[str]) -> list[Artifact]:
        """Register artifact paths (content comes later, through the blob store)."""
        _check_writable(container)
        clean = [normalise_artifact_path(p) for p in paths]
        created = []
        for path in clean:
            key = (container, path)
            if key not in workspace.artifacts:
                workspace.artifacts[key] = Artifact(origin, container, path, utcnow())
                self._changes.artifact(workspace, workspace.artifacts[key])
            created.append(workspace.artifacts[key])
        return created

    @locked
    def list_artifacts(self, workspace: Workspace, container: str, prefix: str = "") -> list[Artifact]:
        """Artifacts of a container, optionally under a path prefix, sorted by path."""
        prefix = normalise_artifact_path(prefix) if prefix else ""
        return sorted(
            (a for (c, p), a in workspace.artifacts.items() if c == container and p.startswith(prefix)),
            key=lambda a: a.path,
        )

    @locked
    def get_artifact(self, workspace: Workspace, container: str, path: str) -> Artifact:
        """One artifact, or NotFoundError."""
        artifact = workspace.artifacts.get((container, normalise_artifact_path(path)))
        if artifact is None:
            raise NotFoundError(messages.artifact_not_found(path, container), target="path")
        return artifact

    @locked
    def write_blob(self, workspace: Workspace, container: str, path: str, content: bytes, append: bool = False) -> Artifact:
        """Store (or append to) an artifact's bytes; registers the artifact when needed."""
        _check_writable(container)
        path = normalise_artifact_path(path)
        artifact = workspace.artifacts.get((container, path))
        if artifact is None:
            artifact = workspace.artifacts[(container, path)] = Artifact("ExperimentRun", container, path, utcnow())
        artifact.content = (artifact.content or b"") + content if append else content
        self._changes.artifact(workspace, artifact)
        return artifact

    # ------------------------------------------------------------------ snapshots
    @locked
    def latest_snapshot(self, workspace: Workspace) -> Snapshot | None:
        """The most recently committed snapshot."""
        return max(workspace.snapshots.values(), key=lambda s: s.created_utc, default=None)

    @locked
    def commit_snapshot(
        self,
        workspace: Workspace,
        snapshot_id: str,
        parent_id: str | None,
        files: Mapping[str, int],
        tree: Sequence[str] = (),
        blobs: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Record a snapshot: ``tree`` lists all its files; ``files`` and ``blobs`` those uploaded for it
        (to the blob store, before), the others are unchanged since an ancestor."""
        snapshot = Snapshot(snapshot_id, parent_id, dict(files), utcnow(), tuple(tree), dict(blobs or {}))
        workspace.snapshots[snapshot_id] = snapshot
        self._changes.snapshot(workspace, snapshot)
        return snapshot

    @locked
    def snapshot_contents(self, workspace: Workspace, snapshot_id: str) -> dict[str, bytes]:
        """Every file of a snapshot with its bytes, each from the nearest snapshot (itself or an ancestor)
        that uploaded it. A file whose bytes the fake never received is a NotImplementedByFake error."""
        snapshot = workspace.snapshots.get(snapshot_id)
        if snapshot is None:
            raise NotFoundError(messages.snapshot_not_found(snapshot_id), target="snapshotId")
        contents: dict[str, bytes] = {}
        missing = []
        for path in snapshot.tree:
            content = self._snapshot_file(workspace, snapshot, path)
            if content is None:
                missing.append(path)
            else:
                contents[path] = content
        if missing:
            raise NotImplementedByFake(messages.snapshot_without_files(snapshot_id, missing), target="snapshotId")
        return contents

    def _snapshot_file(self, workspace: Workspace, snapshot: Snapshot, path: str) -> bytes | None:
        seen: set[str] = set()
        current: Snapshot | None = snapshot
        while current is not None and current.snapshot_id not in seen:
            seen.add(current.snapshot_id)
            if path in current.blobs:
                artifact = workspace.artifacts.get((SNAPSHOT_CONTAINER, current.blobs[path]))
                return artifact.content if artifact is not None else None
            current = workspace.snapshots.get(current.parent_id) if current.parent_id else None
        return None



def _check_writable(container: str) -> None:
    """The files of a registered model's asset never change."""
    if is_registry_container(container):
        raise ConflictError(messages.registry_container_fixed(container), target="container")



_FORBIDDEN_PATH_CHARACTER = re.compile(r"[\x00-\x1f\x7f\\]")
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


def normalise_artifact_path(path: str) -> str:
    """``./outputs/a.txt`` and ``outputs/a.txt`` name the same artifact.

    The path is an opaque key (never a file name), but it must survive a blob URL: ``.`` and ``..``
    segments are refused, because HTTP clients remove them from URLs (RFC 3986, 5.2.4), and so is
    text that is not valid Unicode (lone surrogates), which no URL can carry. Control characters,
    backslashes and a leading drive letter (``C:``) are refused too: such a name could not be
    written back to a file by ``download_files`` (docs/lifecycle.md, artifact names).
    """
    if not isinstance(path, str) or not path.strip("./"):
        raise ValidationError(messages.invalid_artifact_path(path), target="path")
    limits.check_length("artifact path", path, limits.MAX_ARTIFACT_PATH_LENGTH)
    while path.startswith("./"):
        path = path[2:]
    path = path.lstrip("/")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise ValidationError(messages.invalid_artifact_path(path, "must not contain '.' or '..' segments"), target="path")
    if _FORBIDDEN_PATH_CHARACTER.search(path):
        raise ValidationError(messages.invalid_artifact_path(path, "must not contain control characters or backslashes"), target="path")
    if _DRIVE_LETTER.match(path):
        raise ValidationError(messages.invalid_artifact_path(path, "must not start with a drive letter"), target="path")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(messages.invalid_artifact_path(path, "is not valid Unicode"), target="path") from None
    return path


