"""Property tests of run queries through the real SDK, against a pure-Python model of the filters.

``exp.get_runs`` / ``Run.list`` send an OData ``$filter`` (R7) that the fake parses and evaluates;
``run.get_children(recursive=True)`` is filtered by the fake on a root run and by the SDK on any
other run; ``get_children()`` (R6) is always filtered client-side. The model of the semantics:

* dict filter: every pair equal; a ``None`` value matches a key present with a null value;
* str filter: the key is present, whatever its value (null included);
* ``include_children=False``: runs with a parent are left out;
* results are newest first by start time (ties: the higher run number first).

The SDK writes keys raw and quotes values without escaping, so keys and values below carry
spaces (leading and trailing), dots, double quotes, parentheses and the words ``eq``/``and``/``or``
on purpose. They never hold a whole comparison (``") and (Tags/j eq "``): that text would be
ambiguous for any parser.
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional, Union
from unittest import mock

import pytest
from azureml._restclient._odata import runs as odata
from azureml._restclient._odata.constants import NO_CHILD_RUNS_QUERY
from azureml._restclient._odata.expressions import and_join
from azureml._restclient.experiment_client import ExperimentClient
from azureml.core import Experiment
from azureml.core import Run as SdkRun
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from amlmock import AmlMock, mock_aml
from amlmock.backend.errors import ValidationError
from amlmock.backend.lifecycle import EVENT_PREFIX
from amlmock.backend.limits import MAX_FILTER_LENGTH
from amlmock.backend.models import Run as FakeRun
from amlmock.backend.models import is_experiment_filter_field, is_run_filter_field
from amlmock.backend.filter_parser import MAX_NESTING, Work, parse_filter, work_budget
from amlmock.backend.values import RunEvent, RunFields
from tests.helpers import raw

Mapping = dict[str, Optional[str]]
Filter = Union[None, str, Mapping]

STATUSES = ("Running", "Completed", "Failed", "Canceled")
KEYS = st.sampled_from(["a", "b", "a b", "x.y", 'k"', "t ", " s", "x eq y", "m or n", "(p)"])
VALUES = st.one_of(
    st.sampled_from(["1", "2", "v w", 'q"t', '"', 'e"', "1.5", "null", "", 'a" and "b', 'z")', "p) or (q"]),
    st.text(alphabet='ab ."()', max_size=4),
)
OPTIONAL_VALUES = st.one_of(st.none(), VALUES)
MAPPINGS = st.dictionaries(KEYS, OPTIONAL_VALUES, max_size=3)

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    phases=[phase for phase in Phase if phase is not Phase.explain],  # explaining re-runs the SDK a lot
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@dataclass
class RunSpec:
    """One run to create: its parent (an earlier index), tags, properties and final status."""

    parent: Optional[int]
    tags: Mapping
    properties: Mapping
    status: str


@st.composite
def forests(draw: st.DrawFn, max_runs: int = 8) -> list[RunSpec]:
    """Up to ``max_runs`` runs; each may hang below any earlier one (grandchildren included)."""
    count = draw(st.integers(1, max_runs))
    specs = []
    for index in range(count):
        parent = draw(st.one_of(st.none(), st.integers(0, index - 1))) if index else None
        specs.append(RunSpec(parent, draw(MAPPINGS), draw(MAPPINGS), draw(st.sampled_from(STATUSES))))
    return specs


def filters(specs: list[RunSpec], field: str) -> st.SearchStrategy[Filter]:
    """None, a key, or a dict, biased towards keys and pairs the runs actually carry."""
    pairs = sorted({(k, v) for s in specs for k, v in getattr(s, field).items()}, key=repr)
    key, pair = KEYS, st.tuples(KEYS, OPTIONAL_VALUES)
    if pairs:
        key = st.one_of(key, st.sampled_from([k for k, _ in pairs]))
        pair = st.one_of(pair, st.sampled_from(pairs))
    return st.one_of(st.none(), key, st.lists(pair, min_size=1, max_size=2).map(dict))


# ---------------------------------------------------------------------------- the model
def matches_map(values: Mapping, wanted: Filter) -> bool:
    """The tag/property filter semantics the SDK's filter atoms stand for."""
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return wanted in values
    return all(key in values and values[key] == value for key, value in wanted.items())


