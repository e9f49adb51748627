"""Run history: experiments, runs, status events, children and queries."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from ..backend.errors import ServiceError, ValidationError
from ..backend.models import Experiment, Run, Workspace
from ..backend.service import Page
from ..tokens import run_token
from .app import WORKSPACE_PATH, Call, Router
from .artifacts import blob_url
from .wire import error_body, experiment_dto, run_details_dto, run_dto, timestamp

router = Router()

RH = "/history/v1.0" + WORKSPACE_PATH
BY_NAME = RH + "/experiments/<experiment_name>"
BY_ID = RH + "/experimentids/<experiment_id>"
LOG_PREFIX = "azureml-logs/"


def _workspace(call: Call, names: dict[str, str]) -> Workspace:
    return call.workspace(names["subscription_id"], names["resource_group"], names["workspace_name"])


def _experiment(call: Call, names: dict[str, str]) -> tuple[Workspace, Experiment]:
    """The workspace and the experiment named in the path, by name or by id."""
    workspace = _workspace(call, names)
    if "experiment_id" in names:
        return workspace, call.backend.get_experiment_by_id(workspace, names["experiment_id"])
    return workspace, call.backend.get_experiment(workspace, names["experiment_name"])


def _run(call: Call, names: dict[str, str]) -> tuple[Workspace, Run]:
    workspace, experiment = _experiment(call, names)
    return workspace, call.backend.get_run(workspace, names["run_id"], experiment)


def _page(page: Page, to_dto: Any) -> dict[str, Any]:
    return {"value": [to_dto(item) for item in page.items], "continuationToken": page.continuation_token}


def _top(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"top must be an integer, not {value!r}", target="top") from None


def _text(body: dict[str, Any], key: str) -> str | None:
    """An optional string field of a query body (filter, orderBy, viewType, continuationToken)."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{key} must be a string, not {type(value).__name__}", target=key)
    return value


# --------------------------------------------------------------------------- experiments
@router.route(BY_NAME, "GET")
def get_experiment(call: Call, **names: str) -> dict[str, Any]:
    """E1: 404 tells the SDK to create the experiment."""
    return experiment_dto(_experiment(call, names)[1])


@router.route(BY_NAME, "POST")
def create_experiment(call: Call, **names: str) -> dict[str, Any]:
    """E2."""
    workspace = _workspace(call, names)
    return experiment_dto(call.backend.create_experiment(workspace, names["experiment_name"]))


@router.route(BY_ID, "GET")
def get_experiment_by_id(call: Call, **names: str) -> dict[str, Any]:
    """E3."""
    return experiment_dto(_experiment(call, names)[1])


@router.route(BY_ID, "PATCH")
def update_experiment(call: Call, **names: str) -> dict[str, Any]:
    """E4: tags and archive."""
    _, experiment = _experiment(call, names)
    body = call.json_object()
    archive = body.get("archive")
    if archive is not None and not isinstance(archive, bool):
        raise ValidationError("archive must be true or false", target="archive")
    return experiment_dto(call.backend.update_experiment(experiment, body.get("tags"), archive))


@router.route(RH + "/experiments:query", "POST")
def query_experiments(call: Call, **names: str) -> dict[str, Any]:
    """E5: ``Experiment.list`` and ``ws.experiments``."""
    workspace = _workspace(call, names)
    body = call.json_object()
    page = call.backend.query_experiments(
        workspace,
        _text(body, "viewType") or "ActiveOnly",
        _text(body, "filter"),
        _text(body, "continuationToken"),
        _top(body.get("top")),
    )
    return _page(page, experiment_dto)


# ---------------------------------------------------------------------------------- runs
@router.route(BY_NAME + "/runs/<run_id>", "PATCH")
@router.route(BY_ID + "/runs/<run_id>", "PATCH")
def create_or_update_run(call: Call, **names: str) -> dict[str, Any]:
    """R1/R2: create a run, or merge tags and add properties."""
    workspace, experiment = _experiment(call, names)
    run = call.backend.create_or_update_run(workspace, experiment, names["run_id"], call.json_object())
    return run_dto(run)


@router.route(BY_NAME + "/runs/<run_id>", "GET")
@router.route(BY_ID + "/runs/<run_id>", "GET")
def get_run(call: Call, **names: str) -> dict[str, Any]:
    """R3."""
    return run_dto(_run(call, names)[1])


@router.route(RH + "/runs/<run_id>", "GET")
def get_run_in_workspace(call: Call, **names: str) -> dict[str, Any]:
    """R4: ``Run.get(ws, id)`` without an experiment."""
    workspace = _workspace(call, names)
    return run_dto(call.backend.get_run(workspace, names["run_id"]))


@router.route(BY_NAME + "/runs/<run_id>/details", "GET")
@router.route(BY_ID + "/runs/<run_id>/details", "GET")
def get_run_details(call: Call, **names: str) -> dict[str, Any]:
    """R5: ``logFiles`` names the run's ``azureml-logs/`` files (the SDK streams the driver log)."""
    workspace, run = _run(call, names)
    details = run_details_dto(run)
    logs = call.backend.list_artifacts(workspace, run.data_container_id, LOG_PREFIX)
    details["logFiles"] = {a.path: blob_url(call, workspace, a.container, a.path) for a in logs}
    return details


