"""``aml.run_context(experiment)``: ``Run.get_context()`` returns a live run of the fake, ended as a job's run is."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from azureml.core import Experiment as SdkExperiment
from azureml.core import Run as SdkRun

from ..api.app import regional_base
from ..backend.lifecycle import EVENT_PREFIX, is_terminal
from ..backend.service import Backend
from ..backend.values import RunEvent, RunFields
from ..execution.environment import run_environment
from .context import forget_context_runs
from .tuning import environment


@contextmanager
def run_context(backend: Backend, experiment: SdkExperiment) -> Iterator[SdkRun]:
    """Make ``Run.get_context()`` return a live run of ``experiment`` in ``backend``.

    The run starts Running; on exit its metrics are flushed and, as the service does when a
    job's script ends, it is marked Completed, or Failed (with the error) when the block raised.
    """
    sdk_ws = experiment.workspace
    workspace = backend.get_workspace(sdk_ws.subscription_id, sdk_ws.resource_group, sdk_ws.name)
    fake_experiment = backend.create_experiment(workspace, experiment.name)
    run_id = f"{experiment.name[:40]}_{uuid.uuid4().hex[:12]}"
    fields = RunFields(name=run_id, target="local", run_type="azureml.scriptrun")
    run = backend.create_or_update_run(workspace, fake_experiment, run_id, fields)
    backend.post_event(run, RunEvent(EVENT_PREFIX + "Start", {"RunId": run_id}))
    with environment(run_environment(workspace, run, regional_base(workspace.location))):
        context_run = SdkRun.get_context(allow_offline=False)
        outcome = "Completed"
        try:
            yield context_run
        except BaseException as error:
            outcome = "Failed"
            message = f"User program failed with {type(error).__name__}: {error}"
            error_response = {"error": {"code": "UserError", "message": message}}
            backend.post_event(run, RunEvent(EVENT_PREFIX + "Error", {"ErrorResponse": error_response}, error_response, message))
            raise
        finally:
            context_run.flush()
            if not is_terminal(run.status):
                backend.post_event(run, RunEvent(EVENT_PREFIX + outcome, {"RunId": run_id}))
            forget_context_runs()