def newest_first(records: Iterable[FakeRun]) -> list[str]:
    """Run ids ordered by start time, newest first; ties broken by run number."""
    return [r.run_id for r in sorted(records, key=lambda r: (r.order_time, r.run_number), reverse=True)]


@dataclass
class Built:
    """The runs of one example: SDK objects, specs and the fake's records, by index."""

    aml: AmlMock
    experiment: Experiment
    sdk_runs: list[SdkRun]
    specs: list[RunSpec]

    def __post_init__(self) -> None:
        self.records = {r.run_id: r for r in self.aml.runs()}

    def ids(self, indexes: Iterable[int]) -> set[str]:
        return {self.sdk_runs[i].id for i in indexes}

    def expected(self, tags: Filter = None, properties: Filter = None, status: Optional[str] = None,
                 include_children: bool = True, among: Optional[Iterable[int]] = None) -> set[int]:
        candidates = range(len(self.specs)) if among is None else among
        return {
            i
            for i in candidates
            if matches_map(self.specs[i].tags, tags)
            and matches_map(self.specs[i].properties, properties)
            and (status is None or self.specs[i].status == status)
            and (include_children or self.specs[i].parent is None)
        }

    def descendants(self, index: int) -> set[int]:
        found: set[int] = set()
        for i, spec in enumerate(self.specs):
            if spec.parent is not None and (spec.parent == index or spec.parent in found):
                found.add(i)  # parents come before their children, so one pass is enough
        return found

    def check(self, returned: Iterable[SdkRun], expected: set[int], ordered: bool = True) -> None:
        got = [run.id for run in returned]
        assert len(got) == len(set(got)), "a run came back twice"
        assert set(got) == self.ids(expected)
        if ordered:
            assert got == newest_first(self.records[run_id] for run_id in got)


def build_through_sdk(aml: AmlMock, specs: list[RunSpec]) -> Built:
    """Create the runs with the SDK only: start_logging/child_run, tag, add_properties, end."""
    experiment = Experiment(aml.workspace(), "query-hypothesis")
    runs: list[SdkRun] = []
    for spec in specs:
        if spec.parent is None:
            run = experiment.start_logging(snapshot_directory=None)
        else:
            run = runs[spec.parent].child_run()
        for key, value in spec.tags.items():
            if value is None:
                run.tag(key)  # a valueless tag: sent as JSON null
            else:
                run.tag(key, value)
        if spec.properties:
            run.add_properties(spec.properties)
        runs.append(run)
    for run, spec in zip(runs, specs):
        {"Completed": run.complete, "Failed": run.fail, "Canceled": run.cancel}.get(spec.status, lambda: None)()
    built = Built(aml, experiment, runs, specs)
    for run, spec in zip(runs, specs):
        record = built.records[run.id]
        assert (record.status, record.tags, record.properties) == (spec.status, spec.tags, spec.properties)
    return built


# ---------------------------------------------------------------------------- tests
@SETTINGS
@given(specs=forests(), data=st.data())
def test_get_runs_and_run_list_match_the_model(specs: list[RunSpec], data: st.DataObject) -> None:
    with mock_aml() as aml:
        built = build_through_sdk(aml, specs)
        exp = built.experiment
        for _ in range(3):
            tags = data.draw(filters(specs, "tags"), label="tags")
            properties = data.draw(filters(specs, "properties"), label="properties")
            include_children = data.draw(st.booleans(), label="include_children")
            built.check(
                exp.get_runs(tags=tags, properties=properties, include_children=include_children),
                built.expected(tags, properties, include_children=include_children),
            )
        status = data.draw(st.sampled_from(STATUSES + ("NotStarted",)), label="status")
        tags = data.draw(filters(specs, "tags"), label="status tags")
        include_children = data.draw(st.booleans(), label="status include_children")
        built.check(
            SdkRun.list(exp, status=status, tags=tags, include_children=include_children),
            built.expected(tags, status=status, include_children=include_children),
        )


