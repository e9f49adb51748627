"""Contract test: the fake's JSON responses against the official Azure ML REST schemas.

The real ``azureml-core`` SDK drives the seed walkthrough (workspace, experiment, runs, logging,
tags, properties, children, failures, listings, details) through ``mock_aml()``, while every
request the WSGI app answers is recorded. Afterwards each recorded response whose route is in
one of the published swagger 2.0 specs (``runHistory.json``, ``artifact.json``,
``execution.json``, api version 2019-09-30, read at test time from ``shared/reference/specs``
next to the repository; see ``SOURCES.md`` there) is validated with ``jsonschema`` against that
operation's response schema for the returned status code. Error responses are checked against
the operation's ``default`` schema (``ErrorResponse``); error responses on routes the specs do not
describe are checked against the same ``ErrorResponse`` definition, since every data-plane service
shares that envelope.

Why: the SDK only reads the fields it needs, so the SDK-level tests cannot notice a field with the
wrong name, type or shape. This test can, for every route the 2019 specs cover.

Two adjustments to the schemas, both deliberate:

* null values are dropped before validating (see ``without_nulls``): swagger 2.0 has no
  ``nullable``, and the fake writes absent optional fields as JSON null;
* object schemas are *closed* (``additionalProperties: false``; see ``closed_definitions``).
  Swagger lets objects carry undeclared keys, so a misspelt field name would otherwise pass
  silently. The only undeclared fields accepted are the few the fake shares with the SDK's own
  models from the newer service API (``FIELDS_NEWER_THAN_THE_SPECS``, checked against
  ``azureml._restclient.models``).

Routes the specs do not describe (metrics v2.0, content snapshots, blob storage, ARM, discovery,
the ``experimentids/.../runs`` and workspace-level run routes, artifact v2.0 routes in the SDK's
newer layout) are listed, not validated: the newer TypeSpec spec that has them is not available.
The coverage summary is printed; see it with ``pytest tests/test_contract.py -rP``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

import pytest

SPECS_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "specs"
SPEC_FILES = ("runHistory.json", "artifact.json", "execution.json")
ERROR_SPEC = "runHistory.json"

if not all((SPECS_DIR / name).is_file() for name in SPEC_FILES):
    pytest.skip(f"the REST specs are not available in {SPECS_DIR}", allow_module_level=True)

from azureml._restclient.exceptions import ServiceException  # noqa: E402
from azureml.core import Experiment, Run  # noqa: E402
from jsonschema import Draft4Validator, FormatChecker  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402
from werkzeug.wrappers import Request, Response  # noqa: E402

from amlmock import AmlMock  # noqa: E402
from amlmock.api.app import ServiceApp  # noqa: E402

from .helpers import RH, raw, workspace_path  # noqa: E402

EXPERIMENT = "contract"
WORKSPACE_IN_PATH = re.compile(
    r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/workspaces/[^/]+"
)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# Spec operations the walkthrough must reach, so that the test cannot pass by validating nothing.
EXPECTED_OPERATIONS = {
    "GET /history/v1.0{WS}/experiments/{experimentName}",
    "POST /history/v1.0{WS}/experiments/{experimentName}",
    "GET /history/v1.0{WS}/experimentids/{experimentId}",
    "PATCH /history/v1.0{WS}/experimentids/{experimentId}",
    "POST /history/v1.0{WS}/experiments:query",
    "PATCH /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}",
    "GET /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}",
    "GET /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}/details",
    "GET /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}/children",
    "POST /history/v1.0{WS}/experiments/{experimentName}/runs:query",
    "PATCH /history/v1.0{WS}/experiments/{experimentName}/batch/runs",
    "POST /history/v1.0{WS}/experiments/{experimentName}/batch/events",
    "POST /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}/events",
    "DELETE /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}/tags",
    "GET /artifact/v2.0{WS}/artifacts/{origin}/{container}",
}
# Fields the fake sends that the 2019 specs do not declare: definition -> (SDK model, its wire keys).
# The real service sends them too (they are in the SDK's models and the newer TypeSpec spec).
FIELDS_NEWER_THAN_THE_SPECS = {
    "Run": ("RunDto", {"displayName", "runTypeV2"}),
    "RootError": ("RootError", {"messageParameters", "detailsUri"}),
    "ErrorResponse": ("ErrorResponse", {"componentName"}),
}
SPEC_WORKSPACE = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    "/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}"
)
FAKE_WORKSPACE = (
    "/subscriptions/<subscription_id>/resourceGroups/<resource_group>"
    "/providers/Microsoft.MachineLearningServices/workspaces/<workspace_name>"
)


# --------------------------------------------------------------------------- the specs
@dataclass(frozen=True)
class Operation:
    """One (method, path template) of a spec, with its response schemas."""

    spec: str
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: dict[str, Any]
    definitions: dict[str, Any]

    @property
    def name(self) -> str:
        """``METHOD /path`` with the workspace prefix shortened to ``{WS}``."""
        return f"{self.method} {self.template.replace(SPEC_WORKSPACE, '{WS}')}"

    @property
    def specificity(self) -> int:
        """Literal characters in the template: the most specific template wins a tie."""
        return len(re.sub(r"\{[^}]+\}", "", self.template))

    def response_schema(self, status: int) -> tuple[bool, dict[str, Any] | None]:
        """(declared, schema) for ``status``: its own entry, else ``default`` for errors."""
        entry = self.responses.get(str(status))
        if entry is None and status >= 400:
            entry = self.responses.get("default")
        if entry is None:
            return False, None
        return True, entry.get("schema")


def template_pattern(template: str) -> re.Pattern[str]:
    """A regex matching concrete paths of a swagger path template (``{x}`` is one segment)."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$")


