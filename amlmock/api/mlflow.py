"""MLflow's REST API (``/mlflow/v2.0/<workspace>/api/2.0/mlflow/...``) over the fake's runs, as azureml-mlflow routes it.

Requests become domain values (``backend.tracking``), answers MLflow's JSON, errors MLflow's envelope
``{"error_code": ..., "message": ...}`` (``RESOURCE_DOES_NOT_EXIST``, ``INVALID_PARAMETER_VALUE``, ...).
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from ..backend import mlflow_messages as messages
from ..backend import paging
from ..backend.errors import ConflictError, NotFoundError, NotImplementedByFake, ServiceError, ValidationError
from ..backend.models import Experiment, Run, Workspace, new_id
from ..backend.run_filter import parse_filter, parse_order_by
from ..backend.tracking import MetricPoint, RunSearch, TrackingBatch
from ..backend.values import PageRequest
from .app import WORKSPACE_PATH, Call, JsonReply, Router, json_response
from .mlflow_wire import experiment_json, metric_json, run_info_json, run_json

router = Router()
log = logging.getLogger("amlmock")

API = "/mlflow/v2.0" + WORKSPACE_PATH + "/api/2.0"
MLFLOW = API + "/mlflow"
DEFAULT_SEARCH_RESULTS = 1000
# MLflow's error codes and their HTTP statuses (mlflow.protos.databricks_pb2, mlflow.exceptions).
STATUS_OF_CODE = {"ENDPOINT_NOT_FOUND": 404, "RESOURCE_DOES_NOT_EXIST": 404, "RESOURCE_ALREADY_EXISTS": 400, "INVALID_PARAMETER_VALUE": 400}


def mlflow_error(error: ServiceError) -> JsonReply:
    """A backend error as MLflow's error envelope (any other refusal is a bad value)."""
    if isinstance(error, NotImplementedByFake):
        code = "ENDPOINT_NOT_FOUND"
    elif isinstance(error, NotFoundError):
        code = "RESOURCE_DOES_NOT_EXIST"
    elif isinstance(error, ConflictError):
        code = "RESOURCE_ALREADY_EXISTS"
    else:
        code = "INVALID_PARAMETER_VALUE"
    return json_response({"error_code": code, "message": error.message}, STATUS_OF_CODE[code])


def endpoint(path: str, method: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an MLflow handler: errors in MLflow's shape, the workspace from the path."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def wrapper(call: Call, **names: str) -> Any:
            try:
                workspace = call.path_workspace(names)
                return handler(_Request(call, workspace))
            except ServiceError as error:
                return mlflow_error(error)

        return router.route(path, method)(wrapper)

    return register


class _Request:
    """One MLflow request: its fields (JSON body, or query string for GETs) and its workspace."""

    def __init__(self, call: Call, workspace: Workspace) -> None:
        self.call = call
        self.backend = call.backend
        self.workspace = workspace
        self.fields: dict[str, Any] = (
            dict(call.request.args) if call.request.method == "GET" else call.json_object()
        )

    def text(self, key: str, required: bool = True) -> Any:
        """A string field (None when absent and not required)."""
        value = self.fields.get(key)
        if value is None and required:
            raise ValidationError(messages.missing_parameter(key), target=key)
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"Invalid value {value!r} for parameter '{key}' supplied: it must be a string", target=key)
        return value

    def integer(self, key: str, default: int) -> int:
        """An integer field (proto JSON may send it as a string)."""
        value = self.fields.get(key, default)
        try:
            if isinstance(value, bool):
                raise TypeError(value)
            return int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"Invalid value {value!r} for parameter '{key}' supplied: it must be an integer", target=key) from None

    def run(self) -> Run:
        """The run named by ``run_id`` (or the older ``run_uuid``)."""
        run_id = self.fields.get("run_id") or self.fields.get("run_uuid")
        if not isinstance(run_id, str) or not run_id:
            raise ValidationError(messages.missing_parameter("run_id"), target="run_id")
        try:
            return self.backend.get_run(self.workspace, run_id)
        except NotFoundError:
            raise NotFoundError(f"Run with id={run_id} not found", target="run_id") from None

    def experiment(self, experiment_id: Any) -> Experiment:
        """The experiment with this id, in MLflow's words when it is missing."""
        try:
            return self.backend.get_experiment_by_id(self.workspace, str(experiment_id))
        except NotFoundError:
            raise NotFoundError(messages.no_mlflow_experiment(experiment_id), target="experiment_id") from None

    def pairs(self, key: str, items: Any = None) -> list[tuple[str, str]]:
        """A list of ``{key, value}`` objects (params, tags) as pairs; ``items`` instead of the field when given."""
        items = self.fields.get(key) if items is None else items
        if items is None:
            return []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValidationError(f"Invalid value for parameter '{key}' supplied: a list of key-value objects", target=key)
        return [(i.get("key"), i.get("value")) for i in items]

    def answer(self, run: Run) -> dict[str, Any]:
        """``{"run": ...}``, the answer of ``runs/create`` and ``runs/get``."""
        return {"run": run_json(self, run)}