@SETTINGS
@given(specs=forests(), data=st.data())
def test_get_children_match_the_model(specs: list[RunSpec], data: st.DataObject) -> None:
    with mock_aml() as aml:
        built = build_through_sdk(aml, specs)
        for _ in range(3):
            index = data.draw(st.integers(0, len(specs) - 1), label="anchor")
            anchor = SdkRun(built.experiment, built.sdk_runs[index].id)
            tags = data.draw(filters(specs, "tags"), label="tags")
            properties = data.draw(filters(specs, "properties"), label="properties")
            status = data.draw(st.one_of(st.none(), st.sampled_from(STATUSES)), label="status")
            is_root = specs[index].parent is None
            # On a root the fake filters (and orders); below it the SDK filters the subtree itself.
            built.check(
                anchor.get_children(recursive=True, tags=tags, properties=properties, status=status),
                built.expected(tags, properties, status, among=built.descendants(index)),
                ordered=is_root,
            )
            direct = {i for i, s in enumerate(specs) if s.parent == index}
            built.check(anchor.get_children(tags=tags), built.expected(tags, among=direct))


AWKWARD = [
    ("x eq y", "v"),  # an operator inside the key
    ("a and b", "v"),
    ("or", "v"),
    ("t ", "v"),  # a trailing space: the SDK writes "Tags/t  eq"
    (" s", "v"),
    ("(p)", "v"),
    ("Tags/x", "v"),
    ("ne", "eq"),
    ("k", 'a" and "b'),  # quotes the SDK does not escape
    ("k", 'p" or "q'),
    ("k", 'z")'),
    ("k", "a) and (b"),
    ("k", "null"),
    ("k", " ne "),
]


@pytest.mark.parametrize(("key", "value"), AWKWARD, ids=[f"{k!r}={v!r}" for k, v in AWKWARD])
def test_awkward_keys_and_values_are_found(key: str, value: str) -> None:
    with mock_aml() as aml:
        exp = Experiment(aml.workspace(), "awkward")
        wanted = exp.start_logging(snapshot_directory=None)
        other = exp.start_logging(snapshot_directory=None)
        wanted.tag(key, value)
        wanted.add_properties({key: value})
        other.tag(key, value + "!")
        other.tag("flag")
        assert {r.id for r in exp.get_runs(tags=key)} == {wanted.id, other.id}
        assert [r.id for r in exp.get_runs(tags={key: value})] == [wanted.id]
        assert [r.id for r in exp.get_runs(tags={key: value, "flag": None})] == []
        assert [r.id for r in exp.get_runs(properties={key: value}, tags=key)] == [wanted.id]
        assert [r.id for r in wanted.get_children(recursive=True, tags=key)] == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('((Tags/k eq "v") and (Colour eq red))', "unsupported field 'Colour'"),
        ('((Tags/k eq "v") and (Colour eq "red"))', "unsupported field 'Colour'"),
        ('(Tags/k eq "v"', "missing ')'"),
    ],
)
def test_other_readings_do_not_hide_a_bad_filter(text: str, fragment: str) -> None:
    """Re-reading a quote or an operator must not turn an unknown field into a silent non-match."""
    with pytest.raises(ValidationError, match=re.escape(fragment)):
        parse_filter(text, is_run_filter_field)


# ---------------------------------------------------------------------------- the parser's work budget
def sdk_filter(tags: Filter, properties: Filter, status: Optional[str], top_level: bool) -> str:
    """The ``$filter`` the SDK's own OData helpers write for ``get_runs``/``Run.list`` arguments."""
    parts = [
        odata.get_filter_run_tags(tags) if tags else None,
        odata.get_filter_run_properties(properties) if properties else None,
        odata.get_filter_run_status(status) if status else None,
        NO_CHILD_RUNS_QUERY if top_level else None,
    ]
    return and_join([part for part in parts if part])


