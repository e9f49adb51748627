"""Run lifecycle: start, status, details, complete, fail, cancel and ``with`` blocks."""

from __future__ import annotations

import pytest
from azureml.core import Run


def statuses(aml, run_id):
    return [(event.name.rsplit(".", 1)[1], event.status_after, event.applied) for event in aml.run(run_id).status_history]


def test_start_logging_runs_until_complete(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    assert run.get_status() == "Running"
    details = run.get_details()
    assert details["runId"] == run.id
    assert details["status"] == "Running"
    assert details["startTimeUtc"]
    assert "endTimeUtc" not in details
    assert details["logFiles"] == {}
    assert details["submittedBy"] == "amlmock-user"
    run.complete()
    assert run.get_status() == "Completed"
    details = Run(aml_experiment, run.id).get_details()
    assert details["endTimeUtc"] >= details["startTimeUtc"]
    assert statuses(aml, run.id) == [("Start", "Running", True), ("Completed", "Completed", True)]


def test_run_fields_the_sdk_needs(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    record = aml.run(run.id)
    assert record.root_run_id == run.id
    assert record.run_number == 1
    assert record.data_container_id == f"dcid.{run.id}"
    assert record.experiment_id == aml_experiment.id
    assert record.created_by["userName"] == "amlmock-user"
    assert run.number == 1
    run.complete()


def test_fail_with_error_details(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.fail(error_details="data was bad", error_code="BadData")
    fetched = Run(aml_experiment, run.id)
    assert fetched.get_status() == "Failed"
    error = fetched.get_details()["error"]
    assert error["error"]["code"] == "BadData"
    assert error["error"]["message"] == "data was bad"


def test_fail_with_an_exception(aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.fail(error_details=ValueError("boom"))
    error = Run(aml_experiment, run.id).get_details()["error"]["error"]
    assert error["message"] == "User program failed with ValueError: boom"


def test_cancel(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.cancel()
    assert Run(aml_experiment, run.id).get_status() == "Canceled"
    assert aml.run(run.id).end_time_utc is not None


def test_with_block_completes_on_normal_exit(aml, aml_experiment):
    with aml_experiment.start_logging(snapshot_directory=None) as run:
        assert run.get_status() == "Running"
    assert Run(aml_experiment, run.id).get_status() == "Completed"


def test_with_block_fails_when_it_raises(aml, aml_experiment):
    with pytest.raises(RuntimeError):
        with aml_experiment.start_logging(snapshot_directory=None) as run:
            raise RuntimeError("training diverged")
    fetched = Run(aml_experiment, run.id)
    assert fetched.get_status() == "Failed"
    assert "RuntimeError: training diverged" in fetched.get_details()["error"]["error"]["message"]


def test_terminal_states_are_sticky_and_every_event_is_kept(aml, aml_experiment):
    with aml_experiment.start_logging(snapshot_directory=None) as run:
        run.cancel()
    assert aml.run(run.id).status == "Canceled"
    assert statuses(aml, run.id) == [
        ("Start", "Running", True),
        ("Canceled", "Canceled", True),
        ("Completed", "Canceled", False),
    ]


def test_fail_after_complete_marks_the_run_failed(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.complete()
    run.fail()
    assert aml.run(run.id).status == "Failed"
    run.complete()
    assert aml.run(run.id).status == "Failed"


def test_complete_twice_changes_nothing(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.complete()
    ended = aml.run(run.id).end_time_utc
    run.complete()
    record = aml.run(run.id)
    assert (record.status, record.end_time_utc) == ("Completed", ended)
    assert [e.applied for e in record.status_history] == [True, True, False]


def test_unknown_run_is_a_404(aml_experiment):
    from azureml._restclient.exceptions import ServiceException

    with pytest.raises(ServiceException) as caught:
        Run(aml_experiment, "no-such-run")
    assert caught.value.status_code == 404
    assert "no-such-run" in caught.value.message


def test_explicit_run_id_and_display_name(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None, run_id="my_run-1", display_name="nice name")
    assert run.id == "my_run-1"
    assert aml.run("my_run-1").display_name == "nice name"
    run.display_name = "renamed"
    assert aml.run("my_run-1").display_name == "renamed"
    run.complete()


def test_invalid_run_id_is_a_validation_error(aml_experiment):
    from azureml._restclient.exceptions import ServiceException

    with pytest.raises(ServiceException) as caught:
        aml_experiment.start_logging(snapshot_directory=None, run_id="bad id with spaces")
    assert caught.value.status_code == 400
    assert "(ValidationError)" in caught.value.message


def test_outputs_are_uploaded_on_complete(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    with open("outputs/model.txt", "w") as handle:
        handle.write("weights")
    run.upload_file("extra/notes.txt", __file__)
    run.complete()
    names = run.get_file_names()
    assert "outputs/model.txt" in names
    assert "extra/notes.txt" in names
    assert aml.artifacts(run.id)["outputs/model.txt"] == b"weights"


def test_snapshot_of_the_working_directory_is_accepted(aml, aml_experiment):
    with open("train.py", "w") as handle:
        handle.write("print('hi')\n")
    run = aml_experiment.start_logging()
    snapshot_id = run.get_properties()["ContentSnapshotId"]
    workspace = aml.workspaces()[0]
    assert "train.py" in workspace.snapshots[snapshot_id].files
    run.complete()


def test_download_file(aml_experiment, tmp_path):
    run = aml_experiment.start_logging(snapshot_directory=None)
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01binary")
    run.upload_file("outputs/weights.bin", str(source))
    target = tmp_path / "downloaded.bin"
    run.download_file("outputs/weights.bin", str(target))
    assert target.read_bytes() == b"\x00\x01binary"
    run.complete()