def _int64(value: Any) -> Any:
    """Proto JSON writes 64-bit integers as strings."""
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value


def _point(fields: dict[str, Any]) -> MetricPoint:
    value = fields.get("value")
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        value = float(value)
    timestamp, step = _int64(fields.get("timestamp")), _int64(fields.get("step", 0))
    if value is None or timestamp is None:
        missing = "value" if value is None else "timestamp"
        raise ValidationError(messages.missing_parameter(missing), target=missing)
    key: Any = fields.get("key")  # the backend's MLflow key rule checks it
    return MetricPoint(key, value, timestamp, step)


# ---------------------------------------------------------------- experiments
@endpoint(MLFLOW + "/experiments/get-by-name", "GET")
def get_experiment_by_name(req: _Request) -> dict[str, Any]:
    name = req.text("experiment_name")
    try:
        experiment = req.backend.get_experiment(req.workspace, name)
    except NotFoundError:
        raise NotFoundError(f"Could not find experiment with name {name}", target="experiment_name") from None
    return {"experiment": experiment_json(experiment)}


@endpoint(MLFLOW + "/experiments/get", "GET")
def get_experiment(req: _Request) -> dict[str, Any]:
    return {"experiment": experiment_json(req.experiment(req.text("experiment_id")))}


@endpoint(MLFLOW + "/experiments/create", "POST")
def create_experiment(req: _Request) -> dict[str, Any]:
    name = req.text("name")
    try:
        req.backend.get_experiment(req.workspace, name)
    except NotFoundError:
        pass
    else:
        raise ConflictError(f"Experiment '{name}' already exists.", target="name")
    experiment = req.backend.create_experiment(req.workspace, name)
    tags = dict(req.pairs("tags"))
    if tags:
        req.backend.update_experiment(experiment, tags=tags)
    return {"experiment_id": experiment.experiment_id}


@endpoint(MLFLOW + "/experiments/search", "POST")
def search_experiments(req: _Request) -> dict[str, Any]:
    if req.fields.get("filter"):
        raise NotImplementedByFake("amlmock does not implement filters of experiment searches", target="filter")
    page = req.backend.query_experiments(req.workspace, "All", PageRequest())
    return {"experiments": [experiment_json(e) for e in page.items]}


# ----------------------------------------------------------------------- runs
@endpoint(MLFLOW + "/runs/create", "POST")
def create_run(req: _Request) -> dict[str, Any]:
    experiment = req.experiment(req.text("experiment_id"))
    run = req.backend.create_tracking_run(req.workspace, experiment, req.text("run_name", required=False), req.pairs("tags"))
    return req.answer(run)


@endpoint(MLFLOW + "/runs/get", "GET")
def get_run(req: _Request) -> dict[str, Any]:
    return req.answer(req.run())


@endpoint(MLFLOW + "/runs/update", "POST")
def update_run(req: _Request) -> dict[str, Any]:
    run = req.backend.update_tracking_run(req.run(), req.text("status", required=False), req.text("run_name", required=False))
    return {"run_info": run_info_json(req, run)}


@endpoint(MLFLOW + "/runs/delete", "POST")
def delete_run(req: _Request) -> dict[str, Any]:
    req.backend.set_run_deleted(req.run(), True)
    return {}


@endpoint(MLFLOW + "/runs/restore", "POST")
def restore_run(req: _Request) -> dict[str, Any]:
    req.backend.set_run_deleted(req.run(), False)
    return {}


def _log(req: _Request, batch: TrackingBatch) -> dict[str, Any]:
    req.backend.log_tracking_batch(req.workspace, req.run(), batch)
    return {}


@endpoint(MLFLOW + "/runs/log-metric", "POST")
def log_metric(req: _Request) -> dict[str, Any]:
    return _log(req, TrackingBatch(metrics=[_point(req.fields)]))


@endpoint(MLFLOW + "/runs/log-parameter", "POST")
def log_parameter(req: _Request) -> dict[str, Any]:
    return _log(req, TrackingBatch(params=req.pairs("params", [req.fields])))


