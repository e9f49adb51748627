"""The model registry's domain: assets, registered model versions, and the rules they follow.

Records and values only (no HTTP, no wire names); ``registry_service.RegistryService`` applies them
to a workspace's state under the backend's lock. See docs/lifecycle.md, "Model registry".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from . import limits, messages
from .errors import ValidationError
from .labels import Labels

if TYPE_CHECKING:
    from .models import Artifact

# The SDK's client-side check (``_model_management/_util.py:model_name_validation``).
MODEL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-\._]{0,254}$")
MAX_PAGE_SIZE = 255  # SDK ``Model.list`` docstring: "Currently support values up to 255"
DEFAULT_FRAMEWORK = "Custom"  # SDK ``Model.Framework.CUSTOM``
ORDERS = ("CreatedAtDesc", "CreatedAtAsc", "UpdatedAtDesc", "UpdatedAtAsc")  # SDK ``models.OrderString``
ASSET_CONTAINER_PREFIX = "amlmock-asset-"  # where the registry keeps its copy of an asset's files


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact prefix an asset is made of: every artifact of ``container`` whose path starts with ``path``."""

    origin: str
    container: str
    path: str


@dataclass
class Asset:
    """The files of a model: the registry's own copy of the artifacts under its prefixes, taken when it was created."""

    asset_id: str
    name: str
    sources: list[ArtifactRef]
    files: list["Artifact"]
    run_id: str | None
    created_utc: datetime
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def container(self) -> str:
        """The artifact container holding the copy (read-only: see ``is_registry_container``)."""
        return ASSET_CONTAINER_PREFIX + self.asset_id


def is_registry_container(container: str) -> bool:
    """Whether an artifact container holds an asset's files, which nobody may change."""
    return container.startswith(ASSET_CONTAINER_PREFIX)


@dataclass(frozen=True)
class NewModel:
    """What a registration asks for."""

    name: str
    asset_id: str
    mime_type: str
    description: str | None = None
    tags: Labels = field(default_factory=dict)
    properties: Labels = field(default_factory=dict)
    framework: str | None = None
    framework_version: str | None = None
    unpack: bool = False
    experiment_name: str | None = None
    run_id: str | None = None


@dataclass
class RegisteredModel:
    """One version of a registered model."""

    name: str
    version: int
    asset: Asset
    mime_type: str
    created_utc: datetime
    modified_utc: datetime
    description: str | None
    tags: Labels
    properties: Labels
    framework: str
    framework_version: str | None
    unpack: bool
    experiment_name: str | None
    run_id: str | None
    sequence: int = 0  # registration order within the workspace

    @property
    def model_id(self) -> str:
        """``<name>:<version>``, the id the SDK reads (``Model.id``) and addresses the model by."""
        return f"{self.name}:{self.version}"

    @property
    def files(self) -> dict[str, bytes | None]:
        """The model's files: artifact path -> content (fixed when it was registered)."""
        return {artifact.path: artifact.content for artifact in self.asset.files}

    def labels(self, kind: str) -> Labels:
        """Its ``tags`` or its ``properties``."""
        return self.tags if kind == "tags" else self.properties


@dataclass(frozen=True)
class LabelFilter:
    """A tag or property a listed model must have (with this value, unless ``value`` is None)."""

    key: str
    value: str | None = None

    def matches(self, labels: Labels) -> bool:
        """True when ``labels`` has the key (and the value, when one is asked for)."""
        return self.key in labels and (self.value is None or labels[self.key] == self.value)


@dataclass(frozen=True)
class ModelQuery:
    """A listing: filters, order and page."""

    name: str | None = None
    tags: tuple[LabelFilter, ...] = ()
    properties: tuple[LabelFilter, ...] = ()
    run_id: str | None = None
    framework: str | None = None
    latest_only: bool = False
    order: str = "CreatedAtDesc"
    count: int = MAX_PAGE_SIZE
    offset: int = 0

    def matches(self, model: RegisteredModel) -> bool:
        """Whether ``model`` passes every filter but ``latest_only``."""
        return (
            self.name in (None, model.name)
            and self.run_id in (None, model.run_id)
            and self.framework in (None, model.framework)
            and all(f.matches(model.tags) for f in self.tags)
            and all(f.matches(model.properties) for f in self.properties)
        )


@dataclass(frozen=True)
class ModelChange:
    """An update: tags replaced, a description replaced, properties added (None: left as they are)."""

    tags: Labels | None = None
    description: str | None = None
    properties: Labels | None = None


@dataclass
class ModelRegistry:
    """One workspace's registry: assets, and the versions of each model name."""

    assets: dict[str, Asset] = field(default_factory=dict)
    versions: dict[str, dict[int, RegisteredModel]] = field(default_factory=dict)
    last_version: dict[str, int] = field(default_factory=dict)
    registrations: int = 0

    def next_version(self, name: str) -> int:
        """The version a new registration of ``name`` gets: one more than any it ever had (from 1)."""
        return self.last_version.get(name, 0) + 1

    def all_models(self) -> list[RegisteredModel]:
        """Every version of every name, in registration order."""
        return sorted((m for versions in self.versions.values() for m in versions.values()), key=lambda m: m.sequence)


def check_model_name(name: object) -> str:
    """Model names: a letter or digit, then up to 254 letters, digits, ``-``, ``.`` or ``_``."""
    return limits.check_name(name, MODEL_NAME_PATTERN, messages.invalid_model_name, "name")


def check_labels(what: str, labels: object) -> Labels:
    """Tags or properties: string keys (not empty), string or null values."""
    if not isinstance(labels, dict):
        raise ValidationError(messages.object_of_strings(what), target=what)
    limits.check_entries(what, labels, limits.MAX_VALUE_LENGTH)
    return dict(labels)


def newest_per_name(models: list[RegisteredModel]) -> list[RegisteredModel]:
    """The highest version of each name among ``models``."""
    newest: dict[str, RegisteredModel] = {}
    for model in models:
        if model.name not in newest or model.version > newest[model.name].version:
            newest[model.name] = model
    return [m for m in models if newest[m.name] is m]


def ordered(models: list[RegisteredModel], order: str) -> list[RegisteredModel]:
    """``models`` in one of the ``ORDERS``; equal times go by registration order, in the same direction."""
    if order not in ORDERS:
        raise ValidationError(messages.bad_model_order(ORDERS, order), target="orderBy")
    by_update = order.startswith("Updated")
    return sorted(
        models,
        key=lambda m: (m.modified_utc if by_update else m.created_utc, m.sequence),
        reverse=order.endswith("Desc"),
    )
