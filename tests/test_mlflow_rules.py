"""MLflow's rules and error codes, and its search grammar, through the real MLflow client."""

from __future__ import annotations

import re

import pytest

mlflow = pytest.importorskip("mlflow", reason="the MLflow tests need the 'mlflow' extra (azureml-mlflow, mlflow-skinny)")
pytest.importorskip("azureml.mlflow", reason="the MLflow tests need the 'mlflow' extra (azureml-mlflow, mlflow-skinny)")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

from tests.helpers import raw  # noqa: E402

pytestmark = pytest.mark.aml_fake_only


@pytest.fixture
def client(aml):
    return MlflowClient()


@pytest.fixture
def experiment_id(client, request):
    return client.create_experiment(re.sub(r"\W", "_", request.node.name)[:60])


def error_of(action):
    with pytest.raises(MlflowException) as caught:
        action()
    return caught.value.error_code, caught.value.get_http_status_code()


def api_url(aml, action):
    scope = aml.create_workspace().arm_id
    return f"https://eastus.api.azureml.ms/mlflow/v2.0{scope}/api/2.0/mlflow/{action}"


def test_params_are_immutable(client, experiment_id, aml):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "lr", "0.1")
    client.log_param(run_id, "lr", "0.1")  # the same value again is fine
    assert error_of(lambda: client.log_param(run_id, "lr", "0.2")) == ("INVALID_PARAMETER_VALUE", 400)
    assert aml.params(run_id) == {"lr": "0.1"}


def test_a_refused_batch_stores_nothing(client, experiment_id, aml):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "lr", "0.1")
    batch = dict(metrics=[Metric("loss", 1.0, 0, 0)], params=[Param("lr", "0.5")], tags=[RunTag("t", "v")])
    assert error_of(lambda: client.log_batch(run_id, **batch)) == ("INVALID_PARAMETER_VALUE", 400)
    assert aml.metrics(run_id) == {} and "t" not in aml.run(run_id).tags


@pytest.mark.parametrize(
    "log",
    [
        lambda c, r: c.log_param(r, "k" * 251, "v"),
        lambda c, r: c.log_param(r, "k", "v" * 6001),
        lambda c, r: c.set_tag(r, "k", "v" * 8001),
        lambda c, r: c.log_metric(r, "k" * 251, 1.0),
    ],
    ids=["param key", "param value", "tag value", "metric key"],
)
def test_key_and_value_limits(client, experiment_id, log):
    run_id = client.create_run(experiment_id).info.run_id
    assert error_of(lambda: log(client, run_id)) == ("INVALID_PARAMETER_VALUE", 400)


@pytest.mark.parametrize(
    ("field", "count"), [("metrics", 1001), ("params", 101), ("tags", 101)]
)
def test_batch_limits(aml, client, experiment_id, field, count):
    run_id = client.create_run(experiment_id).info.run_id
    item = {"metrics": {"value": 1.0, "timestamp": 0, "step": 0}, "params": {"value": "v"}, "tags": {"value": "v"}}[field]
    body = {"run_id": run_id, field: [{"key": f"k{i}", **item} for i in range(count)]}
    reply = raw("POST", api_url(aml, "runs/log-batch"), json=body)
    assert reply.status_code == 400
    assert reply.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert f"at most {count - 1} {field}" in reply.json()["message"]


def test_missing_things_are_resource_does_not_exist(client, aml):
    assert error_of(lambda: client.get_run("no-such-run")) == ("RESOURCE_DOES_NOT_EXIST", 404)
    assert error_of(lambda: client.get_experiment("no-such-experiment")) == ("RESOURCE_DOES_NOT_EXIST", 404)
    assert client.get_experiment_by_name("no-such-experiment") is None
    reply = raw("GET", api_url(aml, "runs/get"), params={"run_id": "no-such-run"})
    assert reply.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run with id=no-such-run not found"}


def test_experiment_names_are_unique(client, experiment_id):
    name = client.get_experiment(experiment_id).name
    assert error_of(lambda: client.create_experiment(name)) == ("RESOURCE_ALREADY_EXISTS", 400)


def test_deleted_runs_are_hidden_and_refuse_logging(client, experiment_id):
    kept, deleted = (client.create_run(experiment_id).info.run_id for _ in range(2))
    client.delete_run(deleted)
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [kept]
    assert {r.info.run_id for r in client.search_runs([experiment_id], run_view_type=3)} == {kept, deleted}
    assert [r.info.run_id for r in client.search_runs([experiment_id], run_view_type=2)] == [deleted]
    assert client.get_run(deleted).info.lifecycle_stage == "deleted"
    assert error_of(lambda: client.log_metric(deleted, "m", 1.0)) == ("INVALID_PARAMETER_VALUE", 400)
    client.restore_run(deleted)
    client.log_metric(deleted, "m", 1.0)
    assert client.get_run(deleted).info.lifecycle_stage == "active"


