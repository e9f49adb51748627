"""The OData ``$filter`` / ``orderby`` subset that the SDK sends, evaluated (``filter_parser`` reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from . import messages
from .errors import ValidationError
from .filter_parser import BoolOp, Node

MISSING = object()


class Filterable(Protocol):
    """What the evaluator needs from a run or an experiment."""

    def filter_value(self, field: str) -> object:
        """The value of ``field`` (``Status``, ``Tags/k`` ...) or ``MISSING`` for an absent key."""


def _parse_datetime(literal: str) -> datetime | None:
    try:
        return datetime.fromisoformat(literal.replace("Z", "+00:00"))
    except ValueError:
        return None


def _typed_literal(actual: object, literal: str) -> object:
    """The literal read as the field's type: a date-time, a number, or text."""
    if isinstance(actual, datetime):
        parsed = _parse_datetime(literal)
        if parsed is None:
            raise ValidationError(messages.not_a_date_time(literal), target="filter")
        return parsed
    if isinstance(actual, int) and not isinstance(actual, bool):
        try:
            return int(literal)
        except ValueError:
            raise ValidationError(messages.not_a_number(literal), target="filter") from None
    return literal


def _compare(actual: object, op: str, literal: str | None) -> bool:
    if actual is MISSING:
        return False
    if literal is None or actual is None:
        same = actual is None and literal is None
        return same if op == "eq" else (not same if op == "ne" else False)
    expected = _typed_literal(actual, literal)
    left = actual if isinstance(expected, (datetime, int)) else str(actual)
    if op == "eq":
        return left == expected
    if op == "ne":
        return left != expected
    try:
        return {"gt": left > expected, "ge": left >= expected, "lt": left < expected, "le": left <= expected}[op]  # type: ignore[operator]
    except TypeError:
        return False


def evaluate(node: Node, item: Filterable) -> bool:
    """True when ``item`` satisfies the parsed filter."""
    if isinstance(node, BoolOp):
        if node.op == "and":
            return evaluate(node.left, item) and evaluate(node.right, item)
        return evaluate(node.left, item) or evaluate(node.right, item)
    return _compare(item.filter_value(node.field), node.op, node.literal)


@dataclass(frozen=True)
class OrderBy:
    """One ``orderby`` clause: a field and a direction."""

    field: str
    descending: bool


def parse_orderby(text: str | None, known_fields: tuple[str, ...], default: OrderBy) -> OrderBy:
    """Parse ``"StartTimeUtc desc"``; only one clause on a known date or number field."""
    if not text:
        return default
    parts = text.split()
    if len(parts) not in (1, 2) or parts[0] not in known_fields or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise ValidationError(messages.bad_orderby(text, known_fields), target="orderby")
    return OrderBy(parts[0], len(parts) == 2 and parts[1].lower() == "desc")
