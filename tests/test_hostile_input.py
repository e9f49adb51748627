"""Hostile input: random and malformed requests straight into the app and over loopback HTTP.

Property, for every request: the answer is a 2xx (the input happened to be valid) or a 4xx with the
service's error envelope ``{"error": {"code", "message", "details": []}}``; never a 5xx, never a hang.
A refused request changes nothing (the test pickles the whole state before and after, a byte-exact
snapshot), and after an accepted one the state still reads back (run, queries on every field the
request could have touched, the admin state, ``aml.metrics``). Requests go through the WSGI app
directly, through ``requests`` under the active mock (the ``responses`` transport; bodies whole or chunked), through the
loopback server, and to an ``amlmock serve`` process. Counts and findings: ``docs/reliability.md``.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from werkzeug.test import Client

from amlmock import mock_aml
from amlmock.api.blobnames import encode_blob_name
from amlmock.backend.lifecycle import EVENT_PREFIX
from amlmock.backend.filter_parser import parse_filter
from amlmock.execution.processes import local_run_processes, read_stat
from amlmock.tokens import make_token
from tests.helpers import raw, wait_for
from tests.test_processes import end_pair, spawn_driver, spawn_pair
from tests.test_serve import Server
from tests.workload import SOAK_FACTOR
from amlmock.backend.values import LocalRunSpec, MetricBatch, MetricInput, MetricRowInput, RunEvent, RunFields

HOST = "https://eastus.api.azureml.ms"
AUTH = {"Authorization": "Bearer hostile-token"}
EXPERIMENT = "hostile"
RUN = "run_1"
DONE = "done_1"
CHILD = "child_1"
# Examples per property test (AMLMOCK_HOSTILE_EXAMPLES, times 10 under AMLMOCK_SOAK); each takes a few ms in-process.
EXAMPLES = int(os.environ.get("AMLMOCK_HOSTILE_EXAMPLES", "1500")) * SOAK_FACTOR
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------------------------------ strategies
# Text with everything: control characters, lone surrogates (sent as JSON \ud800 escapes), astral planes.
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=30)
TRICKY_TEXT = st.sampled_from([
    "", " ", "null", "../x", "/etc/passwd", "%2e%2e/%2e%2e/x", "a/../../b", "..\\..\\x", "./", ".", "..",
    "\x00", "\ud800", "\udfff\ud800", "\U0001f600", "é中", "' or 1 eq 1", '"', '")', "Tags/x eq null",
    "a" * 300, "b" * 1100, "c" * 5100, "<script>", "$(rm -rf /)", "\r\nX-Injected: 1",
])
TEXT = st.one_of(ANY_TEXT, TRICKY_TEXT)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True), st.booleans()
)
SCALARS = st.one_of(st.none(), NUMBERS, TEXT)
JSON = st.recursive(
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12
)
STRING_MAPS = st.one_of(st.dictionaries(TEXT, st.one_of(st.none(), TEXT), max_size=5), JSON)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that is usually of the right shape and sometimes any JSON at all."""
    return st.one_of(valid, valid, JSON)