@pytest.fixture
def three_runs(client, experiment_id):
    """Three runs with metrics, params and tags to search."""
    ids = []
    for index, (loss, model, team) in enumerate([(0.9, "cnn", "vision"), (0.5, "rnn", "nlp"), (0.1, "cnn-large", "Vision")]):
        run = client.create_run(experiment_id, run_name=f"run-{index}")
        client.log_batch(run.info.run_id, metrics=[Metric("loss", loss, 0, 0)], params=[Param("model", model)], tags=[RunTag("team", team)])
        ids.append(run.info.run_id)
    client.set_terminated(ids[2], "FAILED")
    return ids


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.loss < 0.6", [1, 2]),
        ("metrics.loss >= 0.5 AND params.model = 'cnn'", [0]),
        ("params.model LIKE 'cnn%'", [0, 2]),
        ("tags.team ILIKE 'vision'", [0, 2]),
        ("tags.team = 'vision'", [0]),
        ("attributes.status = 'FAILED'", [2]),
        ("attributes.run_name IN ('run-0', 'run-1')", [0, 1]),
        ("run_name != 'run-0'", [1, 2]),
        ("params.`model` != 'rnn'", [0, 2]),
        ("metrics.missing > 0", []),
    ],
)
def test_search_filters(three_runs, experiment_id, filter_string, expected):
    found = mlflow.search_runs([experiment_id], filter_string=filter_string, output_format="list")
    assert sorted(three_runs.index(r.info.run_id) for r in found) == expected


@pytest.mark.parametrize(
    "filter_string",
    ["metrics.loss > 'x'", "metrics.loss < 1 OR params.a = 'b'", "params.model > 'a'", "nonsense.key = 'a'", "metrics.loss <"],
)
def test_bad_filters_are_invalid_parameter_value(three_runs, experiment_id, filter_string):
    assert error_of(lambda: mlflow.search_runs([experiment_id], filter_string=filter_string))[0] == "INVALID_PARAMETER_VALUE"


def test_search_order_and_pages(client, three_runs, experiment_id):
    ordered = client.search_runs([experiment_id], order_by=["metrics.loss ASC"])
    assert [three_runs.index(r.info.run_id) for r in ordered] == [2, 1, 0]
    first = client.search_runs([experiment_id], order_by=["params.model DESC"], max_results=2)
    second = client.search_runs([experiment_id], order_by=["params.model DESC"], max_results=2, page_token=first.token)
    assert [three_runs.index(r.info.run_id) for r in [*first, *second]] == [1, 2, 0]
    assert second.token is None


def test_search_runs_across_experiments(client, three_runs, experiment_id):
    other = client.create_experiment("another-experiment")
    client.create_run(other)
    found = mlflow.search_runs([experiment_id, other], filter_string="params.model = 'rnn'", output_format="list")
    assert [(r.info.run_id, r.data.metrics) for r in found] == [(three_runs[1], {"loss": 0.5})]
    assert len(client.search_runs([experiment_id, other])) == 4


def test_an_unimplemented_endpoint_is_named_in_mlflows_shape(aml):
    reply = raw("POST", api_url(aml, "runs/log-inputs"), json={"run_id": "x"})
    assert reply.status_code == 404
    assert reply.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert reply.json()["message"].startswith("amlmock does not implement POST https://eastus.api.azureml.ms/mlflow/v2.0/")


ROUTES = [
    ("POST", "runs/create"), ("GET", "runs/get"), ("POST", "runs/update"), ("POST", "runs/delete"), ("POST", "runs/restore"),
    ("POST", "runs/log-metric"), ("POST", "runs/log-parameter"), ("POST", "runs/set-tag"), ("POST", "runs/delete-tag"),
    ("POST", "runs/log-batch"), ("POST", "runs/search"), ("GET", "metrics/get-history"), ("GET", "experiments/get"),
    ("GET", "experiments/get-by-name"), ("POST", "experiments/create"), ("POST", "experiments/search"), ("POST", "logged-models/search"),
]
BAD_BODIES = [
    [1, 2], {"run_id": 7}, {"run_id": "x", "metrics": "nope"}, {"experiment_id": ["a"]}, {"filter": "x" * 6000},
    {"experiment_ids": [{}], "order_by": [3]}, {"run_id": "x", "key": None, "value": {"a": 1}}, {"max_results": "many"},
]


@pytest.mark.parametrize(("method", "action"), ROUTES)
def test_bad_input_is_a_4xx_in_mlflows_shape(aml, client, experiment_id, method, action):
    run_id = client.create_run(experiment_id).info.run_id
    for body in BAD_BODIES + [{"run_id": run_id, "experiment_id": experiment_id, "key": "k" * 300, "value": 1, "timestamp": "soon"}]:
        if method == "GET":
            reply = raw(method, api_url(aml, action), params=body if isinstance(body, dict) else {})
        else:
            reply = raw(method, api_url(aml, action), json=body)
        if reply.status_code >= 400:
            assert reply.status_code < 500 and set(reply.json()) == {"error_code", "message"}, (action, body, reply.text)
    assert client.get_run(run_id).data.metrics == {}
