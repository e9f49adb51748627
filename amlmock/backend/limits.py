"""The service's documented limits, and the checks that enforce them.

Source: "Service limits in Azure Machine Learning" (resource-limits-capacity), and the
``runId`` description in the run history REST spec (2019-09-30). See docs/lifecycle.md.
"""

from __future__ import annotations

import re
from typing import Mapping

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


def check_run_id(run_id: str) -> None:
    """Run ids: 1-255 letters, digits, dashes and underscores (REST spec)."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise ValidationError(
            f"Run id {run_id!r} is invalid: run ids must be less than 256 characters and contain only "
            "alphanumeric characters with dashes and underscores",
            target="runId",
        )


def check_experiment_name(name: str) -> None:
    """Experiment names: a letter or digit, then up to 254 word characters or dashes."""
    if not EXPERIMENT_NAME_PATTERN.match(name):
        raise ValidationError(
            f"Experiment name {name!r} is invalid: it must match {EXPERIMENT_NAME_PATTERN.pattern}",
            target="experimentName",
        )


def check_length(what: str, value: object, limit: int) -> None:
    """A string field no longer than ``limit`` characters."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{what} must be a string, not {type(value).__name__}", target=what)
    if isinstance(value, str) and len(value) > limit:
        raise ValidationError(f"{what} is {len(value)} characters long; the limit is {limit}", target=what)


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
        raise ValidationError(
            f"A run can have at most {max_entries} {what}; this request would give it {len(merged)}", target=what
        )
    for key, value in merged.items():
        if not key:
            raise ValidationError(f"{what} keys must not be empty", target=what)
        check_length(f"{what} key {key[:40]!r}", key, max_key)
        check_length(f"{what} value of {key!r}", value, max_value)
