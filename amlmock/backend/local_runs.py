"""Local runs: a ``ScriptRunConfig`` submitted to target local, and the processes that run it."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from . import messages
from .errors import ConflictError, ValidationError
from .locking import locked
from .models import Experiment, Run, StatusEvent, Workspace
from .times import utcnow
from .runs import RunOperations
from .values import LocalRunSpec, RunFields
from .workspaces import WorkspaceOperations

MAX_PID = 4_194_304  # the largest pid_max Linux allows (2**22)
LOCAL_RUN_PROPERTIES = {"_azureml.ComputeTargetType": "local", "azureml.runsource": "experiment"}

# Vets the process ids a local run's driver reports: why they are refused, or None (see record_processes).
ProcessCheck = Callable[[Mapping[str, int]], str | None]


def refuse_processes(processes: Mapping[str, int]) -> str | None:
    """The process check of a backend given none: it records no process ids."""
    return messages.NO_PROCESS_CHECK


class LocalRunOperations(RunOperations, WorkspaceOperations):
    """Local runs, which wait in Starting until their driver starts them."""

    process_check: ProcessCheck

    @locked
    def submit_local_run(self, workspace: Workspace, experiment_name: str, run_id: str, spec: LocalRunSpec) -> Run:
        """``create_local_run`` in the named experiment, created only together with the run."""
        _check_new_run_id(workspace, run_id)
        return self.create_local_run(workspace, self.create_experiment(workspace, experiment_name), run_id, spec)

    @locked
    def create_local_run(self, workspace: Workspace, experiment: Experiment, run_id: str, spec: LocalRunSpec) -> Run:
        """A submitted run on target local: Starting until its driver starts it."""
        _check_new_run_id(workspace, run_id)
        fields = RunFields(
            name=run_id,
            target=spec.target,
            run_type="azureml.scriptrun",
            script_name=spec.script,
            run_definition=spec.definition,
            properties=LOCAL_RUN_PROPERTIES,
        )
        run = self._create_run(workspace, experiment, run_id, fields)
        run.status = "Starting"
        run.record_event(
            StatusEvent("amlmock.LocalRunSubmitted", utcnow(), "NotStarted", "Starting", True, "submitted to target local", {})
        )
        return run

    @locked
    def record_processes(self, run: Run, processes: Mapping[str, Any]) -> Run:
        """Remember the process ids running a local run (to stop them when the fake stops).

        The fake signals these processes (the script's whole process group) when it stops, so it takes only
        what its driver reports: once, for a local run, ids from 2 to ``MAX_PID`` that the injected
        ``process_check`` accepts (the OS side: not the fake's own process, parent or group, a driver running
        amlmock's driver command, and a script that leads its own session as a child of the driver).
        """
        if run.properties.get("_azureml.ComputeTargetType") != "local":
            raise ValidationError(messages.not_local_run(run.run_id), target="runId")
        if run.processes:
            raise ConflictError(messages.processes_recorded(run.run_id), target="processes")
        if not all(isinstance(v, int) and not isinstance(v, bool) and 1 < v <= MAX_PID for v in processes.values()):
            raise ValidationError(messages.invalid_pids(MAX_PID), target="processes")
        refused = self.process_check(dict(processes))
        if refused is not None:
            raise ValidationError(refused, target="processes")
        run.record_processes(processes)
        self._changes.run(run)
        return run

    @locked
    def runs_with_processes(self) -> list[Run]:
        """The local runs whose process ids are recorded (the supervisor stops them)."""
        return [run for ws in self._workspaces.values() for run in ws.runs.values() if run.processes]


def _check_new_run_id(workspace: Workspace, run_id: str) -> None:
    if run_id in workspace.runs:
        raise ConflictError(messages.run_exists(run_id), target="runId")
