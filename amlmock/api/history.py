"""Run history: experiments, runs, status events, children and queries."""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any

from werkzeug.wrappers import Response

from ..backend.errors import ServiceError, ValidationError
from ..backend.paging import Page
from ..backend.values import PageRequest, RunFields
from ..tokens import run_token
from . import parse
from .app import WORKSPACE_PATH, Call, Router
from .artifacts import blob_url
from .wire import error_body, experiment_dto, run_details_dto, run_dto, timestamp

router = Router()

RH = "/history/v1.0" + WORKSPACE_PATH
BY_NAME = RH + "/experiments/<experiment_name>"
BY_ID = RH + "/experimentids/<experiment_id>"
LOG_PREFIX = "azureml-logs/"


def _page(page: Page, to_dto: Any) -> dict[str, Any]:
    return {"value": [to_dto(item) for item in page.items], "continuationToken": page.continuation_token}


# --------------------------------------------------------------------------- experiments
@router.route(BY_NAME, "GET")
def get_experiment(call: Call, **names: str) -> dict[str, Any]:
    """E1: 404 tells the SDK to create the experiment."""
    return experiment_dto(call.path_experiment(names)[1])


@router.route(BY_NAME, "POST")
def create_experiment(call: Call, **names: str) -> dict[str, Any]:
    """E2."""
    workspace = call.path_workspace(names)
    return experiment_dto(call.backend.create_experiment(workspace, names["experiment_name"]))


@router.route(BY_ID, "GET")
def get_experiment_by_id(call: Call, **names: str) -> dict[str, Any]:
    """E3."""
    return experiment_dto(call.path_experiment(names)[1])


@router.route(BY_ID, "PATCH")
def update_experiment(call: Call, **names: str) -> dict[str, Any]:
    """E4: tags and archive."""
    _, experiment = call.path_experiment(names)
    body = call.json_object()
    archive = body.get("archive")
    if archive is not None and not isinstance(archive, bool):
        raise ValidationError("archive must be true or false", target="archive")
    return experiment_dto(call.backend.update_experiment(experiment, parse.string_map(body, "tags"), archive))


@router.route(RH + "/experiments:query", "POST")
def query_experiments(call: Call, **names: str) -> dict[str, Any]:
    """E5: ``Experiment.list`` and ``ws.experiments``."""
    workspace = call.path_workspace(names)
    body = call.json_object()
    view_type = parse.text(body, "viewType") or "ActiveOnly"
    page = call.backend.query_experiments(workspace, view_type, parse.page_request(body))
    return _page(page, experiment_dto)


# ---------------------------------------------------------------------------------- runs
@router.route(BY_NAME + "/runs/<run_id>", "PATCH")
@router.route(BY_ID + "/runs/<run_id>", "PATCH")
def create_or_update_run(call: Call, **names: str) -> dict[str, Any]:
    """R1/R2: create a run, or merge tags and add properties."""
    workspace, experiment = call.path_experiment(names)
    fields = parse.run_fields(call.json_object(), names["run_id"])
    run = call.backend.create_or_update_run(workspace, experiment, names["run_id"], fields)
    return run_dto(run)


@router.route(BY_NAME + "/runs/<run_id>", "GET")
@router.route(BY_ID + "/runs/<run_id>", "GET")
def get_run(call: Call, **names: str) -> dict[str, Any]:
    """R3."""
    return run_dto(call.path_run(names)[1])


@router.route(RH + "/runs/<run_id>", "GET")
def get_run_in_workspace(call: Call, **names: str) -> dict[str, Any]:
    """R4: ``Run.get(ws, id)`` without an experiment."""
    workspace = call.path_workspace(names)
    return run_dto(call.backend.get_run(workspace, names["run_id"]))


@router.route(BY_NAME + "/runs/<run_id>/details", "GET")
@router.route(BY_ID + "/runs/<run_id>/details", "GET")
def get_run_details(call: Call, **names: str) -> dict[str, Any]:
    """R5: ``logFiles`` names the run's ``azureml-logs/`` files (the SDK streams the driver log)."""
    workspace, run = call.path_run(names)
    details = run_details_dto(run)
    logs = call.backend.list_artifacts(workspace, run.data_container_id, LOG_PREFIX)
    details["logFiles"] = {a.path: blob_url(call, workspace, a.container, a.path) for a in logs}
    return details


