"""Properties are add-only; tags are mutable and may have no value."""

from __future__ import annotations

import pytest
from azureml._restclient.exceptions import ServiceException
from azureml.core import Run


def test_properties_cannot_change(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.add_properties({"author": "azureml-user"})
    assert run.get_properties() == {"author": "azureml-user"}
    with pytest.raises(ServiceException) as caught:
        run.add_properties({"author": "different-user"})
    error = caught.value
    assert error.status_code == 400
    assert "author" in error.message and "azureml-user" in error.message and "different-user" in error.message
    assert error.error.error.code == "UserError"
    assert error.details == []
    assert Run(aml_experiment, run.id).get_properties() == {"author": "azureml-user"}
    run.complete()


def test_a_rejected_update_changes_nothing_at_all(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.add_properties({"author": "azureml-user"})
    with pytest.raises(ServiceException):
        run.add_properties({"new": "value", "author": "different-user"})
    assert aml.run(run.id).properties == {"author": "azureml-user"}
    run.complete()


def test_same_property_value_is_accepted(aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.add_properties({"author": "azureml-user"})
    run.add_properties({"author": "azureml-user", "team": "ml"})
    assert run.get_properties() == {"author": "azureml-user", "team": "ml"}
    run.complete()


def test_tags_overwrite_and_may_have_no_value(aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.tag("quality", "great run")
    assert run.get_tags() == {"quality": "great run"}
    run.tag("quality", "fantastic run")
    run.tag("worth another look")
    assert run.get_tags() == {"quality": "fantastic run", "worth another look": None}
    run.complete()


def test_set_and_remove_tags(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.tag("keep", "1")
    run.set_tags({"a": "x", "b": None, "c": 3})
    assert run.get_tags() == {"keep": "1", "a": "x", "b": None, "c": "3"}
    run.remove_tags(["a", "missing"])
    assert Run(aml_experiment, run.id).get_tags() == {"keep": "1", "b": None, "c": "3"}
    assert aml.run(run.id).tags == {"keep": "1", "b": None, "c": "3"}
    run.complete()


def test_tag_limits(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.set_tags({f"t{i}": "v" for i in range(50)})
    with pytest.raises(ServiceException) as caught:
        run.tag("one-too-many", "v")
    assert caught.value.status_code == 400
    assert "(ValidationError)" in caught.value.message and "50" in caught.value.message
    assert len(aml.run(run.id).tags) == 50
    with pytest.raises(ServiceException):
        run.tag("t0", "x" * 1001)
    with pytest.raises(ServiceException):
        run.tag("k" * 101, "v")
    assert aml.run(run.id).tags["t0"] == "v"
    run.complete()


def test_property_limits(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.add_properties({f"p{i}": "v" for i in range(50)})
    with pytest.raises(ServiceException) as caught:
        run.add_properties({"p50": "v"})
    assert "(ValidationError)" in caught.value.message
    assert len(aml.run(run.id).properties) == 50
    run.complete()
