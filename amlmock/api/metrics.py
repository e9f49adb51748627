"""Metrics v2: batch upload, metric names, metric values."""

from __future__ import annotations

from typing import Any

from . import parse
from .app import WORKSPACE_PATH, Call, JsonReply, Router, json_response
from .wire import error_body, metric_dto

router = Router()

RUN = "/metric/v2.0" + WORKSPACE_PATH + "/runs/<run_id>"


@router.route(RUN + "/batch", "POST")
def post_metrics(call: Call, **names: str) -> JsonReply:
    """M1: 200 when all were stored, 207 with one error per refused metric otherwise."""
    _, run = call.path_run(names)
    batch, refused = parse.metric_batch(call.json_object().get("values"))
    errors = sorted(refused + call.backend.post_metrics(run, batch), key=lambda e: e.position)
    if not errors:
        return json_response({})
    body = {
        "errors": [{"metric": {"name": e.name}, "errorResponse": error_body(e.error)} for e in errors]
    }
    return json_response(body, 207)


@router.route(RUN + "/list", "POST")
def list_metrics(call: Call, **names: str) -> dict[str, Any]:
    """M2: the run's metric names, in the order they were first logged."""
    _, run = call.path_run(names)
    return {
        "value": [
            {"metricKey": {"namespace": None, "name": series.name}, "columns": dict(series.columns)}
            for series in call.backend.list_metrics(run)
        ],
        "continuationToken": None,
    }


@router.route(RUN + "/full", "POST")
def get_metric(call: Call, **names: str) -> dict[str, Any]:
    """M3: one metric's values, in logging order, one page at a time."""
    _, run = call.path_run(names)
    body = call.json_object()
    name = parse.required_text(body, "metricName")
    page = call.backend.metric_page(run, name, parse.text(body, "continuationToken"))
    return metric_dto(page.series, page.values, page.continuation_token)
