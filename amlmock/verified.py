"""Verified mode (``pytest --aml-real``): the plugin's workspace fixtures on a real Azure ML workspace.

The same tests then run against the real service, which tells whether the fake's behaviour that
they rely on is the service's. Nothing here is faked: the workspace comes from
``Workspace.from_config()`` with the user's own credentials, and ``real_run_context`` gives the
code under test the environment a job's script gets on the service.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .run_variables import run_context_variables

if TYPE_CHECKING:
    from azureml.core import Experiment, Run, Workspace


def real_workspace(config_path: Path) -> "Workspace":
    """The workspace of a ``config.json`` (a file, or a directory searched like ``Workspace.from_config()`` does)."""
    from azureml.core import Workspace

    return Workspace.from_config(path=str(config_path))


def context_variables(run: "Run") -> dict[str, str]:
    """The variables that make ``Run.get_context()`` return ``run``, as the service sets them for a job."""
    experiment = run.experiment
    workspace = experiment.workspace
    token = run._client.run.get_token()
    return run_context_variables(
        subscription_id=workspace.subscription_id,
        resource_group=workspace.resource_group,
        workspace_name=workspace.name,
        workspace_id=workspace._workspace_id,
        experiment_name=experiment.name,
        experiment_id=experiment.id,
        run_id=run.id,
        token=token.token,
        token_expiry=token.expiry_time_utc,
        service_endpoint=workspace.service_context._get_run_history_url(),
        discovery_endpoint=workspace.discovery_url,
    )


@contextmanager
def real_run_context(experiment: "Experiment") -> Iterator["Run"]:
    """Make ``Run.get_context()`` return a live run of ``experiment`` on the service, and yield it.

    Like the fake's ``aml.run_context``: the run is Running inside the block; afterwards its
    metrics are flushed and, unless it has ended, it is marked Completed, or Failed when the block raised.
    """
    from azureml._run_impl.run_watcher import TERMINAL_STATES
    from azureml.core import Run

    from .sdk.context import forget_context_runs
    from .sdk.tuning import environment

    run = experiment.start_logging(snapshot_directory=None)
    try:
        with environment(context_variables(run)):
            context_run = Run.get_context(allow_offline=False)
            try:
                yield context_run
            finally:
                context_run.flush()
                forget_context_runs()
    except BaseException as error:
        run.fail(error_details=error)
        raise
    finally:
        if run.get_status() not in TERMINAL_STATES:
            run.complete()
