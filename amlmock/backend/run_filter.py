"""MLflow's search grammar over runs: ``filter_string`` and ``order_by``, parsed and evaluated.

A filter is clauses joined by ``AND`` (MLflow has no ``OR``): ``<entity>.<key> <comparator> <value>``,
where the entity is ``metrics``, ``params``, ``tags`` or ``attributes`` (with MLflow's aliases ``metric``,
``param``, ``parameter(s)``, ``tag``, ``attribute``, ``attr`` and ``run``), a key with spaces or dots may be
quoted with backticks or double quotes, and a value is a number (metrics, time attributes), a quoted string,
or a parenthesised list of strings for ``IN`` / ``NOT IN``. Anything else is a ``ValidationError`` naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence, Union

from . import limits
from . import mlflow_messages as messages
from .errors import ValidationError

ENTITIES = {
    "metric": "metric", "metrics": "metric",
    "param": "param", "params": "param", "parameter": "param", "parameters": "param",
    "tag": "tag", "tags": "tag",
    "attribute": "attribute", "attributes": "attribute", "attr": "attribute", "run": "attribute",
}
STRING_ATTRIBUTES = ("run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage")
NUMERIC_ATTRIBUTES = ("start_time", "end_time", "created")
ATTRIBUTE_ALIASES = {"run_uuid": "run_id", "created": "start_time", "Created": "start_time"}
NUMERIC_COMPARATORS = ("=", "!=", "<", "<=", ">", ">=")
STRING_COMPARATORS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<backtick>`[^`]*`)
    | (?P<comparator><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),.])
    | (?P<word>[A-Za-z_][\w\-:/]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Clause:
    """One comparison: ``kind`` is metric, param, tag or attribute; ``value`` a float, a string or a tuple of strings."""

    kind: str
    key: str
    comparator: str
    value: Union[float, str, tuple[str, ...]]


@dataclass(frozen=True)
class OrderKey:
    """One ``order_by`` entry."""

    kind: str
    key: str
    descending: bool


class TrackedRun(Protocol):
    """What a filter reads of a run: a value by kind and key (None when the run has none)."""

    def tracking_value(self, kind: str, key: str) -> Any: ...


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValidationError(messages.invalid_mlflow_filter(text, messages.cannot_read(text[position:].strip()[:40])), target="filter")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Reader:
    """Walks the tokens of one filter or order-by text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.index += 1
        return token

    def fail(self, what: str) -> ValidationError:
        return ValidationError(messages.invalid_mlflow_filter(self.text, what), target="filter")

    def keyword(self, *words: str) -> bool:
        kind, value = self.peek()
        if kind == "word" and value.upper() in words:
            self.index += 1
            return True
        return False

    def identifier(self) -> tuple[str, str]:
        """``entity.key`` (an attribute when the entity is left out)."""
        kind, value = self.take()
        if kind == "backtick" or kind == "string":
            return "attribute", _attribute(value[1:-1], self)
        if kind != "word":
            raise self.fail(messages.expected("an identifier", value or "the end"))
        entity = ENTITIES.get(value.lower()) if self.peek() == ("punct", ".") else None
        if entity is None:
            return "attribute", _attribute(value, self)
        self.take()
        key_kind, key = self.take()
        if key_kind in ("backtick", "string"):
            key = key[1:-1]
        elif key_kind == "word":
            while self.peek() == ("punct", ".") and self.tokens[self.index + 1 : self.index + 2] and self.tokens[self.index + 1][0] == "word":
                self.take()
                key += "." + self.take()[1]
        else:
            raise self.fail(messages.expected_key_after(value))
        return entity, _attribute(key, self) if entity == "attribute" else key


def _attribute(key: str, reader: _Reader) -> str:
    key = ATTRIBUTE_ALIASES.get(key, key)
    if key not in STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES:
        raise reader.fail(messages.not_a_run_attribute(key, STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES))
    return key