def shaped(required: dict[str, st.SearchStrategy[Any]] | None = None, **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An object with the route's fields (each possibly of a wrong type) plus unknown ones, or any JSON."""
    body = st.fixed_dictionaries(
        {k: maybe(v) for k, v in (required or {}).items()},
        optional={**{k: maybe(v) for k, v in optional.items()}, "unknownField": JSON, "\ud800": JSON},
    )
    return st.one_of(body, body, body, JSON)


EVENT_NAMES = st.one_of(
    st.sampled_from([EVENT_PREFIX + k for k in ("Start", "Completed", "Failed", "Canceled", "Error", "Warning", "Heartbeat", "Queued")]),
    TEXT.map(lambda t: EVENT_PREFIX + t),
    TEXT,
)
RUN_IDS = st.one_of(st.sampled_from([RUN, DONE, CHILD, "new_run", "x" * 256]), TEXT)
EVENT = shaped(
    {"name": EVENT_NAMES},
    data=shaped(
        RunId=RUN_IDS,
        ErrorResponse=shaped(error=shaped(message=TEXT, code=TEXT)),
        errorResponse=JSON,
        Source=TEXT,
        Message=TEXT,
    ),
)
RUN_BODY = shaped(
    runId=RUN_IDS,
    parentRunId=RUN_IDS,
    name=TEXT,
    displayName=TEXT,
    description=TEXT,
    target=TEXT,
    runType=TEXT,
    scriptName=TEXT,
    hidden=st.booleans(),
    status=TEXT,
    startTimeUtc=TEXT,
    dataContainerId=TEXT,
    tags=STRING_MAPS,
    properties=STRING_MAPS,
    runTypeV2=shaped(orchestrator=TEXT, traits=st.lists(TEXT, max_size=3)),
    runDefinition=JSON,
)
FILTERS = st.one_of(
    TEXT,
    st.sampled_from([
        "Tags/a eq null", "(Tags/a ne null or Tags/a eq null)", "RunNumber gt abc", "CreatedUtc lt yesterday",
        "RunTypeV2/Traits/x eq x", "RunTypeV2/Orchestrator eq a", "Properties/p eq \"1\" and Status eq Completed",
        "((((", "))", "Status eq", "eq eq eq", "name eq hostile", "Tags/x eq \"" + "a" * 5000,
    ]),
    st.lists(st.sampled_from(["Tags/a", "eq", "ne", "(", ")", " and ", " or ", '"v"', "null", "Status", " "]), max_size=12).map("".join),
)
ORDER = st.one_of(st.sampled_from(["StartTimeUtc desc", "RunNumber", "CreatedUtc asc", "RunId desc", "EndTimeUtc up"]), TEXT)
TOKENS = st.one_of(TEXT, NUMBERS, st.sampled_from(["WyJhIiwgMV0=", "MTA=", "e30=", "!!!"]))
TOP = st.one_of(NUMBERS, TEXT)
METRIC_ROW = shaped(
    metricId=TEXT,
    createdUtc=st.one_of(
        TEXT,
        st.sampled_from(["2024-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
                         "2024-13-45T99:99:99Z", "2024-01-01T00:00:00.1234567890123+05:30",
                         "9999-12-31T23:59:59.9999999Z", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z"]),
    ),
    step=NUMBERS,
    data=st.one_of(st.dictionaries(TEXT, SCALARS, max_size=3), JSON),
)
METRIC = shaped(
    name=st.one_of(st.sampled_from(["m", "loss"]), TEXT),
    columns=st.one_of(st.dictionaries(TEXT, st.sampled_from(["double", "string", "int"]), max_size=3), JSON),
    properties=shaped(uxMetricType=TEXT),
    value=st.lists(METRIC_ROW, max_size=3),
)
PATH_OBJECTS = st.lists(shaped(path=TEXT), max_size=3)


@dataclass(frozen=True)
class Route:
    """A route of the service, with a strategy for its body."""

    method: str
    path: str  # {ws}, {exp}, {expid}, {run} are filled in per request
    body: st.SearchStrategy[Any] | None


ROUTES = [
    Route("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", RUN_BODY),
    Route("PATCH", "/history/v1.0{ws}/experimentids/{expid}/runs/{run}", RUN_BODY),
    Route("POST", "/history/v1.0{ws}/experiments/{exp}/runs/{run}/events", EVENT),
    Route("POST", "/history/v1.0{ws}/experiments/{exp}/batch/events", shaped(events=st.lists(EVENT, max_size=3))),
    Route("PATCH", "/history/v1.0{ws}/experiments/{exp}/batch/runs", shaped(runs=st.lists(RUN_BODY, max_size=3))),
    Route("DELETE", "/history/v1.0{ws}/experiments/{exp}/runs/{run}/tags", st.one_of(st.lists(TEXT, max_size=3), JSON)),
    Route("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query",
          shaped(filter=FILTERS, orderBy=ORDER, orderby=ORDER, top=TOP, continuationToken=TOKENS)),
    Route("POST", "/history/v1.0{ws}/experiments:query",
          shaped(viewType=st.one_of(st.sampled_from(["ActiveOnly", "ArchivedOnly", "All"]), TEXT), filter=FILTERS,
                 top=TOP, continuationToken=TOKENS)),
    Route("PATCH", "/history/v1.0{ws}/experimentids/{expid}", shaped(tags=STRING_MAPS, archive=st.booleans())),
    Route("POST", "/history/v1.0{ws}/experiments/{exp}", None),
    Route("GET", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", None),
    Route("GET", "/history/v1.0{ws}/experiments/{exp}/runs/{run}/details", None),
    Route("POST", "/metric/v2.0{ws}/runs/{run}/batch", shaped(values=st.lists(METRIC, max_size=3))),
    Route("POST", "/metric/v2.0{ws}/runs/{run}/list", shaped()),
    Route("POST", "/metric/v2.0{ws}/runs/{run}/full",
          shaped(metricName=st.one_of(st.just("m"), TEXT), continuationToken=TOKENS)),
    Route("POST", "/artifact/v2.0{ws}/artifacts/batch/metadata/ExperimentRun/dcid.{run}", shaped(paths=PATH_OBJECTS)),
    Route("POST", "/content/v2.0{ws}/snapshots/getblob", shaped(FileNames=st.lists(TEXT, max_size=3))),
    Route("POST", "/content/v2.0{ws}/snapshots/{run}",
          shaped(ParentSnapshotId=TEXT,
                 FileRevisionList=shaped(FileNodes=st.lists(shaped(FullName=TEXT, FileSize=NUMBERS), max_size=3)))),
    Route("POST", "/amlmock/v1.0/admin/workspaces",
          shaped(subscriptionId=TEXT, resourceGroup=TEXT, name=TEXT, location=TEXT)),
    Route("POST", "/amlmock/v1.0{ws}/runs/{run}/process",
          shaped(driverPid=st.integers(min_value=-5, max_value=2**40), scriptPid=NUMBERS)),
]


def encode(body: Any, how: str) -> bytes:
    """The body as bytes: JSON (escaped or raw UTF-8 with surrogates passed through), truncated, or garbage."""
    if how == "garbage":
        return b"\xff\xfe{not json" if body is None else repr(body).encode("utf-8", "surrogatepass")
    text = json.dumps(body, ensure_ascii=how != "utf8")
    data = text.encode("utf-8", "surrogatepass")
    if how == "truncated":
        return data[: max(0, len(data) // 2)]
    return data


ENCODINGS = st.sampled_from(["escaped", "escaped", "escaped", "utf8", "truncated", "garbage"])
SEGMENT = st.one_of(st.sampled_from(["%2e%2e", "..", "%2F", "%00", "%ff", "%ED%A0%80", "%", "a%20b"]), TEXT.map(
    lambda t: quote(t, safe="", errors="surrogatepass")
))


# ------------------------------------------------------------------------------------------ the fake under attack
class Target:
    """The fake, seeded with an experiment, runs (Running, Completed, a child), a metric and an artifact."""

    def __init__(self, aml: Any) -> None:
        self.aml = aml
        workspace = aml.create_workspace()
        self.ws = workspace.arm_id
        backend = aml.backend
        experiment = backend.create_experiment(workspace, EXPERIMENT)
        self.expid = experiment.experiment_id
        run = backend.create_or_update_run(workspace, experiment, RUN, RunFields(tags={"a": "1", "v": None}, properties={"p": "1"}))
        backend.post_event(run, RunEvent(EVENT_PREFIX + "Start"))
        backend.post_metrics(run, MetricBatch(((0, MetricInput("m", {"m": "double"}, None, (MetricRowInput({"m": 1.5}),))),), 1))
        backend.create_artifacts(workspace, "ExperimentRun", run.data_container_id, ["outputs/a.txt"])
        backend.write_blob(workspace, run.data_container_id, "outputs/a.txt", b"hello")
        backend.create_or_update_run(workspace, experiment, CHILD, RunFields(parent_run_id=RUN))
        done = backend.create_or_update_run(workspace, experiment, DONE, RunFields())
        backend.post_event(done, RunEvent(EVENT_PREFIX + "Completed"))
        self.client = Client(aml.app)

    def url(self, template: str, run: str = RUN, exp: str = EXPERIMENT) -> str:
        return template.format(ws=self.ws, exp=exp, expid=self.expid, run=run)

    def snapshot(self) -> bytes:
        """The whole state, byte for byte (a test-only snapshot; the state file holds rows, never a pickle)."""
        with self.aml.backend.exclusively():
            return pickle.dumps(self.aml.backend.all_workspaces())

    def send(self, method: str, path: str, data: bytes | None, transport: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        headers = {**AUTH, "Content-Type": "application/json", **(headers or {})}
        if transport in ("responses", "responses, chunked"):
            body = data if transport == "responses" or data is None else (data[i:i + 7] for i in range(0, len(data), 7))
            response = raw(method, HOST + path, headers=headers, data=body)
            return response.status_code, response.content
        answer = self.client.open(path, method=method, data=data or b"", headers=headers, base_url=HOST)
        try:
            return answer.status_code, answer.get_data()
        finally:
            answer.close()

    def still_readable(self) -> None:
        """After an accepted request the state must still read back everywhere the request could reach."""
        for path, body in (
            (f"/history/v1.0{self.ws}/experiments/{EXPERIMENT}/runs:query",
             {"filter": "(Tags/a ne null or Tags/a eq null) or RunTypeV2/Traits/x eq x or RunTypeV2/Orchestrator eq a "
                        "or Properties/p eq \"1\" or Name eq n or Target ne t or RunNumber gt 0"}),
            (f"/history/v1.0{self.ws}/experiments/{EXPERIMENT}/runs:query", {"orderBy": "EndTimeUtc desc", "top": 3}),
            (f"/history/v1.0{self.ws}/experiments:query", {"viewType": "All", "filter": "Tags/a eq null"}),
        ):
            status, data = self.send("POST", path, json.dumps(body).encode(), "wsgi")
            assert status == 200, (path, data[:500])
        for path in (f"/history/v1.0{self.ws}/experiments/{EXPERIMENT}/runs/{RUN}/details",
                     f"/artifact/v2.0{self.ws}/artifacts/ExperimentRun/dcid.{RUN}",
                     "/amlmock/v1.0/admin/state"):
            status, data = self.send("GET", path, None, "wsgi")
            assert status == 200, (path, data[:500])
        for run in self.aml.runs():
            self.aml.metrics(run.run_id)
        self.snapshot()


@pytest.fixture
def target(aml) -> Target:
    return Target(aml)


def assert_service_answer(status: int, data: bytes, method: str, what: Any) -> None:
    """2xx, or 4xx with the error envelope (storage's XML ``<Error>`` on blob routes); never a 5xx."""
    assert status < 500, (status, what, data[:2000])
    assert 200 <= status < 300 or 400 <= status < 500, (status, what)
    if status >= 400 and method != "HEAD" and data.startswith(b"<?xml"):
        assert re.search(rb"<Error><Code>\w+</Code><Message>[^<]+</Message></Error>$", data), data
        assert "/amlmockstorage/" in what[1], what
    elif status >= 400 and method != "HEAD":
        body = json.loads(data)
        error = body["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), body
        assert error["details"] == [], body


def _route_name(path: str) -> str:
    """The last fixed words of a path, for hypothesis' statistics."""
    words = [w for w in path.split("?")[0].split("/") if w.isalpha() or w.endswith(":query")]
    return "/".join(words[-2:])


def exchange(target: Target, method: str, path: str, data: bytes | None, transport: str = "wsgi") -> int:
    """Send one request and check the property; returns the status."""
    before = target.snapshot()
    started = time.perf_counter()
    status, answer = target.send(method, path, data, transport)
    assert time.perf_counter() - started < 10, (method, path)
    assert_service_answer(status, answer, method, (method, path, (data or b"")[:300]))
    if currently_in_test_context():
        event(f"{method} {_route_name(path)} -> {status // 100}xx")
    if status >= 400:
        assert target.snapshot() == before, f"refused {method} {path} changed the state"
    elif method not in ("GET", "HEAD"):
        target.still_readable()
    return status


# ------------------------------------------------------------------------------------------ the properties
@SETTINGS
@given(data=st.data())
def test_random_bodies_on_every_route(target, data):
    route = data.draw(st.sampled_from(ROUTES), label="route")
    run = data.draw(st.sampled_from([RUN, DONE, CHILD]), label="run")
    body = data.draw(route.body, label="body") if route.body is not None else None
    encoded = encode(body, data.draw(ENCODINGS, label="encoding")) if route.body is not None else None
    transport = data.draw(st.sampled_from(["wsgi", "wsgi", "responses", "responses, chunked"]), label="transport")
    exchange(target, route.method, target.url(route.path, run=run), encoded, transport)


@SETTINGS
@given(data=st.data())
def test_random_path_segments(target, data):
    route = data.draw(st.sampled_from(ROUTES + [
        Route("GET", "/history/v1.0{ws}/runs/{run}", None),
        Route("GET", "/history/v1.0{ws}/experiments/{exp}/runs/{run}/children", None),
        Route("GET", "/metric/v2.0{ws}/runs/{run}/metricsingest/wait", None),
        Route("GET", "/artifact/v2.0{ws}/artifacts/contentinfo/ExperimentRun/dcid.run_1/{run}", None),
        Route("GET", "/artifact/v2.0{ws}/artifacts/prefix/contentinfo/ExperimentRun/dcid.run_1/{run}", None),
        Route("POST", "/execution/v1.0{ws}/experiments/{exp}/localrun?runId={run}", None),
    ]), label="route")
    run = data.draw(SEGMENT, label="run segment")
    exp = data.draw(st.one_of(st.just(EXPERIMENT), SEGMENT), label="experiment segment")
    body = data.draw(route.body, label="body") if route.body is not None else None
    exchange(target, route.method, target.url(route.path, run=run, exp=exp), encode(body, "escaped") if body is not None else None)


@SETTINGS
@given(
    route=st.sampled_from(["runs", "experiments", "children"]),
    filter_text=FILTERS,
    order=st.one_of(st.none(), ORDER),
    top=st.one_of(st.none(), TOP),
    token=st.one_of(st.none(), TOKENS),
)
def test_queries_with_random_filters_orders_tokens(target, route, filter_text, order, top, token):
    base = f"/history/v1.0{target.ws}/experiments"
    if route == "children":
        args = {"$filter": filter_text, "$orderby": order, "$top": top, "$continuationToken": token}
        query = "&".join(f"{k}={quote(str(v), safe='', errors='surrogatepass')}" for k, v in args.items() if v is not None)
        exchange(target, "GET", f"{base}/{EXPERIMENT}/runs/{RUN}/children?{query}", None)
        return
    body = {"filter": filter_text, "orderBy": order, "top": top, "continuationToken": token}
    path = f"{base}/{EXPERIMENT}/runs:query" if route == "runs" else f"{base}:query"
    exchange(target, "POST", path, encode(body, "escaped"))


@SETTINGS
@given(data=st.data())
def test_blob_store_with_random_paths_and_bodies(target, data):
    workspace_id = target.aml.create_workspace().workspace_id
    path = data.draw(st.lists(SEGMENT, min_size=1, max_size=3).map("/".join), label="path")
    method = data.draw(st.sampled_from(["PUT", "GET", "HEAD"]), label="method")
    comp = data.draw(st.sampled_from(["", "?comp=appendblock", "?comp=block", "?comp=%ff"]), label="comp")
    content = data.draw(st.binary(max_size=64), label="content") if method == "PUT" else None
    exchange(target, method, f"/amlmockstorage/{workspace_id}/dcid.{RUN}/{path}{comp}", content)


# ------------------------------------------------------------------------------------------ fixed hostile cases
def big_json(size: int) -> bytes:
    return json.dumps({"tags": {"big": "x" * size}}).encode()



HUGE_CASES = [
    ("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", big_json(4 * 2**20)),
    ("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", os.urandom(3 * 2**20)),
    ("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}",
     json.dumps({"tags": {f"k{i}": "v" for i in range(100_000)}}).encode()),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query",
     json.dumps({"filter": " or ".join(["Tags/a eq \"1\""] * 20_000)}).encode()),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query", json.dumps({"filter": "(" * 50_000}).encode()),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query",
     json.dumps({"filter": "Tags/a eq \"" + "\" and " * 5_000}).encode()),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/batch/events",
     json.dumps({"events": [{"name": EVENT_PREFIX + "Heartbeat", "data": {"RunId": "nope"}}] * 50_000}).encode()),
    ("POST", "/metric/v2.0{ws}/runs/{run}/batch",
     json.dumps({"values": [{"name": "big", "value": [{"data": {"big": "y" * 10_000}}] * 250}]}).encode()),
    ("POST", "/metric/v2.0{ws}/runs/{run}/batch",
     json.dumps({"values": [{"name": f"n{i}", "value": [{"data": {f"n{i}": i}}]} for i in range(251)]}).encode()),
    ("POST", "/artifact/v2.0{ws}/artifacts/batch/metadata/ExperimentRun/dcid.{run}",
     json.dumps({"paths": [{"path": "p" * 6000}]}).encode()),
    ("DELETE", "/history/v1.0{ws}/experiments/{exp}/runs/{run}/tags", json.dumps(["a"] * 200_000).encode()),
    pytest.param("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", b"[" * 100_000),
    pytest.param("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", b'{"tags": ' * 100_000),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query", b'{"top": 1e400}'),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query", b'{"top": ' + b"9" * 5000 + b"}"),
    ("POST", "/metric/v2.0{ws}/runs/{run}/full", b'{"metricName": "m", "continuationToken": Infinity}'),
    ("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", b'{"tags": {"a": "\\ud800"}, "properties": {"\\udfff": "x"}}'),
    ("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", b"\xef\xbb\xbf{}"),
]


@pytest.mark.parametrize("method, template, data", HUGE_CASES, ids=[f"case{i}" for i in range(len(HUGE_CASES))])
def test_huge_and_deep_bodies(target, method, template, data):
    exchange(target, method, target.url(template), data)


def test_a_huge_blob_is_stored_whole(target):
    workspace_id = target.aml.create_workspace().workspace_id
    content = os.urandom(5 * 2**20)
    status = exchange(target, "PUT", f"/amlmockstorage/{workspace_id}/dcid.{RUN}/outputs/big.bin", content)
    assert status == 201
    assert target.aml.artifacts(RUN)["outputs/big.bin"] == content


PATH_TRICKS = ["../x", "a/../../b", "outputs/../../../etc/passwd", "a/./b", "a/.", "..", "...", "\ud800.txt",
               "..\\..\\windows", "C:/Windows/system.ini", "x\x00y", "line\nbreak", "d:relative"]


@pytest.mark.parametrize("path", PATH_TRICKS)
def test_dot_segments_in_artifact_paths_are_refused(target, path):
    """A ``.``/``..`` segment cannot survive a blob URL (HTTP clients remove dot segments, RFC 3986 5.2.4); backslashes,
    drive letters and control characters could not be written back by ``download_files``."""
    status = exchange(target, "POST", target.url("/artifact/v2.0{ws}/artifacts/batch/metadata/ExperimentRun/dcid.{run}"),
                      json.dumps({"paths": [{"path": "ok.txt"}, {"path": path}]}).encode())
    assert status == 400
    assert "ok.txt" not in target.aml.artifacts(RUN)


OPAQUE_PATHS = ["/etc/passwd", "%2e%2e/%2e%2e/x", "~/.ssh/id_rsa", "a b/\u00e9\u4e2d/\U0001f600.txt", "a..b/..c", ".hidden/...x"]


@pytest.mark.parametrize("path", OPAQUE_PATHS)
def test_other_artifact_paths_are_opaque_keys_and_never_touch_the_filesystem(target, path, tmp_path, monkeypatch):
    """Absolute paths lose their leading ``/`` (documented); everything else is a key in memory, round-tripped."""
    monkeypatch.chdir(tmp_path)
    workspace_id = target.aml.create_workspace().workspace_id
    expected = path.lstrip("/")
    forbidden = mock.Mock(side_effect=AssertionError("amlmock touched the filesystem"))
    with mock.patch.object(builtins, "open", forbidden), mock.patch.object(io, "open", forbidden), \
            mock.patch.object(os, "open", forbidden), mock.patch.object(os, "stat", forbidden):
        created = exchange(target, "POST", target.url("/artifact/v2.0{ws}/artifacts/batch/metadata/ExperimentRun/dcid.{run}"),
                           json.dumps({"paths": [{"path": path}]}).encode())
        assert created == 200
        blob = f"/amlmockstorage/{workspace_id}/dcid.{RUN}/{encode_blob_name(expected)}"
        put = target.client.put(blob, data=b"bytes", base_url=HOST)
        assert put.status_code == 201, put.get_data()
        got = target.client.get(blob, base_url=HOST)
        assert got.get_data() == b"bytes"
    assert target.aml.artifacts(RUN)[expected] == b"bytes"
    assert list(tmp_path.iterdir()) == []


def test_localrun_garbage_creates_nothing(target):
    """A refused ``localrun`` leaves no experiment and no run behind."""
    path = f"/execution/v1.0{target.ws}/experiments/brand-new/localrun?runId=local_1"
    for data in (b"", b"not multipart", json.dumps({"Configuration": {}}).encode()):
        assert exchange(target, "POST", path, data) == 400
    definition = json.dumps({"Configuration": {"script": "x.py", "arguments": 5, "environment": [1]}}).encode()
    answer = target.client.post(path, data={"files": (io.BytesIO(definition), "definition.json")}, headers=AUTH, base_url=HOST)
    assert answer.status_code == 400, answer.get_data()
    assert "brand-new" not in {e.name for e in target.aml.experiments()}


# ------------------------------------------------------------------------------------------ over HTTP
@settings(SETTINGS, max_examples=max(20, EXAMPLES // 3))
@given(data=st.data())
def test_loopback_server_answers_hostile_requests_and_keeps_serving(target, data):
    url = target.aml.server_url
    route = data.draw(st.sampled_from(ROUTES), label="route")
    body = data.draw(route.body, label="body") if route.body is not None else None
    encoded = encode(body, data.draw(ENCODINGS, label="encoding")) if body is not None else None
    before = target.snapshot()
    response = requests.request(route.method, url + target.url(route.path), data=encoded,
                                headers={**AUTH, "Content-Type": "application/json"}, timeout=10)
    assert_service_answer(response.status_code, response.content, route.method, (route.path, (encoded or b"")[:300]))
    if response.status_code >= 400:
        assert target.snapshot() == before
    assert requests.get(url + "/amlmock/v1.0/admin/state?runs=false", headers=AUTH, timeout=10).status_code == 200


def test_loopback_server_survives_broken_connections(target):
    """Half-sent bodies, non-HTTP bytes and abandoned connections neither hang nor stop the server."""
    url = target.aml.server_url
    host, port = url.rsplit("/", 1)[1].rsplit(":", 1)
    path = target.url("/history/v1.0{ws}/experiments/{exp}/runs/{run}")
    stalled = socket.create_connection((host, int(port)), timeout=10)
    stalled.sendall(f"PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 1000000\r\n\r\n{{".encode())
    garbage = socket.create_connection((host, int(port)), timeout=10)
    garbage.sendall(os.urandom(4096) + b"\r\n\r\n")
    abandoned = socket.create_connection((host, int(port)), timeout=10)
    abandoned.sendall(b"GET /discovery HTTP/1.1\r\n")
    abandoned.close()
    try:
        for _ in range(20):
            answer = requests.get(url + target.url("/history/v1.0{ws}/experiments/{exp}/runs/{run}"), headers=AUTH, timeout=5)
            assert answer.status_code == 200
    finally:
        stalled.close()
        garbage.close()
    # Each connection's server thread ends once its client is gone (none is left waiting for a body that never comes);
    # waiting for that also keeps them from logging while pytest tears the test down.
    deadline = time.monotonic() + 10
    while any("process_request_thread" in t.name for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t.name for t in threading.enumerate() if "process_request_thread" in t.name]
    assert target.aml.run(RUN).tags == {"a": "1", "v": None}


def test_a_slow_filter_does_not_hold_up_other_requests(target):
    """Filters are parsed outside the backend's lock: while one filter is being parsed (held here until
    another client has been answered), other clients are still answered. Were the lock held, the read
    would wait for the parse, and the parse would give up waiting (``released`` stays False)."""
    parsing, answered = threading.Event(), threading.Event()
    released: list[bool] = []

    def held_parse(text: str, known_field: Any) -> Any:
        parsing.set()
        released.append(answered.wait(10))
        return parse_filter(text, known_field)

    body = json.dumps({"filter": 'Tags/a eq "1" or ' * 80}).encode()  # broken: nothing follows the last "or"
    path = target.url("/history/v1.0{ws}/experiments/{exp}/runs:query")
    results: list[int] = []
    with mock.patch("amlmock.backend.workspaces.parse_filter", held_parse):
        worker = threading.Thread(target=lambda: results.append(Client(target.aml.app).post(
            path, data=body, headers={**AUTH, "Content-Type": "application/json"}, base_url=HOST).status_code))
        worker.start()
        assert parsing.wait(10)
        status, _ = target.send("GET", target.url("/history/v1.0{ws}/experiments/{exp}/runs/{run}"), None, "wsgi")
        answered.set()
        worker.join()
    assert status == 200
    assert released == [True]
    assert results == [400]


def test_filters_longer_than_the_limit_are_refused_at_once(target):
    path = target.url("/history/v1.0{ws}/experiments/{exp}/runs:query")
    assert exchange(target, "POST", path, json.dumps({"filter": 'Tags/a eq "1" or ' * 300}).encode()) == 400
    assert exchange(target, "POST", path, json.dumps({"filter": "(" * 4_000 + "Tags/a eq x" + ")" * 4_000}).encode()) == 400
    assert exchange(target, "POST", path, json.dumps({"filter": "(" * 2_000 + "Tags/a eq x" + ")" * 2_000}).encode()) == 400


# ------------------------------------------------------------------------------------------ an amlmock serve process
SERVE_WS = "/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1"


class ServeTarget:
    """An ``amlmock serve --state`` process, seeded over HTTP like ``Target``."""

    def __init__(self, state_file: str) -> None:
        self.state_file = state_file
        self.server = Server("--workspace", "ws1", "--resource-group", "rg1", "--subscription-id", "sub-1", "--state", state_file)
        self.ws = SERVE_WS
        rh = f"/history/v1.0{SERVE_WS}/experiments/{EXPERIMENT}"
        self.expid = self.call("POST", rh).json()["experimentId"]
        assert self.call("PATCH", f"{rh}/runs/{RUN}", json={"tags": {"a": "1"}, "properties": {"p": "1"}}).status_code == 200
        assert self.call("POST", f"{rh}/runs/{RUN}/events", json={"name": EVENT_PREFIX + "Start"}).status_code == 200
        assert self.call("PATCH", f"{rh}/runs/{CHILD}", json={"parentRunId": RUN}).status_code == 200

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        return self.server.call(method, path, headers={"Authorization": "Bearer " + make_token("hostile")[0], **(headers or {})}, **kwargs)

    def state(self) -> Any:
        answer = self.server.call("GET", "/amlmock/v1.0/admin/state")  # with the admin token
        assert answer.status_code == 200
        return answer.json()


@pytest.fixture(scope="module")
def serve_target(tmp_path_factory):
    target = ServeTarget(str(tmp_path_factory.mktemp("serve") / "state.sqlite"))
    yield target
    target.server.stop()


@settings(SETTINGS, max_examples=max(20, EXAMPLES // 6))
@given(data=st.data())
def test_serve_process_answers_hostile_requests(serve_target, data):
    route = data.draw(st.sampled_from([r for r in ROUTES if not r.path.startswith("/amlmock/v1.0/admin")]), label="route")
    body = data.draw(route.body, label="body") if route.body is not None else None
    encoded = encode(body, data.draw(ENCODINGS, label="encoding")) if body is not None else None
    path = route.path.format(ws=serve_target.ws, exp=EXPERIMENT, expid=serve_target.expid, run=data.draw(st.sampled_from([RUN, CHILD])))
    before = serve_target.state()
    answer = serve_target.call(route.method, path, data=encoded, headers={"Content-Type": "application/json"})
    assert_service_answer(answer.status_code, answer.content, route.method, (path, (encoded or b"")[:300]))
    if answer.status_code >= 400:
        assert serve_target.state() == before


def test_serve_process_state_survives_hostile_input_and_a_kill(serve_target):
    """Whatever the hostile requests stored (odd unicode included) is written, killed and read back whole."""
    rh = f"/history/v1.0{SERVE_WS}/experiments/{EXPERIMENT}"
    stored = serve_target.call("PATCH", f"{rh}/runs/{RUN}", data=b'{"tags": {"\\ud800": "\\udfff\\u0000", "\\u00e9\\u4e2d": null}}',
                               headers={"Content-Type": "application/json"})
    assert stored.status_code == 200
    before = serve_target.state()
    serve_target.server.stop(signal.SIGKILL)
    restarted = Server("--state", serve_target.state_file)
    serve_target.server = restarted
    assert serve_target.state() == before
    tags = serve_target.call("GET", f"{rh}/runs/{RUN}").json()["tags"]
    assert tags["\ud800"] == "\udfff\x00" and tags["\u00e9\u4e2d"] is None


# ------------------------------------------------------------------------------------------ regressions
# Each of these was a 500 (or a partial write, or an accepted value that broke later reads) before the fix named.
REGRESSIONS = [
    # service.get_metric: an unhashable metricName
    ("POST", "/metric/v2.0{ws}/runs/{run}/full", {"metricName": ["m"]}, 400),
    # metrics._offset / history._top: Infinity and 1e400 overflow int()
    ("POST", "/metric/v2.0{ws}/runs/{run}/full", b'{"metricName": "m", "continuationToken": -Infinity}', 400),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query", b'{"top": -1e999}', 400),
    # history.query_runs / query_experiments: fields that must be strings
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query", {"filter": 5}, 400),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query", {"orderBy": ["RunNumber"]}, 400),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query", {"continuationToken": 7}, 400),
    ("POST", "/history/v1.0{ws}/experiments:query", {"viewType": ["All"]}, 400),
    ("POST", "/history/v1.0{ws}/experiments:query", {"filter": {"name": "x"}}, 400),
    ("POST", "/history/v1.0{ws}/experiments:query", {"continuationToken": 1}, 400),
    # service.query_runs: nesting deeper than the parser's recursion
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs:query", {"filter": "(" * 1500 + "Status eq x" + ")" * 1500}, 400),
    # history.post_events: malformed events
    ("POST", "/history/v1.0{ws}/experiments/{exp}/batch/events", {"events": "Start"}, 400),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/batch/events", {"events": [1, "x"]}, 400),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/batch/events", {"events": [{"name": EVENT_PREFIX + "Start", "data": [1]}]}, 200),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/batch/events", {"events": [{"name": EVENT_PREFIX + "Start", "data": {"RunId": ["run_1"]}}]}, 200),
    # service.post_event: a name that is not a string, an ErrorResponse.error that is not an object
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs/{run}/events", {"name": 5}, 400),
    ("POST", "/history/v1.0{ws}/experiments/{exp}/runs/{run}/events",
     {"name": EVENT_PREFIX + "Error", "data": {"ErrorResponse": {"error": "boom"}}}, 400),
    # service._create_run: an unhashable parentRunId
    ("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/new_run", {"parentRunId": ["run_1"]}, 400),
    # service._validated_fields: runTypeV2.traits that later queries cannot read
    ("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", {"runTypeV2": {"traits": 5}}, 400),
    ("PATCH", "/history/v1.0{ws}/experiments/{exp}/runs/{run}", {"runTypeV2": {"orchestrator": ["x"]}}, 400),
    # service._store_metric: per-metric refusals (207) instead of 500s or unreadable values
    ("POST", "/metric/v2.0{ws}/runs/{run}/batch", {"values": [{"name": "x", "properties": ["a"], "value": [{"data": {"x": 1}}]}]}, 207),
    ("POST", "/metric/v2.0{ws}/runs/{run}/batch",
     {"values": [{"name": "x", "value": [{"createdUtc": "9999-12-31T23:59:59-23:59", "data": {"x": 1}}]}]}, 207),
    ("POST", "/metric/v2.0{ws}/runs/{run}/batch",
     {"values": [{"name": "x", "value": [{"createdUtc": "9999-12-31T23:59:59.9999999Z", "data": {"x": 1}}]}]}, 207),
    ("POST", "/metric/v2.0{ws}/runs/{run}/batch",
     {"values": [{"name": "x", "value": [{"createdUtc": "0099-01-01T00:00:00Z", "data": {"x": 1}}]}]}, 207),
    ("POST", "/metric/v2.0{ws}/runs/{run}/batch", {"values": [{"name": "x", "value": [{"step": "one", "data": {"x": 1}}]}]}, 207),
    ("POST", "/metric/v2.0{ws}/runs/{run}/batch", {"values": [{"name": "x", "columns": {"x": 5}, "value": []}]}, 207),
    # normalise_artifact_path: text no URL can carry; registered before the URL failed (a 500 and a partial write)
    ("POST", "/artifact/v2.0{ws}/artifacts/batch/metadata/ExperimentRun/dcid.{run}",
     b'{"paths": [{"path": "ok.txt"}, {"path": "\\ud800.txt"}]}', 400),
    # artifacts.snapshot_upload_urls / commit_snapshot
    ("POST", "/content/v2.0{ws}/snapshots/getblob", b'{"FileNames": ["\\udc80"]}', 400),
    ("POST", "/content/v2.0{ws}/snapshots/s1", {"FileRevisionList": [1]}, 400),
    ("POST", "/content/v2.0{ws}/snapshots/s1", {"ParentSnapshotId": {"id": 1}}, 400),
    # admin.create_workspace: a location that is not a string
    ("POST", "/amlmock/v1.0/admin/workspaces", {"subscriptionId": "s", "resourceGroup": "g", "name": "n", "location": 5}, 400),
]


@pytest.mark.parametrize("method, template, body, expected", REGRESSIONS, ids=[f"regression{i}" for i in range(len(REGRESSIONS))])
def test_regressions(target, method, template, body, expected):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    before = target.snapshot()
    status, answer = target.send(method, target.url(template), data, "wsgi")
    assert status == expected, answer[:1000]
    assert_service_answer(status, answer, method, template)
    if expected >= 400:
        assert target.snapshot() == before
    elif expected in (200, 207):
        assert json.loads(answer)["errors"], answer  # each malformed part was refused on its own
        target.still_readable()


# ------------------------------------------------------------------------------------------ process registration
def _process_path(target: Target, run_id: str) -> str:
    return f"/amlmock/v1.0{target.ws}/runs/{run_id}/process"


def test_process_registration_never_names_a_process_the_fake_did_not_start(target, tmp_path):
    """The fake signals registered processes (the script's whole group) when it stops: a hostile registration
    must not make it kill the test runner, PID 1 or anything else. Each of these was accepted before the fix
    (``Backend.record_processes``), and a pid above 2**31 crashed the mock's teardown with OverflowError; a
    tmux-like pair (any process, and a child of it that leads its own session) was accepted until the driver had
    to be amlmock's driver by its command line (``execution/processes.py`` ``runs_driver``, Linux)."""
    workspace = target.aml.create_workspace()
    experiment = target.aml.backend.get_experiment(workspace, EXPERIMENT)
    target.aml.backend.create_local_run(workspace, experiment, "local_1", LocalRunSpec("train.py", "local", {"script": "train.py"}))
    loner = subprocess.Popen(["sleep", "30"])  # not a session leader
    leader = subprocess.Popen(["sleep", "30"], start_new_session=True)  # a session leader, but a child of this process
    driver, script = spawn_driver(tmp_path / "driver")  # a driver's command line, and its script
    tmux, shell = spawn_pair(tmp_path / "tmux", ["-c", "pass"], code="import os, time; os.setsid(); time.sleep(60)",
                             new_session=False)
    try:
        assert wait_for(lambda: read_stat(shell).session == shell, 10)
        for run_id, body in (
            (RUN, {"driverPid": driver.pid, "scriptPid": script}),  # not a local run
            ("local_1", {"driverPid": 2**40, "scriptPid": 2**33}),
            ("local_1", {"driverPid": 1, "scriptPid": 1}),
            ("local_1", {"driverPid": os.getpid(), "scriptPid": script}),  # the fake's own process
            ("local_1", {"driverPid": driver.pid, "scriptPid": os.getpgrp()}),
            ("local_1", {"driverPid": driver.pid, "scriptPid": loner.pid}),  # not leading its own session
            ("local_1", {"driverPid": driver.pid, "scriptPid": leader.pid}),  # not the driver's child
            ("local_1", {"driverPid": loner.pid, "scriptPid": leader.pid}),  # not a driver
            ("local_1", {"driverPid": tmux.pid, "scriptPid": shell}),  # not a driver (all else holds)
        ):
            assert exchange(target, "POST", _process_path(target, run_id), json.dumps(body).encode()) == 400, body
        assert target.aml.run("local_1").processes == {}
        assert local_run_processes({"driver": driver.pid, "script": script}) is None  # the stand-in would pass
    finally:
        for process in (loner, leader):
            process.kill()
            process.wait()
        end_pair(driver, script)
        end_pair(tmux, shell)


def test_a_registered_local_run_is_stopped_with_the_fake(tmp_path):
    """What the driver reports (itself, and a script in its own session) is accepted once, and stopped with the fake."""
    driver, script_pid = spawn_driver(tmp_path / "driver")
    try:
        with mock_aml() as aml:
            workspace = aml.create_workspace()
            experiment = aml.backend.create_experiment(workspace, EXPERIMENT)
            aml.backend.create_local_run(workspace, experiment, "local_1", LocalRunSpec("train.py", "local", {"script": "train.py"}))
            client = Client(aml.app)
            path = f"/amlmock/v1.0{workspace.arm_id}/runs/local_1/process"
            body = {"driverPid": driver.pid, "scriptPid": script_pid}
            assert client.post(path, json=body, headers=AUTH, base_url=HOST).status_code == 200
            assert client.post(path, json=body, headers=AUTH, base_url=HOST).status_code == 409  # once only
        driver.wait(timeout=10)  # stopped (and reaped) by the fake
        with pytest.raises(ProcessLookupError):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(script_pid, 0)
                time.sleep(0.05)
    finally:
        end_pair(driver, script_pid)
