"""The OData ``$filter`` / ``orderby`` subset that the SDK sends, parsed and evaluated.

The SDK writes keys raw (spaces and dots included) and wraps values in double quotes without
escaping them, e.g. ``((Tags/k eq "va"l") and (Status eq Completed))``. The parser therefore
treats a double quote as closing a literal only where the literal can end: before ``)``,
`` and ``, `` or `` or the end of the text. Where the text allows more than one reading (a key
holding `` eq ``, a value holding ``" and "`` or ``")``), the first reading that parses as a
whole wins: earliest operator, earliest closing quote. Anything else is a clear ``ValidationError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol, TypeVar, Union

from .errors import ValidationError

OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")
_OPERATOR = re.compile(r" (?=(eq|ne|gt|ge|lt|le) )")  # a lookahead, so "k eq eq x" yields both
_CLOSING_QUOTE = re.compile(r'"(?=\s*(\)|$| and | or ))')
_BARE_LITERAL = re.compile(r"[^\s()]+")
_CONNECTIVE = re.compile(r"\s*(and|or)\s+")

_ATOM_BOUNDARY = re.compile(r"\)\s*(and|or)\s+\(")  # ") and (": only a first reading may span one
_MAX_PARSE_ATTEMPTS = 256

MISSING = object()
T = TypeVar("T")


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
    def __init__(self, text: str, fields: Callable[[str], bool], plan: list[int]) -> None:
        self.text = text
        self.pos = 0
        self.known_field = fields
        self.plan = plan  # the alternative to take at each choice point, in the order met
        self.met: list[int] = []  # how many alternatives each choice point met had

    def choose(self, count: int) -> int:
        """Pick one of ``count`` readings: the planned one, else the first."""
        index = len(self.met)
        self.met.append(count)
        return self.plan[index] if index < len(self.plan) else 0

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
            if self.at_group_end():  # the SDK's CLI sends "((ParentRunId eq null) and )" when no tags are given
                break
            node = BoolOp("and", node, self.term())
        return node

    def at_group_end(self) -> bool:
        self.skip_spaces()
        return self.pos == len(self.text) or self.text[self.pos] == ")"

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
        operators = list(_OPERATOR.finditer(self.text, self.pos))
        if not operators:
            raise self.fail("expected '<field> eq|ne|gt|ge|lt|le <value>'")
        fields = [(_field_name(self.text[self.pos:m.start()]), m) for m in operators]
        readings = _plausible([(f, m) for f, m in fields if self.known_field(f)], lambda reading: reading[0])
        if not readings:
            raise self.fail(f"unsupported field {fields[0][0]!r}")
        field, match = readings[self.choose(len(readings))]
        self.pos = match.start() + len(match.group(1)) + 2
        return Comparison(field, match.group(1), self.literal())

    def literal(self) -> str | None:
        if self.text.startswith('"', self.pos):
            start = self.pos + 1
            ends = _plausible(list(_CLOSING_QUOTE.finditer(self.text, start)), lambda m: self.text[start:m.start()])
            if not ends:
                raise self.fail("unterminated string")
            closing = ends[self.choose(len(ends))]
            value = self.text[start:closing.start()]
            self.pos = closing.end()
            return value
        match = _BARE_LITERAL.match(self.text, self.pos)
        if not match:
            raise self.fail("missing value")
        self.pos = match.end()
        return None if match.group(0) == "null" else match.group(0)


def _plausible(readings: list[T], text_of: Callable[[T], str]) -> list[T]:
    """The first reading, then the others whose text does not span a ``) and (`` between atoms:
    those would turn a bad filter (an unknown field, say) into a silent non-match."""
    return readings[:1] + [r for r in readings[1:] if not _ATOM_BOUNDARY.search(text_of(r))]


def _field_name(text: str) -> str:
    """The field before an operator. A key after ``/`` is kept verbatim: the SDK writes
    ``Tags/<key> eq`` with the raw key, so ``"t "`` arrives as ``Tags/t  eq`` and must stay ``t ``."""
    text = text.lstrip()
    return text if "/" in text else text.rstrip()


def parse_filter(text: str, known_field: Callable[[str], bool]) -> Node:
    """Parse ``text``; ``known_field`` says which field names the collection supports.

    The first attempt takes the first reading everywhere; when it fails, the other readings
    are tried depth first (at most ``_MAX_PARSE_ATTEMPTS``), and the first error is reported.
    """
    plan: list[int] | None = []
    first_error: ValidationError | None = None
    attempts = 0
    while plan is not None and attempts < _MAX_PARSE_ATTEMPTS:
        attempts += 1
        parser = _Parser(text, known_field, plan)
        try:
            return parser.parse()
        except ValidationError as error:
            first_error = first_error or error
            plan = _next_plan(plan, parser.met)
    assert first_error is not None
    raise first_error


def _next_plan(plan: list[int], met: list[int]) -> list[int] | None:
    """The next untried combination of readings (the last choice point moves first), or None."""
    taken = [plan[i] if i < len(plan) else 0 for i in range(len(met))]
    for index in range(len(met) - 1, -1, -1):
        if taken[index] + 1 < met[index]:
            return taken[:index] + [taken[index] + 1]
    return None


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
            raise ValidationError(f"amlmock cannot read {literal!r} as a date-time", target="filter")
        return parsed
    if isinstance(actual, int) and not isinstance(actual, bool):
        try:
            return int(literal)
        except ValueError:
            raise ValidationError(f"amlmock cannot read {literal!r} as a number", target="filter") from None
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
        raise ValidationError(
            f"amlmock cannot order by {text!r}: use one of {', '.join(known_fields)} followed by asc or desc",
            target="orderby",
        )
    return OrderBy(parts[0], len(parts) == 2 and parts[1].lower() == "desc")
