"""Run queries: the OData filters the SDK sends, newest first, across pages."""

from __future__ import annotations

import pytest
from azureml._restclient.models.error_response import ErrorResponseException
from azureml.core import Run

from tests.helpers import raw
from amlmock.backend.values import RunFields


@pytest.fixture
def seed_runs(aml_experiment):
    """The seed's runs: one fantastic, one great, one untagged; plus a tagged child."""
    fantastic = aml_experiment.start_logging(snapshot_directory=None)
    fantastic.add_properties({"author": "azureml-user"})
    fantastic.tag("quality", "fantastic run")
    fantastic.tag("worth another look")
    great = aml_experiment.start_logging(snapshot_directory=None)
    great.add_properties({"author": "azureml-user"})
    great.tag("quality", "great run")
    other = aml_experiment.start_logging(snapshot_directory=None)
    other.add_properties({"author": "someone-else"})
    child = great.child_run()
    child.tag("quality", "great run")
    child.complete()
    fantastic.complete()
    great.complete()
    other.fail()
    return {"fantastic": fantastic, "great": great, "other": other, "child": child}


def ids(runs):
    return [run.id for run in runs]


def test_the_seed_queries(aml_experiment, seed_runs):
    fantastic = seed_runs["fantastic"].id
    assert ids(aml_experiment.get_runs(properties={"author": "azureml-user"}, tags={"quality": "fantastic run"})) == [fantastic]
    assert ids(aml_experiment.get_runs(properties={"author": "azureml-user"}, tags="worth another look")) == [fantastic]


def test_newest_first_and_top_level_only_by_default(aml_experiment, seed_runs):
    expected = [seed_runs[name].id for name in ("other", "great", "fantastic")]
    assert ids(aml_experiment.get_runs()) == expected


def test_include_children(aml_experiment, seed_runs):
    found = ids(aml_experiment.get_runs(tags={"quality": "great run"}, include_children=True))
    assert found == [seed_runs["child"].id, seed_runs["great"].id]


def test_status_and_type_filters(aml_experiment, seed_runs):
    assert ids(Run.list(aml_experiment, status="Failed")) == [seed_runs["other"].id]
    assert len(list(Run.list(aml_experiment, status="Completed"))) == 2
    assert ids(aml_experiment.get_runs(type="azureml.scriptrun")) == []


def test_null_tag_value_filter(aml_experiment, seed_runs):
    assert ids(aml_experiment.get_runs(tags={"worth another look": None})) == [seed_runs["fantastic"].id]


def test_values_with_quotes_and_dots(aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.tag("odd.key", 'say "hi" (twice)')
    run.complete()
    assert ids(aml_experiment.get_runs(tags={"odd.key": 'say "hi" (twice)'})) == [run.id]
    assert ids(aml_experiment.get_runs(tags={"odd.key": "say"})) == []


def test_more_runs_than_one_page_come_back_complete(aml, aml_experiment):
    workspace = aml.create_workspace()
    experiment = aml.backend.get_experiment(workspace, aml_experiment.name)
    for number in range(1234):
        run_id = f"seeded_{number}"
        aml.backend.create_or_update_run(workspace, experiment, run_id, RunFields(tags={"batch": "yes"}))
    found = ids(aml_experiment.get_runs(tags={"batch": "yes"}))
    assert len(found) == 1234
    assert len(set(found)) == 1234
    assert found[0] == "seeded_1233"


def query_url(aml, experiment):
    return f"https://eastus.api.azureml.ms/history/v1.0{aml.create_workspace().arm_id}/experiments/{experiment}/runs:query"


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"filter": "Tags/a lt"}, "expected '<field> eq|ne|gt|ge|lt|le <value>'"),
        ({"filter": "Tags/a eq "}, "missing value"),
        ({"filter": "(Tags/a eq \"x\""}, "missing ')'"),
        ({"filter": "Colour eq red"}, "unsupported field 'Colour'"),
        ({"filter": "Tags/a eq 'x'"}, None),
        ({"filter": "Status eq Completed xor Status eq Failed"}, "unexpected text"),
        ({"orderby": "Colour desc"}, "cannot order by"),
        ({"top": 0}, "top must be a positive integer"),
        ({"continuationToken": "not-a-token"}, "continuation token"),
    ],
)
def test_unknown_filter_syntax_is_a_clear_400(aml, aml_experiment, body, fragment):
    response = raw("POST", query_url(aml, aml_experiment.name), json=body)
    if fragment is None:  # single-quoted literals are read as bare text: no error, no match
        assert response.status_code == 200 and response.json()["value"] == []
        return
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ValidationError"
    assert fragment in error["message"]


@pytest.mark.aml_fake_only  # amlmock's own filter error text
def test_the_sdk_surfaces_query_errors(aml_experiment):
    with pytest.raises(ErrorResponseException) as caught:
        list(Run.list(aml_experiment, status="Running )"))
    assert caught.value.response.status_code == 400
    assert "unexpected text" in str(caught.value)


def test_run_number_compares_as_a_number(aml, aml_experiment):
    runs = [aml_experiment.start_logging(snapshot_directory=None) for _ in range(12)]
    response = raw("POST", query_url(aml, aml_experiment.name), json={"filter": "RunNumber gt 9"})
    assert sorted(r["runNumber"] for r in response.json()["value"]) == [10, 11, 12]
    bad = raw("POST", query_url(aml, aml_experiment.name), json={"filter": "RunNumber gt nine"})
    assert bad.status_code == 400 and "as a number" in bad.json()["error"]["message"]
    for run in runs:
        run.complete()


def test_the_clis_empty_tag_filter_is_accepted(aml, aml_experiment, seed_runs):
    response = raw("POST", query_url(aml, aml_experiment.name), json={"filter": "((ParentRunId eq null) and )"})
    assert response.status_code == 200
    assert len(response.json()["value"]) == 3
