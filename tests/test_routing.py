"""Routing: the two-step, cached matcher answers exactly as werkzeug's plain map over all rules."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException

from amlmock.api import ROUTES

VARIABLE = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def plain_match(method: str, path: str):
    try:
        return ROUTES.url_map.bind("amlmock").match(path, method)
    except HTTPException:
        return None, {}


def rule_paths():
    for rule in ROUTES.url_map.iter_rules():
        for method in sorted(rule.methods):
            yield method, VARIABLE.sub(lambda m: f"v-{m.group(1)}", rule.rule)


def test_every_rule_routes_as_the_plain_map():
    checked = 0
    for method, path in rule_paths():
        assert ROUTES.match(method, path) == plain_match(method, path), (method, path)
        checked += 1
    assert checked > 50


SEGMENTS = st.sampled_from(["history", "v1.0", "subscriptions", "s", "resourceGroups", "g", "providers",
                            "Microsoft.MachineLearningServices", "workspaces", "w", "experiments", "runs", "r",
                            "metric", "v2.0", "batch", "~workspace", "", "x y"])


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"]), st.one_of(
    st.lists(SEGMENTS, max_size=16).map(lambda parts: "/" + "/".join(parts)),
    st.sampled_from([path for _, path in rule_paths()]).flatmap(
        lambda path: st.integers(0, len(path)).map(lambda cut: path[:cut] + "/runs/extra")),
))
def test_any_path_routes_as_the_plain_map(method, path):
    assert ROUTES.match(method, path) == plain_match(method, path)


def test_long_paths_route_the_same_without_filling_the_cache():
    method, path = next(rule_paths())
    long_path = path + "/" + "x" * 2_000
    before = ROUTES._cached_match.cache_info().currsize
    assert ROUTES.match(method, long_path) == plain_match(method, long_path)
    assert ROUTES._cached_match.cache_info().currsize == before