def _comparator(reader: _Reader) -> str:
    kind, value = reader.peek()
    if kind == "comparator":
        reader.take()
        return "!=" if value == "<>" else value
    for words, comparator in ((("NOT",), "NOT IN"), (("IN",), "IN"), (("LIKE",), "LIKE"), (("ILIKE",), "ILIKE")):
        if reader.keyword(*words):
            if comparator == "NOT IN" and not reader.keyword("IN"):
                raise reader.fail(messages.NOT_WITHOUT_IN)
            return comparator
    raise reader.fail(messages.expected("a comparator", value or "the end"))


def _string(token: tuple[str, str], reader: _Reader) -> str:
    kind, value = token
    if kind != "string":
        raise reader.fail(messages.expected("a quoted string", value or "the end"))
    return re.sub(r"\\(.)", r"\1", value[1:-1])


def _value(reader: _Reader, kind: str, key: str, comparator: str) -> Union[float, str, tuple[str, ...]]:
    numeric = kind == "metric" or (kind == "attribute" and key in NUMERIC_ATTRIBUTES)
    allowed = NUMERIC_COMPARATORS if numeric else STRING_COMPARATORS
    if comparator not in allowed:
        raise reader.fail(messages.bad_comparator(comparator, kind, key, allowed))
    if comparator in ("IN", "NOT IN"):
        if reader.take() != ("punct", "("):
            raise reader.fail(messages.needs_string_list(comparator))
        items = [_string(reader.take(), reader)]
        while reader.peek() == ("punct", ","):
            reader.take()
            items.append(_string(reader.take(), reader))
        if reader.take() != ("punct", ")"):
            raise reader.fail(messages.list_not_closed(comparator))
        return tuple(items)
    token = reader.take()
    if not numeric:
        return _string(token, reader)
    if token[0] != "number":
        raise reader.fail(messages.needs_number(kind, key, token[1] or "nothing"))
    return float(token[1])


def parse_filter(text: str | None) -> list[Clause]:
    """The clauses of a ``filter_string`` (empty for no filter)."""
    if text is None or not text.strip():
        return []
    limits.check_length("filter", text, limits.MAX_FILTER_LENGTH)
    reader = _Reader(text)
    clauses = []
    while True:
        kind, key = reader.identifier()
        comparator = _comparator(reader)
        clauses.append(Clause(kind, key, comparator, _value(reader, kind, key, comparator)))
        if reader.peek()[0] == "end":
            return clauses
        if not reader.keyword("AND"):
            raise reader.fail(messages.expected_and(reader.peek()[1]))


def parse_order_by(entries: Sequence[str]) -> list[OrderKey]:
    """``order_by`` entries such as ``metrics.loss DESC`` or ``attributes.start_time``."""
    keys = []
    for entry in entries:
        reader = _Reader(entry)
        kind, key = reader.identifier()
        descending = reader.keyword("DESC")
        if not descending:
            reader.keyword("ASC")
        if reader.peek()[0] != "end":
            raise reader.fail(messages.unexpected_in_order_by(reader.peek()[1]))
        keys.append(OrderKey(kind, key, descending))
    return keys


def _like(pattern: str, flags: int = 0) -> Callable[[str], bool]:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    compiled = re.compile(regex, flags | re.DOTALL)
    return lambda text: compiled.fullmatch(text) is not None


def _holds(clause: Clause, actual: Any) -> bool:
    op, wanted = clause.comparator, clause.value
    if op == "IN":
        return actual in wanted  # type: ignore[operator]
    if op == "NOT IN":
        return actual not in wanted  # type: ignore[operator]
    if op == "LIKE":
        return _like(str(wanted))(str(actual))
    if op == "ILIKE":
        return _like(str(wanted), re.IGNORECASE)(str(actual))
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }
    return comparisons[op](actual, wanted)


def matches(clauses: Sequence[Clause], run: TrackedRun) -> bool:
    """True when every clause holds; a run without the key never matches (``!=`` included), as in MLflow."""
    for clause in clauses:
        actual = run.tracking_value(clause.kind, clause.key)
        if actual is None or not _holds(clause, actual):
            return False
    return True
