"""The parser of the OData ``$filter`` subset that the SDK sends (``query`` evaluates what it reads).

The SDK writes keys raw (spaces and dots included) and wraps values in double quotes without
escaping them, e.g. ``((Tags/k eq "va"l") and (Status eq Completed))``. The parser therefore
treats a double quote as closing a literal only where the literal can end: before ``)``,
`` and ``, `` or `` or the end of the text. Where the text allows more than one reading (a key
holding `` eq ``, a value holding ``" and "`` or ``")``), the first reading that parses as a
whole wins: earliest operator, earliest closing quote. Anything else is a clear ``ValidationError``,
and so is a text with so many readings that they cannot be tried within a work budget
proportional to its length (``work_budget``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar, Union

from . import messages
from .errors import ValidationError

OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")
_OPERATOR = re.compile(r" (?=(eq|ne|gt|ge|lt|le) )")  # a lookahead, so "k eq eq x" yields both
_CLOSING_QUOTE = re.compile(r'"(?=\s*(\)|$| and | or ))')
_BARE_LITERAL = re.compile(r"[^\s()]+")
_SPACES = re.compile(r"\s*")

_ATOM_BOUNDARY = re.compile(r"\)\s*(and|or)\s+\(")  # ") and (": only a first reading may span one
_CHARACTERS_PER_UNIT = 64
_UNITS_PER_CHARACTER = 8
_BASE_UNITS = 8192
# The SDK nests three or four levels; a fixed bound keeps the parser's recursion far from Python's limit,
# so a deeper filter is refused the same way whatever the caller's stack (the service's own bound is unknown).
MAX_NESTING = 50

T = TypeVar("T")


def work_budget(length: int) -> int:
    """The work units that parsing a filter of ``length`` characters may spend, all its readings together."""
    return _UNITS_PER_CHARACTER * length + _BASE_UNITS


class _OutOfWork(Exception):
    """The work budget ran out before any reading of the filter parsed."""


class Work:
    """The work spent on one filter, in units: one per term, per candidate operator or closing quote and
    per search for a ``) and (``, and one per ``_CHARACTERS_PER_UNIT`` characters scanned. A unit
    costs a few microseconds at most, so the budget bounds the time a filter can take."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, units: int = 1) -> None:
        """Spend ``units``; when that would pass the limit, spend nothing and raise ``_OutOfWork``."""
        if self.used + units > self.limit:
            raise _OutOfWork
        self.used += units

    def scan(self, characters: int) -> None:
        """Pay for ``characters`` scanned."""
        self.spend(characters // _CHARACTERS_PER_UNIT)


class _Unreadable(Exception):
    """One reading of the filter fails: why, and at which character."""

    def __init__(self, why: str, pos: int) -> None:
        super().__init__(why)
        self.why = why
        self.pos = pos


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
_Kind = Callable[..., Iterator[Any]]  # _Readings.field_readings or _Readings.closing_quotes


class _Readings:
    """The filter and the readings of its choice points, shared by all attempts: each choice point's
    readings are found once, as far as an attempt needs them. (Finding them again in each attempt costs
    work; keeping a lazy search per choice point and attempt makes Python's garbage collector the
    bottleneck.)"""

    def __init__(self, text: str, known_field: Callable[[str], bool], work: Work) -> None:
        self.text = text
        self.known_field = known_field
        self.work = work
        self.found: dict[tuple[_Kind, int], tuple[list[Any], Iterator[Any]]] = {}  # kind, start: found, the search

    def nth(self, kind: Callable[[_Readings, int], Iterator[T]], start: int, index: int) -> T | None:
        """Reading ``index`` of ``kind`` (``field_readings``, ``closing_quotes``) at ``start``; None past the last."""
        found = self.found.get((kind, start))
        if found is None:
            found = self.found[kind, start] = ([], kind(self, start))
        readings, more = found
        while len(readings) <= index:
            reading = next(more, None)
            if reading is None:
                return None
            readings.append(reading)
        return readings[index]

    def scan(self, pattern: re.Pattern[str], start: int) -> Iterator[re.Match[str]]:
        """The matches of ``pattern`` from ``start`` on, paid for as they are found."""
        for match in pattern.finditer(self.text, start):
            self.work.spend(1 + (match.start() - start) // _CHARACTERS_PER_UNIT)
            start = match.start()
            yield match
        self.work.scan(len(self.text) - start)

    def fields(self, start: int) -> Iterator[tuple[str, re.Match[str]]]:
        """Each operator after ``start`` with the field before it."""
        return ((_field_name(self.text[start:m.start()]), m) for m in self.scan(_OPERATOR, start))

    def field_readings(self, start: int) -> Iterator[tuple[str, re.Match[str]]]:
        """A comparison at ``start``: the first field the collection knows, then the later known ones
        within the atom, each with its operator."""
        fields = self.fields(start)
        first = next((f for f in fields if self.known_field(f[0])), None)
        if first is not None:
            yield first
            yield from (f for f in self.within_atom(start, fields, lambda f: f[1].start()) if self.known_field(f[0]))

    def closing_quotes(self, start: int) -> Iterator[re.Match[str]]:
        """A quoted literal from ``start``: the first ``"`` that can end it, then the later ones within the atom."""
        ends = self.scan(_CLOSING_QUOTE, start)
        first = next(ends, None)
        if first is not None:
            yield first
            yield from self.within_atom(start, ends, lambda m: m.start())

    def within_atom(self, start: int, readings: Iterator[T], end_of: Callable[[T], int]) -> Iterator[T]:
        """The readings whose text (from ``start`` to ``end_of(reading)``) does not span a ``) and (`` between
        atoms: those would turn a bad filter (an unknown field, say) into a silent non-match. Once one
        reading spans it, every later one does, so the search stops there."""
        limit = None
        for reading in readings:
            if limit is None:
                boundary = _ATOM_BOUNDARY.search(self.text, start)
                limit = boundary.end() if boundary else len(self.text) + 1
                self.work.spend(1 + (min(limit, len(self.text)) - start) // _CHARACTERS_PER_UNIT)
            if end_of(reading) >= limit:
                return
            yield reading


class _Parser:
    """One attempt at reading the filter: its choice points follow ``plan``, the first reading where it says nothing."""

    def __init__(self, readings: _Readings, plan: list[int]) -> None:
        self.readings = readings
        self.text = readings.text
        self.work = readings.work
        self.pos = 0
        self.depth = 0  # parentheses open at ``pos``
        self.plan = plan  # the alternative to take at each choice point, in the order met
        self.choices: list[tuple[int, _Kind, int]] = []  # each choice point met: reading taken, kind, start

    def choose(self, kind: Callable[[_Readings, int], Iterator[T]], start: int) -> T | None:
        """The planned reading of a choice point (None when it has none)."""
        index = len(self.choices)
        taken = self.plan[index] if index < len(self.plan) else 0
        self.choices.append((taken, kind, start))
        return self.readings.nth(kind, start, taken)

    def next_plan(self) -> list[int] | None:
        """The next untried combination of readings (the last choice point moves first), or None."""
        for index in range(len(self.choices) - 1, -1, -1):
            taken, kind, start = self.choices[index]
            if self.readings.nth(kind, start, taken + 1) is not None:
                return [choice[0] for choice in self.choices[:index]] + [taken + 1]
        return None

    def fail(self, why: str) -> _Unreadable:
        return _Unreadable(why, self.pos)

    def spaces_end(self, pos: int) -> int:
        """Where the spaces from ``pos`` end."""
        end = _SPACES.match(self.text, pos).end()  # type: ignore[union-attr]  # \s* always matches
        if end - pos >= _CHARACTERS_PER_UNIT:  # (shorter runs are part of the term's unit)
            self.work.scan(end - pos)
        return end

    def skip_spaces(self) -> None:
        self.pos = self.spaces_end(self.pos)

    def parse(self) -> Node:
        node = self.expression()
        self.skip_spaces()
        if self.pos != len(self.text):
            self.work.scan(len(self.text) - self.pos)
            raise self.fail(messages.unexpected_text(self.text[self.pos:]))
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
        """Read ``word`` (``and``/``or``) between spaces, the ones after it required."""
        start = self.spaces_end(self.pos)
        after = start + len(word)
        if self.text.startswith(word, start) and after < len(self.text) and self.text[after].isspace():
            self.pos = self.spaces_end(after)
            return True
        return False

    def term(self) -> Node:
        self.work.spend()
        self.skip_spaces()
        if self.text.startswith("(", self.pos):
            if self.depth == MAX_NESTING:
                raise self.fail(messages.nested_too_deep(MAX_NESTING))
            self.pos += 1
            self.depth += 1
            node = self.expression()
            self.skip_spaces()
            if not self.text.startswith(")", self.pos):
                raise self.fail(messages.MISSING_CLOSING_PARENTHESIS)
            self.pos += 1
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        reading = self.choose(_Readings.field_readings, self.pos)
        if reading is None:
            first = next(self.readings.fields(self.pos), None)
            raise self.fail(messages.unsupported_field(first[0]) if first else messages.EXPECTED_COMPARISON)
        field, match = reading
        self.pos = match.start() + len(match.group(1)) + 2
        return Comparison(field, match.group(1), self.literal())

    def literal(self) -> str | None:
        if self.text.startswith('"', self.pos):
            start = self.pos + 1
            closing = self.choose(_Readings.closing_quotes, start)
            if closing is None:
                raise self.fail(messages.UNTERMINATED_STRING)
            self.pos = closing.end()
            return self.text[start:closing.start()]
        match = _BARE_LITERAL.match(self.text, self.pos)
        if not match:
            raise self.fail(messages.MISSING_VALUE)
        self.work.scan(match.end() - self.pos)
        self.pos = match.end()
        return None if match.group(0) == "null" else match.group(0)


def _field_name(text: str) -> str:
    """The field before an operator. A key after ``/`` is kept verbatim: the SDK writes
    ``Tags/<key> eq`` with the raw key, so ``"t "`` arrives as ``Tags/t  eq`` and must stay ``t ``."""
    text = text.lstrip()
    return text if "/" in text else text.rstrip()


def parse_filter(text: str, known_field: Callable[[str], bool], work: Work | None = None) -> Node:
    """Parse ``text``; ``known_field`` says which field names the collection supports.

    The first attempt takes the first reading everywhere; when it fails, the other readings are
    tried depth first, and the first error is reported. All attempts together may spend
    ``work_budget(len(text))`` units (``work`` counts them); when that runs out, the filter is
    refused as too ambiguous to read.
    """
    work = work or Work(work_budget(len(text)))
    readings = _Readings(text, known_field, work)
    plan: list[int] | None = []
    first_failure: _Unreadable | None = None
    try:
        while plan is not None:
            parser = _Parser(readings, plan)
            try:
                return parser.parse()
            except _Unreadable as failure:
                first_failure = first_failure or failure
                plan = parser.next_plan()
    except _OutOfWork:
        why, position = (first_failure.why, first_failure.pos) if first_failure else (None, 0)
        raise ValidationError(messages.filter_too_ambiguous(text, work.limit, why, position), target="filter") from None
    assert first_failure is not None
    raise ValidationError(messages.unreadable_filter(text, first_failure.why, first_failure.pos), target="filter")
