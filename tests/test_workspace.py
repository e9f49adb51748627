"""Workspace look-up and experiments, through the real SDK."""

from __future__ import annotations

import pytest
from azureml.core import Experiment, Workspace
from azureml.core.authentication import (
    AzureCliAuthentication,
    InteractiveLoginAuthentication,
    MsiAuthentication,
    ServicePrincipalAuthentication,
    TokenAuthentication,
)
from azureml.exceptions import ProjectSystemException, UserErrorException

import amlmock


def test_from_config_needs_no_auth(aml):
    aml.write_config(".", name="myworkspace", resource_group="myresourcegroup")
    ws = Workspace.from_config()
    assert (ws.name, ws.resource_group) == ("myworkspace", "myresourcegroup")
    assert ws.location == "eastus"


def test_constructor_and_get(aml):
    created = aml.create_workspace("ws1", "rg1", "sub-1")
    ws = Workspace("sub-1", "rg1", "ws1")
    assert ws._workspace_id == created.workspace_id
    again = Workspace.get("ws1", subscription_id="sub-1", resource_group="rg1")
    assert again.name == "ws1"


@pytest.mark.parametrize(
    "make_auth",
    [
        lambda: InteractiveLoginAuthentication(),
        lambda: InteractiveLoginAuthentication(force=True, tenant_id="t"),
        lambda: AzureCliAuthentication(),
        lambda: ServicePrincipalAuthentication("tenant", "app-id", "secret"),
        lambda: MsiAuthentication(),
        lambda: TokenAuthentication(lambda audience: "not-a-real-token"),
    ],
    ids=["interactive", "interactive-force", "cli", "service-principal", "msi", "token"],
)
def test_every_auth_class_works_offline(aml, make_auth):
    aml.create_workspace()
    ws = Workspace(amlmock.DEFAULT_SUBSCRIPTION, amlmock.DEFAULT_RESOURCE_GROUP, amlmock.DEFAULT_WORKSPACE, auth=make_auth())
    exp = Experiment(ws, "auth-check")
    assert exp.id == aml.experiments()[0].experiment_id


def test_unknown_workspace_is_the_sdks_not_found(aml):
    aml.create_workspace()
    with pytest.raises(ProjectSystemException, match="Workspace not found"):
        Workspace(amlmock.DEFAULT_SUBSCRIPTION, amlmock.DEFAULT_RESOURCE_GROUP, "no-such-workspace")


def test_unknown_subscription_is_refused_by_the_sdk(aml):
    aml.create_workspace()
    with pytest.raises(UserErrorException, match="sub-unknown"):
        Workspace("sub-unknown", "rg", "ws")


def test_experiments_are_created_and_listed(aml_workspace, aml):
    first = Experiment(workspace=aml_workspace, name="explore-runs")
    same = Experiment(workspace=aml_workspace, name="explore-runs")
    Experiment(workspace=aml_workspace, name="other")
    assert first.id == same.id
    assert sorted(e.name for e in Experiment.list(aml_workspace)) == ["explore-runs", "other"]
    assert [e.name for e in Experiment.list(aml_workspace, experiment_name="other")] == ["other"]
    assert sorted(aml_workspace.experiments) == ["explore-runs", "other"]
    assert sorted(e.name for e in aml.experiments()) == ["explore-runs", "other"]


def test_experiment_tags_and_archive(aml_workspace, aml):
    exp = Experiment(workspace=aml_workspace, name="tagged")
    exp.tag("team", "vision")
    exp.tag("flag")
    assert aml.experiments()[0].tags == {"team": "vision", "flag": None}
    assert [e.name for e in Experiment.list(aml_workspace, tags={"team": "vision"})] == ["tagged"]
    exp.archive()
    assert Experiment.list(aml_workspace) == []
    assert [e.name for e in Experiment.list(aml_workspace, view_type="ArchivedOnly")] == ["tagged"]
    exp.reactivate()
    assert [e.name for e in Experiment.list(aml_workspace)] == ["tagged"]


def test_invalid_experiment_name_is_refused_by_the_sdk(aml_workspace):
    with pytest.raises(UserErrorException):
        Experiment(workspace=aml_workspace, name="-bad name")


def test_get_run_by_id_from_workspace(aml_workspace):
    run = Experiment(aml_workspace, "lookup").start_logging(snapshot_directory=None)
    found = aml_workspace.get_run(run.id)
    assert (found.id, found.experiment.name) == (run.id, "lookup")
    run.complete()
