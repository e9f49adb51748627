"""The validating layer (``--aml-validate``): its rules, the SDK-derived schemas, and the layer in a pytest run.

``tests/test_contract.py`` checks the seed walkthrough against the REST specs; the tests here need
no spec files (they use the SDK's models and hand-made contracts), except the representative run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azureml.core import Experiment
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from amlmock import AmlMock
from amlmock.api import ROUTES
from amlmock.fidelity.conformance import Checker, Contracts, load_contracts, validating
from amlmock.fidelity.contracts import Contract, template_pattern
from amlmock.fidelity.sdk import ModelSchemas, sdk_error_definitions, sdk_operations
from amlmock.fidelity.specs import specs_available

REPO = Path(__file__).resolve().parents[1]
THING = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "size": {"type": "integer"}},
    "required": ["id"],
    "additionalProperties": False,
}
# A representative part of the suite: the seed walkthrough (when the specs are there), runs,
# children, metrics, properties and tags, queries, and one submitted local run (loopback traffic).
REPRESENTATIVE = (
    "tests/test_contract.py",
    "tests/test_runs.py",
    "tests/test_children.py",
    "tests/test_metrics.py",
    "tests/test_properties_tags.py",
    "tests/test_queries.py",
    "tests/test_local_runs.py::test_submit_and_wait_streams_the_log",
)


# --------------------------------------------------------------------------- the checker's rules
def thing_contract(source: str = "test.json", **overrides: Any) -> Contract:
    fields: dict[str, Any] = {
        "source": source,
        "method": "POST",
        "template": "/things/{id}",
        "pattern": template_pattern("/things/{id}"),
        "request": THING,
        "responses": {"200": THING, "204": None},
        "definitions": {},
    }
    return Contract(**{**fields, **overrides})


def check(contract: Contract | None, body: Any, status: int, answer: Any, path: str = "/things/1", strict: bool = False) -> list[str]:
    contracts = Contracts(() if contract is None else (contract,), sdk_error_definitions())
    checker = Checker(contracts, ROUTES.url_map, strict_requests=strict)
    request = Request(EnvironBuilder(method="POST", path=path, data=json.dumps(body), content_type="application/json").get_environ())
    checker.check(request, Response(json.dumps(answer), status=status, mimetype="application/json"))
    return checker.report.mismatches


def test_a_conforming_exchange_passes() -> None:
    assert check(thing_contract(), {"id": "1"}, 200, {"id": "1", "size": 3, "note": None}) == []
    assert check(thing_contract(), {"id": "1"}, 204, None) == []


def test_a_response_of_the_wrong_shape_is_a_mismatch() -> None:
    problems = check(thing_contract(), {"id": "1"}, 200, {"id": "1", "size": "3", "sise": 3})
    assert [p.split(": ", 1)[1] for p in problems] == [
        "$: Additional properties are not allowed ('sise' was unexpected)",
        "$.size: '3' is not of type 'integer'",
    ]
    assert problems[0].startswith("POST /things/1 -> 200")


def test_a_success_status_the_contract_does_not_declare_is_a_mismatch() -> None:
    assert check(thing_contract(), {"id": "1"}, 201, {"id": "1"}) == ["POST /things/1 -> 201: status 201 is not declared by test.json"]


def test_the_fake_must_refuse_what_the_contract_refuses() -> None:
    accepted = check(thing_contract(), {"size": 3}, 200, {"id": "1"})
    assert accepted == ["POST /things/1 -> 200: the fake accepted a request body that test.json refuses: $: 'id' is a required property"]
    assert check(thing_contract(), {"size": 3}, 400, {"error": {"code": "ValidationError", "message": "no id"}}) == []


def test_a_batch_answered_item_by_item_may_refuse_items() -> None:
    batch = thing_contract(responses={"200": {}, "207": {}})
    assert check(batch, {"size": 3}, 207, {"errors": [{"metric": "m"}]}) == []
    assert check(batch, {"size": 3}, 200, {"runs": {}, "errors": {"r1": {}}}) == []
    assert check(batch, {"size": 3}, 200, {"runs": {}, "errors": {}}) != []


def test_undeclared_request_fields_count_only_when_strict() -> None:
    body = {"id": "1", "extra": True}
    assert check(thing_contract(), body, 200, {"id": "1"}) == []
    [problem] = check(thing_contract(), body, 200, {"id": "1"}, strict=True)
    assert problem.endswith("refuses: $: Additional properties are not allowed ('extra' was unexpected)")


def test_errors_are_checked_against_the_error_envelope() -> None:
    envelope = {"error": {"code": "UserError", "message": "gone", "details": []}, "componentName": "amlmock"}
    assert check(None, {}, 404, envelope, path="/not/described") == []
    assert check(thing_contract(), {"id": "1"}, 404, envelope) == []
    assert check(None, {}, 404, {"error": "gone"}, path="/not/described") == [
        "POST /not/described -> 404: $.error: 'gone' is not of type 'object'"
    ]


def test_a_known_divergence_is_listed_not_failed() -> None:
    contracts = Contracts((thing_contract("SDK WorkspacesOperations.get"),), sdk_error_definitions())
    checker = Checker(contracts, ROUTES.url_map)
    request = Request(EnvironBuilder(method="POST", path="/things/1").get_environ())
    checker.check(request, Response(json.dumps({"error": "gone"}), status=404, mimetype="application/json"))
    assert checker.report.mismatches == []
    assert [known.split(":")[0] for known in checker.report.known] == ["POST /things/{id} -> 404"]


def test_a_failing_checker_reports_instead_of_raising() -> None:
    broken = thing_contract(responses={"200": {"$ref": "#/definitions/Missing"}})
    [problem] = check(broken, {"id": "1"}, 200, {"id": "1"})
    assert "the conformance checker failed" in problem


def test_validating_restores_the_app_even_when_nested() -> None:
    aml = AmlMock()
    outer, inner = (Checker(load_contracts(use_specs=False), aml.app.routes.url_map) for _ in range(2))
    with validating(aml.app, outer):
        wrapped = aml.app.handle
        with validating(aml.app, inner):
            assert aml.app.handle is not wrapped
        assert aml.app.handle is wrapped
    assert "handle" not in vars(aml.app)


# --------------------------------------------------------------------------- the SDK's operations and models
def test_sdk_operations_are_read_from_the_msrest_classes() -> None:
    operations = {operation.qualname: operation for operation in sdk_operations()}
    post = operations["MetricOperations.post_run_metrics"]
    assert (post.method, post.body_type, post.error_type) == ("POST", "BatchMetricV2Dto", "ErrorResponse")
    assert post.template.endswith("/runs/{runId}/batch")
    assert post.response_types == {"200": None, "207": "PostRunMetricsResultDto"}
    assert operations["RunOperations.delete_tags"].body_type == "[str]"
    assert operations["ArtifactOperations.get_content_information"].unquoted == {"path"}


def test_model_schemas_follow_the_attribute_maps() -> None:
    schemas = ModelSchemas()
    assert schemas.schema("[BatchMetricV2Dto]") == {"type": "array", "items": {"$ref": "#/definitions/BatchMetricV2Dto"}}
    definitions = schemas.definitions
    assert definitions["BatchMetricV2Dto"]["properties"]["values"]["items"] == {"$ref": "#/definitions/MetricV2Dto"}
    assert definitions["MetricV2Value"]["properties"]["data"] == {"type": "object", "additionalProperties": {}}
    assert definitions["MetricV2Value"]["properties"]["createdUtc"] == {"type": "string", "format": "date-time"}
    assert definitions["MetricV2Dto"]["additionalProperties"] is False
    schemas.schema("Workspace")  # flattened keys: properties.workspaceId is a nested object
    workspace_properties = definitions["Workspace"]["properties"]["properties"]
    assert workspace_properties["properties"]["workspaceId"] == {"type": "string"}
    assert definitions["Identity"]["properties"]["type"] == {"type": "string"}  # an enum
    schemas.schema("ErrorDetail")
    assert definitions["ErrorDetail"]["required"] == ["code", "message"]


def test_the_sdk_models_alone_validate_the_newer_routes(aml: AmlMock) -> None:
    checker = Checker(load_contracts(use_specs=False), aml.app.routes.url_map)
    with validating(aml.app, checker) as report:
        with Experiment(aml.workspace(), "sdk-models").start_logging(snapshot_directory=None) as run:
            run.log("loss", 0.5)
            run.log_row("table", epoch=1, loss=0.5)
        assert run.get_metrics() == {"loss": 0.5, "table": {"epoch": 1, "loss": 0.5}}
    assert report.mismatches == [], report.failure()
    assert {"POST /metric/v2.0{WS}/runs/{runId}/batch", "POST /metric/v2.0{WS}/runs/{runId}/full"} <= set(report.requests_checked)
    assert "PATCH /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}" in report.validated_by("SDK ")


# --------------------------------------------------------------------------- the layer in a pytest run
def test_the_layer_is_green_on_a_representative_part_of_the_suite(pytester: pytest.Pytester) -> None:
    paths = [str(REPO / path) for path in REPRESENTATIVE]
    result = pytester.runpytest_subprocess(
        *paths, "--aml-validate", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO), "-p", "no:cacheprovider", "-q"
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert outcomes["passed"] >= 50 and "failed" not in outcomes and "errors" not in outcomes
    assert ("skipped" in outcomes) == (not specs_available())  # the seed walkthrough needs the specs


BROKEN_FAKE = '''
from amlmock.api import history


def test_a_run_number_sent_as_text(aml, aml_experiment, monkeypatch):
    original = history.run_dto
    monkeypatch.setattr(history, "run_dto", lambda run: {**original(run), "runNumber": str(run.run_number)})
    aml_experiment.start_logging(snapshot_directory=None).complete()


def test_nothing_wrong(aml, aml_experiment):
    aml_experiment.start_logging(snapshot_directory=None).complete()
'''


def test_the_layer_fails_a_test_whose_traffic_breaks_a_contract(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_broken=BROKEN_FAKE)
    monkeypatch.setenv("AMLMOCK_VALIDATE", "1")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_run_number_sent_as_text*",
            "*--aml-validate: * exchanges break their contract:",
            "*PATCH /history/v1.0{WS}/experiments/test_a_run_number_sent_as_text/runs/* -> 200: $.runNumber: '1' is not of type 'integer'",
        ]
    )


def test_validation_is_off_by_default(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMLMOCK_VALIDATE", raising=False)
    pytester.makepyfile(test_broken=BROKEN_FAKE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
