"""Contract test: the fake's traffic against the official Azure ML REST schemas.

The real ``azureml-core`` SDK drives the seed walkthrough (workspace, experiment, runs, logging,
tags, properties, children, failures, listings, details) through ``mock_aml()``, while every
request the WSGI app answers is checked by ``amlmock.fidelity.conformance``:

* each **response** whose route is in one of the published swagger 2.0 specs (``runHistory.json``,
  ``artifact.json``, ``execution.json``, api version 2019-09-30, read at test time from
  ``shared/reference/specs`` next to the repository; see ``SOURCES.md`` there) is validated
  against that operation's response schema for the returned status code (errors against its
  ``default`` schema, ``ErrorResponse``; errors on other routes against the same envelope);
* each **request body** the SDK sends to such a route is validated against the operation's body
  parameter; a body the spec refuses must be refused by the fake as well;
* routes the 2019 specs do not have (metrics v2.0, the SDK's artifact v2.0 layout,
  ``experimentids/.../runs``, workspace-level runs, ARM) are validated against schemas derived
  from the SDK's own msrest models (``amlmock.fidelity.sdk``); the rest (blob storage, discovery,
  content snapshots) is listed, not validated.

Why: the SDK only reads the fields it needs, so the SDK-level tests cannot notice a field with the
wrong name, type or shape. This test can. The schema adjustments (closed objects, nulls dropped,
fields newer than the specs) are explained in ``amlmock/fidelity/specs.py``. See the coverage with
``pytest tests/test_contract.py -rP``; the same checks run over any test with ``--aml-validate``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amlmock.fidelity.specs import FIELDS_NEWER_THAN_THE_SPECS, closed_definitions, load_spec, specs_available, specs_dir

if not specs_available():
    pytest.skip(f"the REST specs are not available in {specs_dir()} (set AMLMOCK_SPECS_DIR)", allow_module_level=True)

from azureml._restclient.exceptions import ServiceException  # noqa: E402
from azureml.core import Experiment, Run  # noqa: E402

from amlmock import AmlMock  # noqa: E402
from amlmock.fidelity.conformance import Checker, load_contracts, validating  # noqa: E402
from amlmock.fidelity.contracts import template_pattern, validator_for, without_nulls  # noqa: E402

from .helpers import RH, raw, workspace_path  # noqa: E402

EXPERIMENT = "contract"

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
# Spec operations whose request bodies (sent by the SDK) the walkthrough validates.
EXPECTED_REQUESTS = {
    "PATCH /history/v1.0{WS}/experimentids/{experimentId}",
    "POST /history/v1.0{WS}/experiments:query",
    "PATCH /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}",
    "POST /history/v1.0{WS}/experiments/{experimentName}/runs:query",
    "PATCH /history/v1.0{WS}/experiments/{experimentName}/batch/runs",
    "POST /history/v1.0{WS}/experiments/{experimentName}/batch/events",
    "POST /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}/events",
    "DELETE /history/v1.0{WS}/experiments/{experimentName}/runs/{runId}/tags",
}
# Newer routes validated against schemas derived from the SDK's msrest models.
EXPECTED_SDK_DERIVED = {
    "POST /metric/v2.0{WS}/runs/{runId}/batch",
    "POST /metric/v2.0{WS}/runs/{runId}/list",
    "POST /metric/v2.0{WS}/runs/{runId}/full",
    "POST /artifact/v2.0{WS}/artifacts/batch/metadata/{origin}/{container}",
    "GET /history/v1.0{WS}/experimentids/{experimentId}/runs/{runId}",
    "GET {WS}",
}


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


# --------------------------------------------------------------------------- the test
def test_requests_and_responses_match_the_contracts(aml: AmlMock) -> None:
    checker = Checker(load_contracts(), aml.app.routes.url_map, strict_requests=True)
    with validating(aml.app, checker) as report:
        drive_seed_walkthrough(aml)
        aml.flush()
    print(report.summary())

    assert not report.mismatches, report.failure() + "\n\n" + report.summary()
    missing = EXPECTED_OPERATIONS - report.validated_by(("runHistory.json", "artifact.json"))
    assert not missing, "spec operations the walkthrough did not reach:\n" + "\n".join(sorted(missing))
    assert EXPECTED_REQUESTS <= set(report.requests_checked), "request bodies not validated"
    assert EXPECTED_SDK_DERIVED <= report.validated_by("SDK ")


def test_path_templates_match_one_segment_per_parameter() -> None:
    pattern = template_pattern("/experiments/{experimentName}/runs/{runId}")
    assert pattern.match("/experiments/e1/runs/r1")
    assert not pattern.match("/experiments/e1/runs/r1/details")
    assert not pattern.match("/experiments/e1/runs:query")
    assert not pattern.match("/experiments/e/x/runs/r1")
    assert template_pattern("/content/{origin}/{path}", multi_segment={"path"}).match("/content/o/a/b.txt")


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
