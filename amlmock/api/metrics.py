"""Metrics v2: batch upload, metric names, metric values."""

from __future__ import annotations

from typing import Any

from ..backend.errors import ValidationError
from ..backend.models import Run
from .app import WORKSPACE_PATH, Call, JsonReply, Router, json_response
from .wire import error_body, metric_dto

router = Router()

RUN = "/metric/v2.0" + WORKSPACE_PATH + "/runs/<run_id>"
VALUES_PER_PAGE = 1000


def _run(call: Call, names: dict[str, str]) -> Run:
    workspace = call.workspace(names["subscription_id"], names["resource_group"], names["workspace_name"])
    return call.backend.get_run(workspace, names["run_id"])


def _offset(token: Any) -> int:
    if token in (None, ""):
        return 0
    try:
        offset = int(token)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"The continuation token {token!r} is invalid", target="continuationToken") from None
    if offset < 0:
        raise ValidationError(f"The continuation token {token!r} is invalid", target="continuationToken")
    return offset


@router.route(RUN + "/batch", "POST")
def post_metrics(call: Call, **names: str) -> JsonReply:
    """M1: 200 when all were stored, 207 with one error per refused metric otherwise."""
    run = _run(call, names)
    errors = call.backend.post_metrics(run, call.json_object().get("values"))
    if not errors:
        return json_response({})
    body = {
        "errors": [{"metric": {"name": e.name}, "errorResponse": error_body(e.error)} for e in errors]
    }
    return json_response(body, 207)


@router.route(RUN + "/list", "POST")
def list_metrics(call: Call, **names: str) -> dict[str, Any]:
    """M2: the run's metric names, in the order they were first logged."""
    run = _run(call, names)
    return {
        "value": [
            {"metricKey": {"namespace": None, "name": series.name}, "columns": dict(series.columns)}
            for series in run.metrics.values()
        ],
        "continuationToken": None,
    }


@router.route(RUN + "/full", "POST")
def get_metric(call: Call, **names: str) -> dict[str, Any]:
    """M3: one metric's values, in logging order, one page at a time."""
    run = _run(call, names)
    body = call.json_object()
    series = call.backend.get_metric(run, body.get("metricName"))
    start = _offset(body.get("continuationToken"))
    end = start + VALUES_PER_PAGE
    token = str(end) if end < len(series) else None
    return metric_dto(series, series.read(start, end), token)
