"""The service's documented limits, and the checks that enforce them.

Source: "Service limits in Azure Machine Learning" (resource-limits-capacity), and the
``runId`` description in the run history REST spec (2019-09-30). See docs/lifecycle.md.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping

from . import messages
from .errors import ValidationError

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
EXPERIMENT_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][\w\-]{0,254}$")

MAX_TAGS = 50
MAX_PROPERTIES = 50
MAX_KEY_LENGTH = 100
MAX_VALUE_LENGTH = 1000
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_DISPLAY_NAME_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 5000
MAX_ERROR_MESSAGE_LENGTH = 3000
MAX_METRIC_NAMES_PER_RUN = 50
MAX_METRIC_ROWS_PER_BATCH = 250
MAX_METRIC_COLUMNS = 15
MAX_METRIC_COLUMN_LENGTH = 255
MAX_ARTIFACT_PATH_LENGTH = 5000
MAX_FILTER_LENGTH = 5000  # amlmock's choice: room for several values of the maximum length, and a bound on parsing time


def check_name(name: object, pattern: re.Pattern[str], message: Callable[[object], str], target: str) -> str:
    """``name`` when it is a string that ``pattern`` matches; otherwise a ValidationError saying ``message(name)``."""
    if not isinstance(name, str) or not pattern.match(name):
        raise ValidationError(message(name), target=target)
    return name


def check_run_id(run_id: object) -> str:
    """Run ids: 1-255 letters, digits, dashes and underscores (REST spec)."""
    return check_name(run_id, RUN_ID_PATTERN, messages.invalid_run_id, target="runId")


def check_experiment_name(name: object) -> str:
    """Experiment names: a letter or digit, then up to 254 word characters or dashes."""

    def message(bad: object) -> str:
        return messages.invalid_experiment_name(bad, EXPERIMENT_NAME_PATTERN.pattern)

    return check_name(name, EXPERIMENT_NAME_PATTERN, message, target="experimentName")


def check_length(what: str, value: object, limit: int) -> None:
    """A string field no longer than ``limit`` characters."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(messages.not_a_string(what, value), target=what)
    if isinstance(value, str) and len(value) > limit:
        raise ValidationError(messages.too_long(what, len(value), limit), target=what)


def check_string_map(
    what: str,
    merged: Mapping[str, object],
    *,
    max_entries: int,
    max_key: int = MAX_KEY_LENGTH,
    max_value: int = MAX_VALUE_LENGTH,
) -> None:
    """Tags or properties after an update: count, key and value lengths, string or null values."""
    if len(merged) > max_entries:
        raise ValidationError(messages.too_many_labels(what, max_entries, len(merged)), target=what)
    check_entries(what, merged, max_value, max_key)


def check_entries(what: str, labels: Mapping[str, object], max_value: int, max_key: int | None = None) -> None:
    """Each key not empty (and no longer than ``max_key``), each value a string or null no longer than ``max_value``."""
    for key, value in labels.items():
        if not key:
            raise ValidationError(messages.empty_keys(what), target=what)
        if max_key is not None:
            check_length(messages.label_key(what, key), key, max_key)
        check_length(messages.label_value(what, key), value, max_value)