def load_spec(name: str) -> dict[str, Any]:
    """One spec file, parsed."""
    return json.loads((SPECS_DIR / name).read_text(encoding="utf-8"))


def closed_definitions(definitions: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``definitions`` whose object schemas reject undeclared properties.

    Maps (``additionalProperties`` given) stay open; ``FIELDS_NEWER_THAN_THE_SPECS`` are
    declared, with any value, on their definitions.
    """
    closed = copy.deepcopy(definitions)
    for name, schema in closed.items():
        if "properties" in schema and "additionalProperties" not in schema:
            _, newer = FIELDS_NEWER_THAN_THE_SPECS.get(name, ("", set()))
            schema["properties"].update({field: {} for field in newer})
            schema["additionalProperties"] = False
    return closed


def load_operations() -> list[Operation]:
    """Every operation of every spec, most specific template first."""
    operations = []
    for name in SPEC_FILES:
        spec = load_spec(name)
        definitions = closed_definitions(spec["definitions"])
        for template, item in spec["paths"].items():
            for method, operation in item.items():
                if method == "parameters":
                    continue
                operations.append(
                    Operation(
                        spec=name,
                        method=method.upper(),
                        template=template,
                        pattern=template_pattern(template),
                        responses=operation["responses"],
                        definitions=definitions,
                    )
                )
    return sorted(operations, key=lambda op: -op.specificity)


def find_operation(operations: Iterable[Operation], method: str, path: str) -> Operation | None:
    """The spec operation serving ``method path``, if any spec describes it."""
    return next((op for op in operations if op.method == method and op.pattern.match(path)), None)


def swagger_format_checker() -> FormatChecker:
    """The swagger formats the fake can get wrong: ``date-time``, ``int32`` and ``int64``."""
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(datetime.fromisoformat(value))

    def in_range(bounds: tuple[int, int]) -> Any:
        return lambda value: not isinstance(value, int) or bounds[0] <= value <= bounds[1]

    checker.checks("int32")(in_range(INT32))
    checker.checks("int64")(in_range(INT64))
    return checker


FORMAT_CHECKER = swagger_format_checker()


def validator_for(schema: dict[str, Any], definitions: dict[str, Any]) -> Draft4Validator:
    """A draft-4 validator for a response schema whose ``$ref``s point into ``definitions``."""
    return Draft4Validator({**schema, "definitions": definitions}, format_checker=FORMAT_CHECKER)


def without_nulls(value: Any) -> Any:
    """``value`` with every null-valued object key removed, recursively.

    Swagger 2.0 has no ``nullable``: the service simply leaves an absent optional field out,
    while the fake (like the SDK's own serializer in reverse) writes it as JSON null. None of the
    schemas used here has a ``required`` property that the fake sends as null, so dropping null
    keys only accepts "absent"; it never hides a missing required field. This also accepts a
    valueless tag (``{"worth another look": null}``), which the SDK sends as null and reads back
    as ``None``. Null array items are kept, and everything else is validated unchanged.
    """
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


# --------------------------------------------------------------------------- recording
@dataclass(frozen=True)
class Exchange:
    """One request the app answered, with the JSON body of its response."""

    method: str
    path: str
    status: int
    body: Any
    is_json: bool

    @classmethod
    def of(cls, request: Request, response: Response) -> "Exchange":
        """Record ``response`` (buffered, so reading it does not consume it)."""
        data = response.get_data()
        is_json = response.mimetype == "application/json" and bool(data.strip())
        body = json.loads(data) if is_json else None
        return cls(request.method, request.path, response.status_code, body, is_json)

    def __str__(self) -> str:
        return f"{self.method} {WORKSPACE_IN_PATH.sub('{WS}', self.path)} -> {self.status}"


@contextmanager
def recording(app: ServiceApp) -> Iterator[list[Exchange]]:
    """Record every request ``app`` answers (from any thread) until the block ends."""
    exchanges: list[Exchange] = []
    lock = threading.Lock()
    original = app.handle

    def handle(request: Request) -> Response:
        response = original(request)
        with lock:
            exchanges.append(Exchange.of(request, response))
        return response

    app.handle = handle  # type: ignore[method-assign]
    try:
        yield exchanges
    finally:
        del app.handle  # the class's method again


def fake_route(app: ServiceApp, exchange: Exchange) -> str:
    """The fake's own route rule for an exchange, workspace prefix shortened to ``{WS}``."""
    try:
        rule, _ = app.routes.url_map.bind("amlmock").match(exchange.path, exchange.method, return_rule=True)
    except HTTPException:
        return f"{exchange.method} {exchange.path} (no route in the fake)"
    return f"{exchange.method} {rule.rule.replace(FAKE_WORKSPACE, '{WS}')}"


# --------------------------------------------------------------------------- the walkthrough
def drive_seed_walkthrough(aml: AmlMock) -> None:
    """The seed walkthrough through the real SDK, touching every route it uses."""
    ws = aml.workspace()
    exp = Experiment(workspace=ws, name=EXPERIMENT)  # E1 answers 404, then E2 creates it
    run = exp.start_logging(snapshot_directory=None)
    run.log("loss", 0.25)
    run.log_list("accuracy", [0.5, 0.75])
    run.tag("quality", "great run")
    run.tag("worth another look")
    run.add_properties({"author": "azureml-user"})
    with pytest.raises(ServiceException):
        run.add_properties({"author": "someone-else"})  # properties are immutable: a 400

    run.child_run(name="single").fail(error_details=ValueError("diverged"))
    completed, failed = run.create_children(count=2)
    completed.complete()
    failed.fail(error_details="bad data", error_code="BadData")

    Path("hello.txt").write_text("hello", encoding="utf-8")
    run.upload_file("outputs/hello.txt", "hello.txt")
    run.get_file_names()
    run.get_details()
    run.flush()
    run.get_metrics()
    list(run.get_children())
    list(run.get_children(recursive=True))
    run.remove_tags(["quality"])
    run.complete()

    Run(exp, run.id).get_status()
    Run.get(ws, run.id)
    list(exp.get_runs(properties={"author": "azureml-user"}, tags="worth another look"))
    list(exp.get_runs(include_children=True))
    exp.tag("team", "ml")
    Experiment.list(ws)
    Experiment.list(ws, experiment_name=EXPERIMENT)

    probe_errors(aml, run.id)


def probe_errors(aml: AmlMock, run_id: str) -> None:
    """A few 4xx answers on spec routes the SDK does not reach with bad input."""
    experiment_url = f"{RH}{workspace_path(aml)}/experiments/{EXPERIMENT}"
    assert raw("GET", f"{experiment_url}/runs/no-such-run").status_code == 404
    assert raw("GET", f"{experiment_url}/runs/{run_id}/children?$top=many").status_code == 400
    assert raw("POST", f"{experiment_url}/runs:query", data="{not json").status_code == 400
    assert raw("PATCH", f"{experiment_url}/batch/runs", json={"runs": "nope"}).status_code == 400


# --------------------------------------------------------------------------- validation
@dataclass
class ContractReport:
    """What the recorded traffic showed: spec mismatches and route coverage."""

    mismatches: list[str]
    validated: set[str]
    unspecified: set[str]

    def summary(self) -> str:
        """A readable account of the coverage."""
        lines = [f"validated {len(self.validated)} spec operations:"]
        lines += [f"  {name}" for name in sorted(self.validated)]
        lines.append(f"{len(self.unspecified)} recorded routes have no spec (not validated):")
        lines += [f"  {name}" for name in sorted(self.unspecified)]
        return "\n".join(lines)


def check_exchange(exchange: Exchange, operation: Operation | None, error_definitions: dict[str, Any]) -> list[str]:
    """Every way ``exchange`` breaks its contract (empty when it conforms)."""
    if operation is not None:
        declared, schema = operation.response_schema(exchange.status)
        if not declared:
            return [f"{exchange}: status {exchange.status} is not declared by {operation.spec}"]
        definitions = operation.definitions
    elif exchange.status >= 400 and exchange.is_json:
        schema, definitions = {"$ref": "#/definitions/ErrorResponse"}, error_definitions
    else:
        return []
    if schema is None:
        return []
    if not exchange.is_json:
        return [f"{exchange}: the spec declares a JSON body, the fake sent none"]
    validator = validator_for(schema, definitions)
    return [
        f"{exchange}: {error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(without_nulls(exchange.body)), key=lambda e: e.json_path)
    ]


def check_contract(app: ServiceApp, exchanges: list[Exchange]) -> ContractReport:
    """Validate every recorded exchange; collect all mismatches instead of stopping at one."""
    operations = load_operations()
    error_definitions = closed_definitions(load_spec(ERROR_SPEC)["definitions"])
    report = ContractReport(mismatches=[], validated=set(), unspecified=set())
    for exchange in exchanges:
        operation = find_operation(operations, exchange.method, exchange.path)
        if operation is None:
            report.unspecified.add(fake_route(app, exchange))
        else:
            report.validated.add(operation.name)
        report.mismatches += check_exchange(exchange, operation, error_definitions)
    return report


# --------------------------------------------------------------------------- the test
def test_responses_match_the_rest_specs(aml: AmlMock) -> None:
    with recording(aml.app) as exchanges:
        drive_seed_walkthrough(aml)
        aml.flush()
    report = check_contract(aml.app, exchanges)
    print(report.summary())

    errors_seen = {str(e) for e in exchanges if e.status >= 400}
    assert len(errors_seen) >= 5, f"too few error responses to check the error envelope: {sorted(errors_seen)}"
    missing = EXPECTED_OPERATIONS - report.validated
    assert not missing, "spec operations the walkthrough did not reach:\n" + "\n".join(sorted(missing))
    assert not report.mismatches, (
        f"{len(report.mismatches)} responses do not match the REST specs:\n"
        + "\n".join(report.mismatches)
        + "\n\n"
        + report.summary()
    )


def test_path_templates_match_one_segment_per_parameter() -> None:
    pattern = template_pattern("/experiments/{experimentName}/runs/{runId}")
    assert pattern.match("/experiments/e1/runs/r1")
    assert not pattern.match("/experiments/e1/runs/r1/details")
    assert not pattern.match("/experiments/e1/runs:query")
    assert not pattern.match("/experiments/e/x/runs/r1")


def test_nulls_are_dropped_only_from_objects() -> None:
    body = {"a": None, "b": {"c": None, "d": [None, {"e": None}]}, "f": 0}
    assert without_nulls(body) == {"b": {"d": [None, {}]}, "f": 0}


def test_validation_catches_wrong_types_formats_and_field_names() -> None:
    definitions = closed_definitions(load_spec("runHistory.json")["definitions"])
    validator = validator_for({"$ref": "#/definitions/Run"}, definitions)
    bad = {"runId": "r", "runNumber": "1", "createdUtc": "yesterday", "tags": {"k": 1}, "runID": "r"}
    problems = {(error.json_path, error.validator) for error in validator.iter_errors(bad)}
    assert problems == {
        ("$.runNumber", "type"),
        ("$.createdUtc", "format"),
        ("$.tags.k", "type"),
        ("$", "additionalProperties"),
    }
    assert not list(validator.iter_errors({"runId": "r", "runTypeV2": {"orchestrator": "External"}}))


@pytest.mark.parametrize("definition", sorted(FIELDS_NEWER_THAN_THE_SPECS))
def test_fields_newer_than_the_specs_are_sdk_fields(definition: str) -> None:
    from azureml._restclient import models

    model_name, fields = FIELDS_NEWER_THAN_THE_SPECS[definition]
    wire_keys = {entry["key"] for entry in getattr(models, model_name)._attribute_map.values()}
    assert fields <= wire_keys
    assert not fields & set(load_spec("runHistory.json")["definitions"][definition]["properties"])