@router.route(BY_NAME + "/runs/<run_id>/tags", "DELETE")
@router.route(BY_ID + "/runs/<run_id>/tags", "DELETE")
def delete_tags(call: Call, **names: str) -> dict[str, Any]:
    """R9: the body is a JSON array of tag names."""
    workspace, experiment = call.path_experiment(names)
    run = call.backend.get_run(workspace, names["run_id"], experiment)
    return run_dto(call.backend.remove_tags(experiment, run, parse.tag_names(call.json(default=[]))))


@router.route(BY_NAME + "/runs/<run_id>/events", "POST")
@router.route(BY_ID + "/runs/<run_id>/events", "POST")
def post_event(call: Call, **names: str) -> dict[str, Any]:
    """R10: status events drive the state machine."""
    _, run = call.path_run(names)
    body = call.json_object()
    call.backend.post_event(run, parse.run_event(body.get("name"), body.get("data")))
    return {}


@router.route(BY_NAME + "/batch/events", "POST")
@router.route(BY_ID + "/batch/events", "POST")
def post_events(call: Call, **names: str) -> dict[str, Any]:
    """R11: ``errors`` lists the events refused, one by one."""
    workspace, experiment = call.path_experiment(names)
    events = call.json_object().get("events") or []
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        raise ValidationError("events must be a list of event objects", target="events")
    batch, errors = parse.each(events, parse.batched_event)
    errors += call.backend.post_events(workspace, experiment, [(position, *event) for position, event in batch])
    return {"errors": [{"key": events[position], "value": error_body(error)} for position, error in sorted(errors, key=itemgetter(0))]}


@router.route(BY_NAME + "/batch/runs", "PATCH")
@router.route(BY_ID + "/batch/runs", "PATCH")
def create_runs(call: Call, **names: str) -> dict[str, Any]:
    """R8: ``create_children``; both ``runs`` and ``errors`` keys are required by the SDK."""
    workspace, experiment = call.path_experiment(names)
    bodies = call.json_object().get("runs")
    if not isinstance(bodies, list) or not all(isinstance(b, dict) for b in bodies):
        raise ValidationError("runs must be a list of run objects", target="runs")
    batch: list[tuple[str, RunFields]] = []
    refused: dict[str, ServiceError] = {}
    for body in bodies:
        run_id = str(body.get("runId") or "")
        try:
            batch.append((run_id, parse.run_fields(body, run_id)))
        except ServiceError as error:
            refused[run_id] = error
    runs, errors = call.backend.create_runs(workspace, experiment, batch)
    return {
        "runs": {run_id: run_dto(run) for run_id, run in runs.items()},
        "errors": {run_id: error_body(error) for run_id, error in {**refused, **errors}.items()},
    }


@router.route(BY_NAME + "/runs:query", "POST")
@router.route(BY_ID + "/runs:query", "POST")
def query_runs(call: Call, **names: str) -> dict[str, Any]:
    """R7: OData filter, orderby, top and continuation token."""
    workspace, experiment = call.path_experiment(names)
    body = call.json_object()
    page = call.backend.query_runs(workspace, experiment, parse.page_request(body))
    return _page(page, run_dto)


@router.route(BY_NAME + "/runs/<run_id>/children", "GET")
@router.route(BY_ID + "/runs/<run_id>/children", "GET")
def list_children(call: Call, **names: str) -> dict[str, Any]:
    """R6: direct children; the SDK filters them client-side."""
    workspace, run = call.path_run(names)
    args = call.request.args
    if args.get("$filter"):
        raise ValidationError("amlmock does not filter children on this route; use runs:query", target="$filter")
    request = PageRequest(None, args.get("$orderby"), parse.top(args.get("$top")), args.get("$continuationToken"))
    page = call.backend.list_children(workspace, run, request)
    return _page(page, run_dto)


@router.route(BY_NAME + "/runs/<run_id>/metricsingest/wait", "GET")
@router.route(BY_ID + "/runs/<run_id>/metricsingest/wait", "GET")
def wait_for_metrics(call: Call, **names: str) -> Response:
    """R12: metrics are stored synchronously, so ingestion is always done."""
    call.path_run(names)
    return Response(json.dumps({}), status=200, content_type="application/json")


@router.route(BY_NAME + "/runs/<run_id>/token", "GET")
@router.route(BY_ID + "/runs/<run_id>/token", "GET")
def refresh_token(call: Call, **names: str) -> dict[str, Any]:
    """R13: a fresh run token."""
    workspace, run = call.path_run(names)
    token, expiry = run_token(run.run_id, workspace.workspace_id, call.access.key)
    return {"token": token, "expiryTimeUtc": timestamp(expiry)}

