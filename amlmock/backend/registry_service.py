"""The model registry's operations on a workspace's state (``Backend.registry``).

Each method holds the backend's lock and validates the whole request before it changes anything.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

from . import limits, messages
from .changes import ChangeLog
from .errors import NotFoundError, ValidationError
from .labels import check_properties_added
from .models import Artifact, Run, Workspace
from .times import utcnow
from .registry import (
    MAX_PAGE_SIZE,
    DEFAULT_FRAMEWORK,
    ArtifactRef,
    Asset,
    ModelChange,
    ModelQuery,
    NewModel,
    RegisteredModel,
    check_labels,
    check_model_name,
    newest_per_name,
    ordered,
)

# Lists the artifacts of a container under a path prefix (``Backend.list_artifacts``).
ArtifactLister = Callable[[Workspace, str, str], list[Artifact]]


@dataclass(frozen=True)
class ModelPage:
    """One page of a model listing, and the offset of the next page (None on the last)."""

    models: list[RegisteredModel]
    next_offset: int | None


class RegistryService:
    """Assets and registered models of every workspace of one backend."""

    def __init__(self, lock: threading.RLock, list_artifacts: ArtifactLister, changes: Callable[[], ChangeLog]) -> None:
        self._lock = lock
        self._list_artifacts = list_artifacts
        self._changes = changes  # the backend's current change log, for a store (``backend/changes.py``)

    # ---------------------------------------------------------------------- assets
    def create_asset(
        self,
        workspace: Workspace,
        name: str,
        sources: Sequence[ArtifactRef],
        run_id: str | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> Asset:
        """An asset made of the artifacts under ``sources``; the registry keeps a copy, so the model's files never change.

        A prefix that matches no artifact is refused: the model would have no files.
        """
        with self._lock:
            if not isinstance(name, str) or not name:
                raise ValidationError(messages.ASSET_NEEDS_NAME, target="name")
            if not sources:
                raise ValidationError(messages.ASSET_NEEDS_PREFIX, target="artifacts")
            if run_id is not None:
                _run(workspace, run_id)
            asset_id = uuid.uuid4().hex
            asset = Asset(asset_id, name, list(sources), [], run_id, utcnow(), dict(meta or {}))
            copies: dict[str, Artifact] = {}
            for source in sources:
                for artifact in self._artifacts_under(workspace, source):
                    if artifact.path in copies:
                        raise ValidationError(messages.prefixes_overlap(artifact.path), target="artifacts")
                    copies[artifact.path] = Artifact(
                        source.origin, asset.container, artifact.path, asset.created_utc, artifact.content
                    )
            asset.files = list(copies.values())
            for copy in asset.files:
                workspace.artifacts[(copy.container, copy.path)] = copy
                self._changes().artifact(workspace, copy)
            workspace.registry.assets[asset_id] = asset
            self._changes().registry(workspace)
            return asset

    def _artifacts_under(self, workspace: Workspace, source: ArtifactRef) -> list[Artifact]:
        found = self._list_artifacts(workspace, source.container, source.path)
        if not found:
            raise NotFoundError(
                messages.nothing_to_register(source.origin, source.container, source.path), target="artifacts"
            )
        return found

    def get_asset(self, workspace: Workspace, asset_id: str) -> Asset:
        """One asset, or NotFoundError."""
        with self._lock:
            asset = workspace.registry.assets.get(asset_id)
            if asset is None:
                raise NotFoundError(messages.not_found("Asset", asset_id), target="id")
            return asset

    # ---------------------------------------------------------------------- models
    def register(self, workspace: Workspace, new: NewModel) -> RegisteredModel:
        """The next version of ``new.name`` (1 for a new name), made of an existing asset."""
        with self._lock:
            asset, experiment_name = self._checked(workspace, new)
            now = utcnow()
            model = RegisteredModel(
                name=new.name,
                version=workspace.registry.next_version(new.name),
                asset=asset,
                mime_type=new.mime_type,
                created_utc=now,
                modified_utc=now,
                description=new.description,
                tags=check_labels("tags", new.tags),
                properties=check_labels("properties", new.properties),
                framework=new.framework or DEFAULT_FRAMEWORK,
                framework_version=new.framework_version,
                unpack=new.unpack,
                experiment_name=experiment_name,
                run_id=new.run_id,
                sequence=workspace.registry.registrations + 1,
            )
            workspace.registry.registrations = model.sequence
            workspace.registry.versions.setdefault(model.name, {})[model.version] = model
            workspace.registry.last_version[model.name] = model.version
            self._changes().registry(workspace)
            return model

    def register_files(self, workspace: Workspace, new: NewModel, sources: Sequence[ArtifactRef]) -> RegisteredModel:
        """``register`` of a new asset made of ``sources`` (MLflow's one-call registration); nothing is kept when it fails."""
        with self._lock:
            self._check_fields(workspace, new)
            asset = self.create_asset(workspace, new.name, sources, new.run_id)
            return self.register(workspace, replace(new, asset_id=asset.asset_id))

    def _checked(self, workspace: Workspace, new: NewModel) -> tuple[Asset, str | None]:
        """The asset of a registration and its experiment (the run's), once every field is checked."""
        check_model_name(new.name)
        asset = self.get_asset(workspace, new.asset_id)
        return asset, self._check_fields(workspace, new)

    def _check_fields(self, workspace: Workspace, new: NewModel) -> str | None:
        """Every field of a registration but its asset; its experiment (the run's)."""
        check_model_name(new.name)
        experiment_name = new.experiment_name
        if new.run_id is not None:
            run = _run(workspace, new.run_id)
            if experiment_name not in (None, run.experiment_name):
                raise ValidationError(
                    messages.run_of_other_experiment(run.run_id, run.experiment_name, experiment_name),
                    target="experimentName",
                )
            experiment_name = run.experiment_name
        if not new.mime_type:
            raise ValidationError(messages.MODEL_NEEDS_MIME_TYPE, target="mimeType")
        labels = messages.MODEL_FIELD_LABELS
        for attribute in ("mime_type", "framework", "framework_version"):
            limits.check_length(labels[attribute], getattr(new, attribute), limits.MAX_VALUE_LENGTH)
        limits.check_length("description", new.description, limits.MAX_DESCRIPTION_LENGTH)
        check_labels("tags", new.tags)
        check_labels("properties", new.properties)
        return experiment_name

    def get_model(self, workspace: Workspace, model_id: str) -> RegisteredModel:
        """A model by its id, ``<name>:<version>``, or NotFoundError."""
        with self._lock:
            name, _, version = model_id.rpartition(":")
            found = workspace.registry.versions.get(name, {}).get(int(version)) if version.isdigit() else None
            if found is None:
                raise NotFoundError(messages.not_found("Model", model_id), target="id")
            return found

    def query(self, workspace: Workspace, query: ModelQuery) -> ModelPage:
        """The models that pass ``query``'s filters (only each name's newest of them with ``latest_only``), in its order."""
        if not 1 <= query.count <= MAX_PAGE_SIZE:
            raise ValidationError(messages.bad_model_count(MAX_PAGE_SIZE, query.count), target="count")
        if query.offset < 0:
            raise ValidationError(messages.bad_page_offset(query.offset), target="$skipToken")
        with self._lock:
            matches = [model for model in workspace.registry.all_models() if query.matches(model)]
            if query.latest_only:
                matches = newest_per_name(matches)
            matches = ordered(matches, query.order)
            end = query.offset + query.count
            return ModelPage(matches[query.offset:end], end if end < len(matches) else None)

    def update(self, workspace: Workspace, model_id: str, change: ModelChange) -> RegisteredModel:
        """Replace the tags and/or the description, add properties (a changed value is refused, as for runs)."""
        with self._lock:
            model = self.get_model(workspace, model_id)
            tags = check_labels("tags", change.tags) if change.tags is not None else model.tags
            properties = model.properties
            if change.properties is not None:
                added = check_labels("properties", change.properties)
                check_properties_added(model.properties, added)
                properties = {**model.properties, **added}
            limits.check_length("description", change.description, limits.MAX_DESCRIPTION_LENGTH)
            model.tags, model.properties = tags, properties
            if change.description is not None:
                model.description = change.description
            model.modified_utc = utcnow()
            self._changes().registry(workspace)
            return model

    def delete(self, workspace: Workspace, model_id: str) -> None:
        """Forget one version; its number is never given again (its asset and files stay)."""
        with self._lock:
            model = self.get_model(workspace, model_id)
            versions = workspace.registry.versions[model.name]
            del versions[model.version]
            if not versions:
                del workspace.registry.versions[model.name]
            self._changes().registry(workspace)

    def models(self, workspace: Workspace, name: str | None = None) -> list[RegisteredModel]:
        """Every registered version (of one name, when given), in registration order."""
        with self._lock:
            return [m for m in workspace.registry.all_models() if name in (None, m.name)]


def _run(workspace: Workspace, run_id: str) -> Run:
    run = workspace.runs.get(run_id)
    if run is None:
        raise NotFoundError(messages.not_found("Run", run_id), target="runId")
    return run
