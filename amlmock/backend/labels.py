"""Rules shared by the tags and properties of runs and of registered models."""

from __future__ import annotations

from typing import Mapping, Optional

from . import messages
from .errors import ImmutablePropertyError

Labels = dict[str, Optional[str]]


def check_properties_added(current: Mapping[str, object], update: Mapping[str, object]) -> None:
    """Properties are add-only: re-sending a key with its value is fine, another value is refused (every such key named)."""
    changed = [key for key in update if key in current and current[key] != update[key]]
    if changed:
        described = "; ".join(messages.property_overwritten(key, current[key], update[key]) for key in changed)
        raise ImmutablePropertyError(described, target=changed[0])
