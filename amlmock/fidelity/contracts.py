"""What one REST operation promises, and the JSON-schema helpers to check it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from jsonschema import Draft4Validator

WORKSPACE_TEMPLATE = re.compile(
    r"/subscriptions/\{[^}]+\}/resourceGroups/\{[^}]+\}/providers/Microsoft\.MachineLearningServices/workspaces/\{[^}]+\}"
)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def short_template(template: str) -> str:
    """A path template with the workspace prefix shortened to ``{WS}``."""
    return WORKSPACE_TEMPLATE.sub("{WS}", template)


def template_pattern(template: str, multi_segment: Iterable[str] = ()) -> re.Pattern[str]:
    """A regex matching concrete paths of a path template.

    ``{x}`` is one segment, except the parameters in ``multi_segment`` (sent unquoted, so they may hold ``/``).
    """
    wide = {f"{{{name}}}" for name in multi_segment}
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        (".+" if part in wide else "[^/]+") if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.compile(regex + "$")


@dataclass(frozen=True, eq=False)
class Contract:
    """One operation: its method and path template, request body schema and response schemas.

    ``responses`` maps a status code (or ``default``, for errors) to the schema of its body,
    None when the operation declares no body for it. Every ``$ref`` points into ``definitions``.
    """

    source: str
    method: str
    template: str
    pattern: re.Pattern[str]
    request: dict[str, Any] | None
    responses: dict[str, dict[str, Any] | None]
    definitions: dict[str, Any] = field(repr=False)
    request_required: bool = False

    @property
    def name(self) -> str:
        """``METHOD /path`` with the workspace prefix shortened to ``{WS}``."""
        return f"{self.method} {short_template(self.template)}"

    @property
    def specificity(self) -> int:
        """Literal characters in the template: the most specific template wins a tie."""
        return len(re.sub(r"\{[^}]+\}", "", self.template))

    def response_schema(self, status: int) -> tuple[bool, dict[str, Any] | None]:
        """(declared, schema) for ``status``: its own entry, else ``default`` for errors."""
        key = str(status)
        if key not in self.responses and status >= 400:
            key = "default"
        if key not in self.responses:
            return False, None
        return True, self.responses[key]


def most_specific_first(contracts: Iterable[Contract]) -> list[Contract]:
    """Contracts in lookup order: the first whose pattern matches a path is the one that serves it."""
    return sorted(contracts, key=lambda contract: -contract.specificity)


def without_nulls(value: Any) -> Any:
    """``value`` with every null-valued object key removed, recursively.

    Swagger 2.0 has no ``nullable``: the service simply leaves an absent optional field out,
    while the fake (like the SDK's own serializer in reverse) writes it as JSON null. None of the
    schemas used here has a ``required`` property that the fake sends as null, so dropping null
    keys only accepts "absent"; it never hides a missing required field. This also accepts a
    valueless tag (``{"worth another look": null}``), which the SDK sends as null and reads back
    as ``None``. Null array items are kept, and everything else is validated unchanged.
    """
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def _in_range(bounds: tuple[int, int]) -> Callable[[object], bool]:
    return lambda value: not isinstance(value, int) or bounds[0] <= value <= bounds[1]


def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(datetime.fromisoformat(value))


def validator_for(schema: dict[str, Any], definitions: dict[str, Any]) -> "Draft4Validator":
    """A draft-4 validator for ``schema`` whose ``$ref``s point into ``definitions``.

    Of the swagger formats it checks those the fake can get wrong: ``date-time``, ``int32`` and ``int64``.
    """
    from jsonschema import Draft4Validator, FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    checker.checks("int32")(_in_range(INT32))
    checker.checks("int64")(_in_range(INT64))
    return Draft4Validator({**schema, "definitions": definitions}, format_checker=checker)
