"""Indexes that keep selective run queries fast however many runs an experiment holds.

An index never decides a query: it narrows the runs to a superset of the answer, and the
full filter is still evaluated on each candidate. Postings are kept small, as most tag values
belong to one run or a few: a single run id is a plain string, up to ``LIST_POSTING_LIMIT``
ids are a list, and only larger postings are sets (a set costs about five times a list).
"""

from __future__ import annotations

from typing import Mapping, TypeVar, Union, cast

from .filter_parser import BoolOp, Comparison, Node

INDEXED_MAPS = ("Tags/", "Properties/")
LIST_POSTING_LIMIT = 128

Posting = Union[str, list, set]
Value = TypeVar("Value")  # a tag or property value: str, or None for a tag without one


def _add(postings: dict, key: object, run_id: str) -> None:
    current = postings.get(key)
    if current is None:
        postings[key] = run_id
    elif isinstance(current, str):
        if current != run_id:
            postings[key] = [current, run_id]
    elif isinstance(current, list):
        if run_id not in current:
            current.append(run_id)
            if len(current) > LIST_POSTING_LIMIT:
                postings[key] = set(current)
    else:
        current.add(run_id)


def _discard(postings: dict, key: object, run_id: str) -> None:
    current = postings.get(key)
    if current == run_id:
        del postings[key]
    elif isinstance(current, (list, set)):
        if run_id in current:
            current.remove(run_id)
        if len(current) == 1:
            postings[key] = next(iter(current))


def _ids(posting: Posting | None) -> set[str]:
    if posting is None:
        return set()
    return {posting} if isinstance(posting, str) else set(posting)


class RunIndex:
    """Run ids by tag or property (key, then value), and by root run, for one experiment.

    It also hands out one stored copy of each value that several runs share (an owner, a
    dataset, a commit), so such a value is kept about twice rather than once per run.
    """

    def __init__(self) -> None:
        self.values: dict[str, dict[str, dict[object, Posting]]] = {prefix: {} for prefix in INDEXED_MAPS}
        self.shared: dict[str, dict[str, dict[object, object]]] = {prefix: {} for prefix in INDEXED_MAPS}
        self.by_root: dict[str, Posting] = {}

    def add_run(self, run_id: str, root_run_id: str) -> None:
        """Record a new run under its root."""
        _add(self.by_root, root_run_id, run_id)

    def update(
        self, prefix: str, run_id: str, before: Mapping[str, Value], after: Mapping[str, Value]
    ) -> dict[str, Value]:
        """Re-index the tags (``prefix`` ``Tags/``) or properties of one run after a change.

        Returns ``after`` to store on the run: equal, with the shared copy of each value other runs hold too.
        """
        keys, shared = self.values[prefix], self.shared[prefix]
        for key, value in before.items():
            if key not in after or after[key] != value:
                postings = keys.get(key, {})
                _discard(postings, value, run_id)
                if value not in postings:
                    shared.get(key, {}).pop(value, None)
                if not postings:
                    keys.pop(key, None)
                    shared.pop(key, None)
        stored: dict[str, Value] = {}
        for key, value in after.items():
            postings = keys.setdefault(key, {})
            _add(postings, value, run_id)
            if not isinstance(postings[value], str):  # other runs hold this value too
                value = cast(Value, shared.setdefault(key, {}).setdefault(value, value))
            stored[key] = value
        return stored

    def candidates(self, node: Node) -> set[str] | None:
        """A superset of the runs that can match ``node``, or None when the index cannot narrow it."""
        if isinstance(node, BoolOp):
            left, right = self.candidates(node.left), self.candidates(node.right)
            if node.op == "and":
                return left if right is None else right if left is None else left & right
            return None if left is None or right is None else left | right
        return self._comparison_candidates(node)

    def _comparison_candidates(self, node: Comparison) -> set[str] | None:
        if node.field == "RootRunId" and node.op == "eq" and node.literal is not None:
            return _ids(self.by_root.get(node.literal))
        prefix = next((p for p in INDEXED_MAPS if node.field.startswith(p)), None)
        if prefix is None:
            return None
        by_value = self.values[prefix].get(node.field[len(prefix):], {})
        if node.op == "eq":
            return _ids(by_value.get(node.literal))
        found: set[str] = set()  # any other comparison needs the key to exist
        for posting in by_value.values():
            found |= _ids(posting)
        return found
