"""The execution service: local runs (``exp.submit(ScriptRunConfig)`` on target local)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from ..backend import limits
from ..backend.errors import ValidationError
from ..execution.environment import run_environment
from ..execution.invocation import driver_config, invocation_zip
from ..tokens import run_token
from . import parse
from .app import WORKSPACE_PATH, Call, Router

router = Router()


def _definition(call: Call) -> dict[str, Any]:
    for upload in call.request.files.getlist("files"):
        if upload.filename == "definition.json":
            try:
                definition = json.loads(upload.read())
            except ValueError as error:
                raise ValidationError(f"definition.json is not valid JSON: {error}", target="definition.json") from None
            if isinstance(definition, dict) and isinstance(definition.get("Configuration"), dict):
                return definition
            raise ValidationError("definition.json needs a Configuration object", target="definition.json")
    raise ValidationError("The localrun request needs a definition.json part", target="files")


def _check_configuration(configuration: dict[str, Any]) -> None:
    """The run configuration fields the fake reads, each of the right type (before anything is created)."""
    for key in ("target", "script"):
        limits.check_length(key, configuration.get(key), limits.MAX_VALUE_LENGTH)
    environment = configuration.get("environment") or {}
    shapes = (
        ("arguments", configuration.get("arguments"), list),
        ("environmentVariables", configuration.get("environmentVariables"), dict),
        ("environment", environment, dict),
        ("environment.python", environment.get("python") if isinstance(environment, dict) else None, dict),
        ("environment.environmentVariables", environment.get("environmentVariables") if isinstance(environment, dict) else None, dict),
    )
    for name, value, expected in shapes:
        if value is not None and not isinstance(value, expected):
            raise ValidationError(f"Configuration.{name} must be a JSON {'array' if expected is list else 'object'}", target=name)


@router.route("/execution/v1.0" + WORKSPACE_PATH + "/experiments/<experiment_name>/localrun", "POST")
def start_local_run(call: Call, **names: str) -> Response:
    """Create the run (Starting) and answer with the invocation zip that runs its script."""
    workspace = call.path_workspace(names)
    run_id = call.request.args.get("runId")
    if not run_id:
        raise ValidationError("The runId query parameter is required", target="runId")
    limits.check_run_id(run_id)
    configuration = _definition(call)["Configuration"]
    _check_configuration(configuration)
    service_url = call.loopback_base()
    run = call.backend.submit_local_run(workspace, names["experiment_name"], run_id, parse.local_run_spec(configuration))
    config = driver_config(
        service_url=service_url,
        workspace_path=workspace.arm_id,
        experiment=run.experiment_name,
        run_id=run.run_id,
        container=run.data_container_id,
        token=run_token(run.run_id, workspace.workspace_id, call.access.key)[0],
        configuration=configuration,
        context_environment=run_environment(workspace, run, service_url, call.access.key),
    )
    return Response(invocation_zip(config), status=200, content_type="application/zip")


@router.route("/amlmock/v1.0" + WORKSPACE_PATH + "/runs/<run_id>/process", "POST")
def register_processes(call: Call, **names: str) -> dict[str, Any]:
    """A local run's driver reports its process ids, so the fake can stop them when it stops (the backend takes
    only what its process check accepts: ``Backend.record_processes``)."""
    workspace = call.path_workspace(names)
    run = call.backend.get_run(workspace, names["run_id"])
    body = call.json_object()
    call.backend.record_processes(run, {"driver": body.get("driverPid"), "script": body.get("scriptPid")})
    return {"runId": run.run_id, "processes": dict(run.processes)}
