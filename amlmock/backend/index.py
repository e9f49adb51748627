"""Indexes that keep selective run queries fast however many runs an experiment holds.

An index never decides a query: it narrows the runs to a superset of the answer, and the
full filter is still evaluated on each candidate.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping

from .query import BoolOp, Comparison, Node

KEY_PRESENT = object()
INDEXED_MAPS = ("Tags/", "Properties/")


class RunIndex:
    """Run ids by tag or property (key and value), and by root run, for one experiment."""

    def __init__(self) -> None:
        self.postings: defaultdict[tuple[str, str, object], set[str]] = defaultdict(set)
        self.by_root: defaultdict[str, set[str]] = defaultdict(set)

    def add_run(self, run_id: str, root_run_id: str) -> None:
        """Record a new run under its root."""
        self.by_root[root_run_id].add(run_id)

    def update(self, prefix: str, run_id: str, before: Mapping[str, object], after: Mapping[str, object]) -> None:
        """Re-index the tags (``prefix`` ``Tags/``) or properties of one run after a change."""
        for key, value in before.items():
            if key not in after or after[key] != value:
                self._discard((prefix, key, value), run_id)
                if key not in after:
                    self._discard((prefix, key, KEY_PRESENT), run_id)
        for key, value in after.items():
            self.postings[(prefix, key, value)].add(run_id)
            self.postings[(prefix, key, KEY_PRESENT)].add(run_id)

    def _discard(self, posting: tuple[str, str, object], run_id: str) -> None:
        runs = self.postings.get(posting)
        if runs is not None:
            runs.discard(run_id)
            if not runs:
                del self.postings[posting]

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
            return set(self.by_root.get(node.literal, ()))
        prefix = next((p for p in INDEXED_MAPS if node.field.startswith(p)), None)
        if prefix is None:
            return None
        key = node.field[len(prefix):]
        value: object = node.literal if node.op == "eq" else KEY_PRESENT
        return set(self.postings.get((prefix, key, value), ()))

