"""The OData ``$filter`` / ``orderby`` subset that the SDK sends, parsed and evaluated.

The SDK writes keys raw (spaces and dots included) and wraps values in double quotes without
escaping them, e.g. ``((Tags/k eq "va"l") and (Status eq Completed))``. The parser therefore
treats a double quote as closing a literal only where the literal can end: before ``)``,
`` and ``, `` or `` or the end of the text. Anything else is a clear ``ValidationError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol, Union

from .errors import ValidationError

OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")
_OPERATOR = re.compile(r" (eq|ne|gt|ge|lt|le) ")
_CLOSING_QUOTE = re.compile(r'"(?=\s*(\)|$| and | or ))')
_BARE_LITERAL = re.compile(r"[^\s()]+")
_CONNECTIVE = re.compile(r"\s*(and|or)\s+")

MISSING = object()


class Filterable(Protocol):
    """What the evaluator needs from a run or an experiment."""

    def filter_value(self, field: str) -> object:
        """The value of ``field`` (``Status``, ``Tags/k`` ...) or ``MISSING`` for an absent key."""


@dataclass(frozen=True)
class Comparison:
    """``field op literal``; ``literal`` is None for ``null``."""

    field: str
    op: str
    literal: str | None


@dataclass(frozen=True)
class BoolOp:
    """``left and right`` / ``left or right``."""

    op: str
    left: "Node"
    right: "Node"


Node = Union[Comparison, BoolOp]


class _Parser:
    def __init__(self, text: str, fields: Callable[[str], bool]) -> None:
        self.text = text
        self.pos = 0
        self.known_field = fields

    def fail(self, why: str) -> ValidationError:
        return ValidationError(
            f"amlmock cannot evaluate the filter {self.text!r}: {why} (at character {self.pos})",
            target="filter",
        )

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def parse(self) -> Node:
        node = self.expression()
        self.skip_spaces()
        if self.pos != len(self.text):
            raise self.fail("unexpected text " + repr(self.text[self.pos:]))
        return node

    def expression(self) -> Node:
        """``or`` of ``and`` chains: ``and`` binds tighter, as in OData."""
        node = self.conjunction()
        while self.connective("or"):
            node = BoolOp("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.term()
        while self.connective("and"):
            node = BoolOp("and", node, self.term())
        return node

    def connective(self, word: str) -> bool:
        match = _CONNECTIVE.match(self.text, self.pos)
        if match and match.group(1) == word:
            self.pos = match.end()
            return True
        return False

    def term(self) -> Node:
        self.skip_spaces()
        if self.text.startswith("(", self.pos):
            self.pos += 1
            node = self.expression()
            self.skip_spaces()
            if not self.text.startswith(")", self.pos):
                raise self.fail("missing ')'")
            self.pos += 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        match = _OPERATOR.search(self.text, self.pos)
        if not match:
            raise self.fail("expected '<field> eq|ne|gt|ge|lt|le <value>'")
        field = self.text[self.pos:match.start()].strip()
        if not self.known_field(field):
            raise self.fail(f"unsupported field {field!r}")
        self.pos = match.end()
        return Comparison(field, match.group(1), self.literal())

    def literal(self) -> str | None:
        if self.text.startswith('"', self.pos):
            closing = _CLOSING_QUOTE.search(self.text, self.pos + 1)
            if not closing:
                raise self.fail("unterminated string")
            value = self.text[self.pos + 1:closing.start()]
            self.pos = closing.end()
            return value
        match = _BARE_LITERAL.match(self.text, self.pos)
        if not match:
            raise self.fail("missing value")
        self.pos = match.end()
        return None if match.group(0) == "null" else match.group(0)


def parse_filter(text: str, known_field: Callable[[str], bool]) -> Node:
    """Parse ``text``; ``known_field`` says which field names the collection supports."""
    return _Parser(text, known_field).parse()


def _as_comparable(value: object) -> object:
    if isinstance(value, datetime):
        return value
    return str(value)


def _parse_datetime(literal: str) -> datetime | None:
    try:
        return datetime.fromisoformat(literal.replace("Z", "+00:00"))
    except ValueError:
        return None


def _compare(actual: object, op: str, literal: str | None) -> bool:
    if actual is MISSING:
        return False
    if literal is None or actual is None:
        same = actual is None and literal is None
        return same if op == "eq" else (not same if op == "ne" else False)
    expected: object = literal
    if isinstance(actual, datetime):
        expected = _parse_datetime(literal)
        if expected is None:
            raise ValidationError(f"amlmock cannot read {literal!r} as a date-time", target="filter")
    left = _as_comparable(actual)
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
        raise ValidationError(
            f"amlmock cannot order by {text!r}: use one of {', '.join(known_fields)} followed by asc or desc",
            target="orderby",
        )
    return OrderBy(parts[0], len(parts) == 2 and parts[1].lower() == "desc")