@endpoint(MLFLOW + "/runs/set-tag", "POST")
def set_tag(req: _Request) -> dict[str, Any]:
    return _log(req, TrackingBatch(tags=req.pairs("tags", [req.fields])))


@endpoint(MLFLOW + "/runs/delete-tag", "POST")
def delete_tag(req: _Request) -> dict[str, Any]:
    req.backend.delete_tracking_tag(req.workspace, req.run(), req.text("key"))
    return {}


def _batch(req: _Request) -> TrackingBatch:
    metrics = req.fields.get("metrics") or []
    if not isinstance(metrics, list) or not all(isinstance(m, dict) for m in metrics):
        raise ValidationError("Invalid value for parameter 'metrics' supplied: a list of metric objects", target="metrics")
    return TrackingBatch([_point(m) for m in metrics], req.pairs("params"), req.pairs("tags"))


@endpoint(MLFLOW + "/runs/log-batch", "POST")
def log_batch(req: _Request) -> dict[str, Any]:
    return _log(req, _batch(req))


@endpoint(API + "/preview/mlflow/runs/log-batch-async", "POST")
def log_batch_async(req: _Request) -> dict[str, Any]:
    """azureml-mlflow's asynchronous batch: stored at once, so its status is complete at once."""
    batch = _batch(req)
    _log(req, batch)
    return {"batch_tracking_id": new_id() if batch.metrics else ""}


@endpoint(API + "/preview/mlflow/runs/get-run-data-status", "GET")
def get_run_data_status(req: _Request) -> dict[str, Any]:
    req.run()
    return {"is_complete": True}


@endpoint(MLFLOW + "/metrics/get-history", "GET")
def get_metric_history(req: _Request) -> dict[str, Any]:
    points = req.backend.tracking_metric_history(req.run(), req.text("metric_key"))
    start = _offset(req.text("page_token", required=False))
    size = req.integer("max_results", 25000)
    page = points[start:start + size]
    body: dict[str, Any] = {"metrics": [metric_json(p) for p in page]}
    if start + size < len(points):
        body["next_page_token"] = _token(start + size)
    return body


@endpoint(MLFLOW + "/logged-models/search", "POST")
def search_logged_models(req: _Request) -> dict[str, Any]:
    """MLflow 3 looks for a run's logged models when it lists a folder; the fake keeps none."""
    for experiment_id in req.fields.get("experiment_ids") or []:
        req.experiment(experiment_id)
    return {"models": []}


@endpoint(MLFLOW + "/runs/search", "POST")
def search_runs(req: _Request) -> dict[str, Any]:
    experiment_ids = req.fields.get("experiment_ids") or []
    if not isinstance(experiment_ids, list):
        raise ValidationError("Invalid value for parameter 'experiment_ids' supplied: a list of ids", target="experiment_ids")
    order_by = req.fields.get("order_by") or []
    if not isinstance(order_by, list) or not all(isinstance(o, str) for o in order_by):
        raise ValidationError("Invalid value for parameter 'order_by' supplied: a list of strings", target="order_by")
    search = RunSearch(
        experiment_ids=[str(e) for e in experiment_ids],
        clauses=parse_filter(req.text("filter", required=False)),
        order=parse_order_by(order_by),
        view_type=req.text("run_view_type", required=False) or "ACTIVE_ONLY",
        max_results=req.integer("max_results", DEFAULT_SEARCH_RESULTS),
        offset=_offset(req.text("page_token", required=False)),
    )
    page = req.backend.search_tracking_runs(req.workspace, search)
    body: dict[str, Any] = {"runs": [run_json(req, run) for run in page.runs]}
    if page.next_offset is not None:
        body["next_page_token"] = _token(page.next_offset)
    return body


@router.route(API + "/<path:rest>", "GET", "POST", "PATCH", "PUT", "DELETE")
def not_implemented(call: Call, **names: str) -> JsonReply:
    """Any other MLflow endpoint: MLflow's ``ENDPOINT_NOT_FOUND``, with amlmock's message naming the request."""
    error = NotImplementedByFake(f"amlmock does not implement {call.request.method} {call.request.base_url}")
    log.warning("%s", error.message)
    return mlflow_error(error)


def _token(offset: int) -> str:
    return paging.encode_offset(offset)


def _offset(token: str | None) -> int:
    """A page token's offset, refused in MLflow's words."""
    try:
        return paging.decode_offset(token)
    except paging.InvalidTokenError:
        raise ValidationError(f"Invalid page token {token!r}", target="page_token") from None