@router.route(BY_NAME + "/runs/<run_id>/tags", "DELETE")
@router.route(BY_ID + "/runs/<run_id>/tags", "DELETE")
def delete_tags(call: Call, **names: str) -> dict[str, Any]:
    """R9: the body is a JSON array of tag names."""
    workspace, experiment = _experiment(call, names)
    run = call.backend.get_run(workspace, names["run_id"], experiment)
    keys = call.json(default=[])
    if not isinstance(keys, list):
        raise ValidationError("The body must be a JSON array of tag names", target="body")
    return run_dto(call.backend.remove_tags(experiment, run, keys))


@router.route(BY_NAME + "/runs/<run_id>/events", "POST")
@router.route(BY_ID + "/runs/<run_id>/events", "POST")
def post_event(call: Call, **names: str) -> dict[str, Any]:
    """R10: status events drive the state machine."""
    _, run = _run(call, names)
    body = call.json_object()
    call.backend.post_event(run, body.get("name"), body.get("data"))
    return {}


@router.route(BY_NAME + "/batch/events", "POST")
@router.route(BY_ID + "/batch/events", "POST")
def post_events(call: Call, **names: str) -> dict[str, Any]:
    """R11: ``errors`` lists the events refused, one by one."""
    workspace, experiment = _experiment(call, names)
    events = call.json_object().get("events") or []
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        raise ValidationError("events must be a list of event objects", target="events")
    errors = []
    for event in events:
        try:
            data = event.get("data") or {}
            if not isinstance(data, dict):
                raise ValidationError("The event's data must be an object", target="data")
            run_id = data.get("RunId") or data.get("runId")
            if not isinstance(run_id, str):
                raise ValidationError("The event's data.RunId must name a run", target="RunId")
            run = call.backend.get_run(workspace, run_id, experiment)
            call.backend.post_event(run, event.get("name"), data)
        except ServiceError as error:
            errors.append({"key": event, "value": error_body(error)})
    return {"errors": errors}


@router.route(BY_NAME + "/batch/runs", "PATCH")
@router.route(BY_ID + "/batch/runs", "PATCH")
def create_runs(call: Call, **names: str) -> dict[str, Any]:
    """R8: ``create_children``; both ``runs`` and ``errors`` keys are required by the SDK."""
    workspace, experiment = _experiment(call, names)
    bodies = call.json_object().get("runs")
    if not isinstance(bodies, list) or not all(isinstance(b, dict) for b in bodies):
        raise ValidationError("runs must be a list of run objects", target="runs")
    runs, errors = call.backend.create_runs(workspace, experiment, bodies)
    return {
        "runs": {run_id: run_dto(run) for run_id, run in runs.items()},
        "errors": {run_id: error_body(error) for run_id, error in errors.items()},
    }


@router.route(BY_NAME + "/runs:query", "POST")
@router.route(BY_ID + "/runs:query", "POST")
def query_runs(call: Call, **names: str) -> dict[str, Any]:
    """R7: OData filter, orderby, top and continuation token."""
    workspace, experiment = _experiment(call, names)
    body = call.json_object()
    page = call.backend.query_runs(
        workspace,
        experiment,
        _text(body, "filter"),
        _text(body, "orderBy") or _text(body, "orderby"),
        _top(body.get("top")),
        _text(body, "continuationToken"),
    )
    return _page(page, run_dto)


@router.route(BY_NAME + "/runs/<run_id>/children", "GET")
@router.route(BY_ID + "/runs/<run_id>/children", "GET")
def list_children(call: Call, **names: str) -> dict[str, Any]:
    """R6: direct children; the SDK filters them client-side."""
    workspace, run = _run(call, names)
    args = call.request.args
    if args.get("$filter"):
        raise ValidationError("amlmock does not filter children on this route; use runs:query", target="$filter")
    page = call.backend.list_children(
        workspace, run, args.get("$orderby"), _top(args.get("$top")), args.get("$continuationToken")
    )
    return _page(page, run_dto)


@router.route(BY_NAME + "/runs/<run_id>/metricsingest/wait", "GET")
@router.route(BY_ID + "/runs/<run_id>/metricsingest/wait", "GET")
def wait_for_metrics(call: Call, **names: str) -> Response:
    """R12: metrics are stored synchronously, so ingestion is always done."""
    _run(call, names)
    return Response(json.dumps({}), status=200, content_type="application/json")


@router.route(BY_NAME + "/runs/<run_id>/token", "GET")
@router.route(BY_ID + "/runs/<run_id>/token", "GET")
def refresh_token(call: Call, **names: str) -> dict[str, Any]:
    """R13: a fresh run token."""
    workspace, run = _run(call, names)
    token, expiry = run_token(run.run_id, workspace.workspace_id, call.access.key)
    return {"token": token, "expiryTimeUtc": timestamp(expiry)}

