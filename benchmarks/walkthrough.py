"""The seed walkthrough, the workload the fake is measured with, through the real SDK."""

from __future__ import annotations

from azureml.core import Experiment, Workspace

from amlmock import AmlMock
from amlmock.defaults import DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, DEFAULT_WORKSPACE
from amlmock.sdk.auth import OfflineAuthentication

EXPERIMENT = "explore-runs"
LOGGED_VALUES = 100
CHILD_RUNS = 5
AUTHOR = {"author": "azureml-user"}


def prepare(aml: AmlMock) -> None:
    """Create the workspace and the experiment in the fake (what a test's set-up does)."""
    workspace = aml.create_workspace()
    aml.backend.create_experiment(workspace, EXPERIMENT)


def workspace() -> Workspace:
    """The SDK's own ``Workspace`` construction for the default workspace."""
    return Workspace(DEFAULT_SUBSCRIPTION, DEFAULT_RESOURCE_GROUP, DEFAULT_WORKSPACE, auth=OfflineAuthentication())


def experiment() -> Experiment:
    """The walkthrough's experiment, in a freshly constructed workspace."""
    return Experiment(workspace=workspace(), name=EXPERIMENT)


def walkthrough(label: str) -> None:
    """Log, tag, add properties, run children, complete, then query runs and read metrics back.

    ``label`` tags the run, so the query finds exactly this run however often the walkthrough ran.
    """
    exp = experiment()
    run = exp.start_logging(snapshot_directory=None)
    for step in range(LOGGED_VALUES):
        run.log("loss", 1 / (step + 1))
    run.tag("round", label)
    run.tag("worth another look")
    run.add_properties(AUTHOR)
    for index in range(CHILD_RUNS):
        with run.child_run() as child:
            child.log(name="Hello from child run", value=index)
    run.complete()
    found = list(exp.get_runs(tags={"round": label}, properties=AUTHOR))
    metrics = run.get_metrics()
    if len(found) != 1 or len(metrics["loss"]) != LOGGED_VALUES:
        raise AssertionError(f"the walkthrough went wrong: {len(found)} runs found, metrics {sorted(metrics)}")