def filling(unit: str, prefix: str = "", suffix: str = "", length: int = MAX_FILTER_LENGTH) -> str:
    """``unit`` repeated between ``prefix`` and ``suffix``, up to ``length`` characters in all."""
    return prefix + unit * max(1, (length - len(prefix) - len(suffix)) // len(unit)) + suffix


def read(text: str, known_field: Callable[[str], bool], work: Work) -> str:
    """What ``parse_filter`` makes of ``text``: the parsed filter, or the error's message."""
    try:
        return repr(parse_filter(text, known_field, work))
    except ValidationError as error:
        return error.message


SDK_FILTERS = st.builds(
    sdk_filter, st.one_of(KEYS, MAPPINGS), st.one_of(KEYS, MAPPINGS), st.one_of(st.none(), st.sampled_from(STATUSES)),
    st.booleans(),
).filter(bool)
PIECES = st.sampled_from([
    "Tags/a", "Properties/k", "Status", "name", "Colour", " eq ", " ne ", " and ", " or ", '"', '" and "', '")', ") and (",
    "(", ")", "x", " ", "null",
])
TOKEN_SOUP = st.lists(PIECES, max_size=30).map("".join)
UNITS = st.one_of(
    st.sampled_from(['Tags/a eq "1" or ', 'Tags/a eq "x" or Tags/b eq "', "Tags/a or Tags/  ne ", '(Tags/a eq "1") or ']),
    st.lists(PIECES, min_size=1, max_size=8).map("".join),
)
REPEATED = st.builds(  # the shape of the costliest filters: a unit repeated, up to the longest filter accepted
    filling, UNITS, TOKEN_SOUP, TOKEN_SOUP, st.one_of(st.integers(1, MAX_FILTER_LENGTH), st.just(MAX_FILTER_LENGTH))
)
WORK_SETTINGS = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@WORK_SETTINGS
@given(text=st.one_of(SDK_FILTERS, TOKEN_SOUP, REPEATED), known_field=st.sampled_from([is_run_filter_field, is_experiment_filter_field]))
def test_parsing_spends_at_most_its_work_budget(text: str, known_field: Callable[[str], bool]) -> None:
    """Whatever the text, all readings together spend at most ``work_budget(len(text))`` units, and
    each field the parser weighs is paid for; the budget decides whether a reading is found, never
    which one (a larger budget reads a filter the same way)."""
    weighed: list[str] = []

    def counting(field: str) -> bool:
        weighed.append(field)
        return known_field(field)

    work = Work(work_budget(len(text)))
    outcome = read(text, counting, work)
    assert work.used <= work_budget(len(text))
    assert len(weighed) <= work.used
    if "too ambiguous" not in outcome:
        assert read(text, known_field, Work(2 * work.limit)) == outcome


@WORK_SETTINGS
@given(text=SDK_FILTERS)
def test_filters_the_sdk_writes_are_read_in_about_one_pass(text: str) -> None:
    """Quotes in keys and values make the parser try other readings, but not many: a unit per
    character is far below the budget."""
    work = Work(work_budget(len(text)))
    parse_filter(text, is_run_filter_field, work)
    assert work.used <= len(text)


PATHOLOGICAL = {  # broken filters, as long as the service accepts, that each took 10-20 s of CPU with 256 full attempts
    "nothing after the last or": filling('Tags/a eq "1" or '),
    "the last value unterminated": filling('Tags/a eq "x" or Tags/b eq "', suffix=")"),
    "nested": filling('Tags/a eq "1" or ', prefix="(" * MAX_NESTING, suffix=")" * MAX_NESTING),
    "spaced operators": filling("Tags/a or Tags/      ne ", prefix="\n", suffix='") neand'),
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_the_costliest_filters_are_refused_as_too_ambiguous(text: str) -> None:
    work = Work(work_budget(len(text)))
    with pytest.raises(ValidationError, match="too ambiguous or complex to read") as caught:
        parse_filter(text, is_run_filter_field, work)
    assert (caught.value.status, caught.value.code, caught.value.target) == (400, "ValidationError", "filter")
    assert "the first reading failed" in caught.value.message


def test_the_service_answers_a_too_ambiguous_filter_with_a_400() -> None:
    with mock_aml() as aml:
        Experiment(aml.workspace(), "ambiguous")
        url = f"https://eastus.api.azureml.ms/history/v1.0{aml.create_workspace().arm_id}/experiments/ambiguous/runs:query"
        response = raw("POST", url, json={"filter": PATHOLOGICAL["nothing after the last or"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ValidationError"
    assert "too ambiguous or complex to read" in error["message"]


def test_paging_returns_every_run_once_newest_first() -> None:
    """1100 runs, seeded through the backend (creating runs with the SDK is covered above)."""
    with mock_aml() as aml:
        workspace = aml.create_workspace()
        exp = Experiment(aml.workspace(), "paging")
        fake_exp = aml.backend.create_experiment(workspace, "paging")
        seeded: list[str] = []
        for i in range(1100):
            parent = seeded[i - 1] if i % 10 == 9 else None  # 110 children, all odd
            tags: Mapping = {"even": None} if i % 2 == 0 else {"odd": 'y "es'}
            seeded.append(seed_run(aml, workspace, fake_exp, f"paged_{i:04d}", parent, tags))
        records = workspace.runs

        with spy_on_queries(aml) as tokens:
            everything = [run.id for run in exp.get_runs(include_children=True)]  # the SDK asks for 500 a page
        assert tokens == [None, "token", "token"], "expected three pages"
        assert Counter(everything) == Counter(seeded)
        assert everything == newest_first(records[i] for i in everything)

        top_level_even = [run.id for run in exp.get_runs(tags="even")]
        expected = [i for i in seeded if records[i].parent_run_id is None and "even" in records[i].tags]
        assert len(top_level_even) == len(expected) > 500
        assert top_level_even == newest_first(records[i] for i in expected)

        # The SDK's own rest client with small pages: the same runs in the same order.
        client = ExperimentClient(exp.workspace.service_context, exp.name, exp.id)
        with spy_on_queries(aml) as tokens:
            small_pages = [dto.run_id for dto in client.get_runs(page_size=97, include_children=True)]
        assert len(tokens) == 12
        assert small_pages == everything
        odd = [dto.run_id for dto in client.get_runs(page_size=50, tags={"odd": 'y "es'}, include_children=True)]
        assert odd == [i for i in everything if "odd" in records[i].tags]


def test_runs_added_while_paging_do_not_shift_pages() -> None:
    """Runs that start while the SDK walks the pages neither repeat nor push out older runs."""
    with mock_aml() as aml:
        workspace = aml.create_workspace()
        exp = Experiment(aml.workspace(), "paging-live")
        fake_exp = aml.backend.create_experiment(workspace, "paging-live")
        seeded = [seed_run(aml, workspace, fake_exp, f"old_{i:04d}") for i in range(1100)]
        pages = iter(exp.get_runs())
        seen = [next(pages).id]  # the SDK has fetched page one and asked for page two
        newer = [seed_run(aml, workspace, fake_exp, f"new_{i:04d}") for i in range(600)]
        seen.extend(run.id for run in pages)
        assert Counter(seen) == Counter(seeded)
        assert [run.id for run in exp.get_runs()][:600] == newer[::-1]


@contextmanager
def spy_on_queries(aml: AmlMock) -> Iterator[list[Optional[str]]]:
    """Record the continuation token of each run query (``"token"`` when one was sent)."""
    tokens: list[Optional[str]] = []
    original = aml.backend.query_runs

    def spying(*args: Any, **kwargs: Any) -> Any:
        request = kwargs.get("request", args[2] if len(args) > 2 else None)
        tokens.append("token" if request.token else None)
        return original(*args, **kwargs)

    with mock.patch.object(aml.backend, "query_runs", spying):
        yield tokens


def seed_run(
    aml: AmlMock,
    workspace: Any,
    experiment: Any,
    run_id: str,
    parent: Optional[str] = None,
    tags: Optional[Mapping] = None,
) -> str:
    """A started run created directly in the backend (what the SDK's R1 body would set)."""
    fields = RunFields(tags=tags or {}, parent_run_id=parent)
    run = aml.backend.create_or_update_run(workspace, experiment, run_id, fields)
    aml.backend.post_event(run, RunEvent(EVENT_PREFIX + "Start", {"RunId": run_id}))
    return run_id


@pytest.mark.parametrize("depth", [MAX_NESTING, MAX_NESTING + 1, 1_500])
def test_nesting_is_bounded_whatever_the_stack(depth: int) -> None:
    """Parentheses nest up to ``MAX_NESTING`` deep; deeper is the same 400 at any stack depth."""
    text = "(" * depth + 'Tags/a eq "1"' + ")" * depth

    def at_stack_depth(frames: int) -> str:
        return at_stack_depth(frames - 1) if frames else read(text, is_run_filter_field, Work(work_budget(len(text))))

    outcomes = {at_stack_depth(frames) for frames in (0, 300, 600)}
    assert len(outcomes) == 1
    assert ("nested more than" in outcomes.pop()) == (depth > MAX_NESTING)
