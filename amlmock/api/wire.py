"""Wire shapes: backend objects as the JSON documents the service returns."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from ..backend.errors import ServiceError
from ..backend.metric_series import MetricSeries, MetricValue
from ..backend.models import Artifact, Experiment, Run
from ..backend.times import timestamp_text

COMPONENT = "amlmock"


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as the service writes times."""
    return None if value is None else timestamp_text(value)


def error_body(error: ServiceError, location: str | None = None) -> dict[str, Any]:
    """The ErrorResponse envelope (``details`` always present: the SDK iterates it)."""
    root: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "messageParameters": {},
        "target": error.target,
        "details": [],
    }
    if error.inner_code:
        root["innerError"] = {"code": error.inner_code}
    return {
        "error": root,
        "correlation": {},
        "environment": COMPONENT,
        "location": location,
        "time": timestamp(datetime.now(timezone.utc)),
        "componentName": COMPONENT,
    }


def experiment_dto(experiment: Experiment) -> dict[str, Any]:
    """ExperimentDto."""
    latest = experiment.run_ids[-1] if experiment.run_ids else None
    return {
        "experimentId": experiment.experiment_id,
        "name": experiment.name,
        "description": experiment.description,
        "createdUtc": timestamp(experiment.created_utc),
        "tags": dict(experiment.tags),
        "archivedTime": timestamp(experiment.archived_time),
        "latestCreatedRunId": latest,
    }


def run_dto(run: Run) -> dict[str, Any]:
    """RunDto: everything the SDK reads when it builds or refreshes a Run."""
    return {
        "runNumber": run.run_number,
        "rootRunId": run.root_run_id,
        "experimentId": run.experiment_id,
        "createdUtc": timestamp(run.created_utc),
        "createdBy": dict(run.created_by),
        "userId": run.created_by["userObjectId"],
        "runId": run.run_id,
        "parentRunId": run.parent_run_id,
        "status": run.status,
        "startTimeUtc": timestamp(run.start_time_utc),
        "endTimeUtc": timestamp(run.end_time_utc),
        "heartbeatEnabled": False,
        "name": run.name,
        "displayName": run.display_name,
        "dataContainerId": run.data_container_id,
        "description": run.description,
        "hidden": run.hidden,
        "runType": run.run_type,
        "runTypeV2": run.run_type_v2,
        "properties": dict(run.properties),
        "scriptName": run.script_name,
        "target": run.target,
        "tags": dict(run.tags),
        "runDefinition": run.run_definition,
        "error": run.error,
        "warnings": list(run.warnings) or None,
    }


def run_details_dto(run: Run) -> dict[str, Any]:
    """RunDetailsDto with every field the SDK reads (``logFiles`` must be an object or the SDK raises
    KeyError); a run without services, datasets or a definition gets the empty values the service
    and the SDK's documented example show (``{}``, ``[]``, ``[]``, ``{}``)."""
    return {
        "runId": run.run_id,
        "target": run.target,
        "status": run.status,
        "startTimeUtc": timestamp(run.start_time_utc),
        "endTimeUtc": timestamp(run.end_time_utc),
        "services": {},
        "error": run.error,
        "warnings": list(run.warnings) or None,
        "properties": dict(run.properties),
        "inputDatasets": [],
        "outputDatasets": [],
        "runDefinition": run.run_definition or {},
        "logFiles": {},
    }


def metric_dto(series: MetricSeries, values: list[MetricValue], continuation_token: str | None) -> dict[str, Any]:
    """MetricV2Dto with one page of values."""
    return {
        "name": series.name,
        "columns": dict(series.columns),
        "properties": {"uxMetricType": series.ux_metric_type},
        "value": [
            {"metricId": v.metric_id, "createdUtc": v.created_utc, "step": v.step, "data": v.data}
            for v in values
        ],
        "continuationToken": continuation_token,
    }


def content_etag(content: bytes) -> str:
    """An ETag from the bytes themselves: the same in every process and across a ``serve --state`` restart."""
    return f"0x{hashlib.sha256(content).hexdigest()[:16].upper()}"


def artifact_dto(artifact: Artifact) -> dict[str, Any]:
    """ArtifactDto."""
    return {
        "artifactId": artifact.artifact_id,
        "origin": artifact.origin,
        "container": artifact.container,
        "path": artifact.path,
        "etag": content_etag(artifact.content or b""),
        "createdTime": timestamp(artifact.created_utc),
    }


def content_info(artifact: Artifact, content_uri: str) -> dict[str, Any]:
    """ArtifactContentInformationDto."""
    return {
        "contentUri": content_uri,
        "origin": artifact.origin,
        "container": artifact.container,
        "path": artifact.path,
    }
