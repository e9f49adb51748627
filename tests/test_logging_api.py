"""The whole logging API of ``Run``, on a logging run and in a submitted script, read back through the SDK."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from azureml.core import Run, ScriptRunConfig

pytest.importorskip("matplotlib", reason="log_image(plot=...) needs matplotlib (in amlmock's test extras)")

SCRIPTS = Path(__file__).parent / "scripts"
_spec = importlib.util.spec_from_file_location("log_everything", SCRIPTS / "log_everything.py")
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)

ARTIFACT_METRICS = {  # metric name -> the schema logged as an artifact
    "accuracy table": script.ACCURACY_TABLE,
    "confusion matrix": script.CONFUSION_MATRIX,
    "predictions": script.PREDICTIONS,
    "residuals": script.RESIDUALS,
}
WIDE_ROWS = {c: [row * 100 + i for row in range(3)] for i, c in enumerate(script.ROW_COLUMNS)}


def artifact_path(metric_value: str, run) -> str:
    """The run-relative path of an ``aml://artifactId/ExperimentRun/dcid.<run>/<path>`` metric value."""
    prefix = f"aml://artifactId/ExperimentRun/dcid.{run.id}/"
    assert metric_value.startswith(prefix), metric_value
    return metric_value[len(prefix):]


def check_everything(run, aml, work: Path) -> None:
    metrics = Run(run.experiment, run.id).get_metrics()
    assert metrics["accuracy"] == [0.9, 0.95]
    assert metrics["epochs"] == 10
    assert metrics["note"] == "a string"
    assert metrics["from a generator"] == [0, 1, 4, 9, 16]
    assert metrics["from a list"] == [0.5, 0.25]
    assert metrics["wide rows"] == WIDE_ROWS
    assert metrics["table"] == {"x": [1, 2, 3], "label": ["a", "b", "c"]}
    assert run.get_metrics(name="wide rows") == {"wide rows": WIDE_ROWS}
    files = set(run.get_file_names())
    for name in ("Hyperbolic Tangent", "curve from a path", *ARTIFACT_METRICS):
        path = artifact_path(metrics[name], run)
        assert path in files, name
        run.download_file(path, str(work / "read-back"))
        content = (work / "read-back").read_bytes()
        if name in ARTIFACT_METRICS:
            assert json.loads(content) == ARTIFACT_METRICS[name], name
        else:
            assert content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 1000, name
    assert artifact_path(metrics["Hyperbolic Tangent"], run).startswith("Hyperbolic Tangent")
    stored = aml.metrics(run.id)
    assert stored["accuracy"] == [0.9, 0.95]
    assert stored["from a generator"] == [0, 1, 4, 9, 16]
    assert stored["wide rows"] == [{c: WIDE_ROWS[c][row] for c in script.ROW_COLUMNS} for row in range(3)]
    assert stored["table"] == [{"x": 1, "label": "a"}, {"x": 2, "label": "b"}, {"x": 3, "label": "c"}]
    assert set(stored) == set(metrics)


def test_every_logging_call_on_a_logging_run(aml, aml_experiment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with aml_experiment.start_logging(snapshot_directory=None) as run:
        script.log_everything(run)
        run.upload_folder("outputs", "outputs")
    check_everything(run, aml, tmp_path)
    assert aml.artifacts(run.id)["outputs/models/model.bin"] == (tmp_path / "curve.png").read_bytes()[::-1]


@pytest.mark.aml_fake_only
def test_every_logging_call_in_a_submitted_script(aml, aml_experiment, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(SCRIPTS / "log_everything.py", project)
    run = aml_experiment.submit(ScriptRunConfig(source_directory=str(project), script="log_everything.py"))
    run.wait_for_completion(raise_on_error=True)
    check_everything(run, aml, tmp_path)
    stored = aml.artifacts(run.id)
    png = stored[artifact_path(run.get_metrics()["curve from a path"], run)]
    assert stored["outputs/models/model.bin"] == png[::-1]  # ./outputs, uploaded when the script ended
    assert stored["logs/training log.txt"] == b"epoch 1: ok\n"  # ./logs too


def test_metrics_of_parent_and_children_by_name_and_recursively(aml, aml_experiment):
    with aml_experiment.start_logging(snapshot_directory=None) as parent:
        parent.log("loss", 1.0)
        parent.log_row("scores", a=1, b=2)
        with parent.child_run(name="first") as first:
            first.log("loss", 0.5)
            with first.child_run() as grandchild:
                grandchild.log_list("loss", [0.25, 0.125])
        second = parent.child_run()
        second.log("other", "x")
        second.complete()
    assert parent.get_metrics(name="loss", recursive=True) == {
        parent.id: {"loss": 1.0},
        first.id: {"loss": 0.5},
        grandchild.id: {"loss": [0.25, 0.125]},
    }  # a run without the metric is left out (second)
    assert first.get_metrics(recursive=True) == {first.id: {"loss": 0.5}, grandchild.id: {"loss": [0.25, 0.125]}}
    assert parent.get_metrics(name="scores") == {"scores": {"a": 1, "b": 2}}
    assert aml.metrics(grandchild.id) == {"loss": [0.25, 0.125]}


def test_upload_calls_and_downloads_by_prefix(aml, aml_experiment, tmp_path):
    folder = tmp_path / "model folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"a")
    (folder / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (tmp_path / "one.txt").write_bytes(b"one")
    (tmp_path / "two.txt").write_bytes(b"two")
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.upload_file("single/one.txt", str(tmp_path / "one.txt"))
    run.upload_files(["many/one.txt", "many/two.txt"], [str(tmp_path / "one.txt"), str(tmp_path / "two.txt")])
    run.upload_folder("folder", str(folder))
    assert sorted(run.get_file_names()) == ["folder/a.txt", "folder/sub/b.bin", "many/one.txt", "many/two.txt", "single/one.txt"]
    run.download_files(prefix="folder", output_directory=str(tmp_path / "out"))
    assert (tmp_path / "out" / "folder" / "sub" / "b.bin").read_bytes() == bytes(range(256))
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == ["a.txt", "b.bin"]
    run.download_file("many/two.txt", str(tmp_path / "dl.txt"))
    assert (tmp_path / "dl.txt").read_bytes() == b"two"
    assert aml.artifacts(run.id)["folder/a.txt"] == b"a"
    run.complete()


def test_the_service_limits_hold_through_the_sdk(aml, aml_experiment):
    """A row over 15 columns and a 51st metric name are refused by the service (a 207 the SDK only logs)."""
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.log_row("fifteen", **{f"c{i}": i for i in range(15)})
    run.log_row("sixteen", **{f"c{i}": i for i in range(16)})
    for index in range(49):
        run.log(f"metric {index}", index)
    run.flush()
    run.log("one too many", 1)
    run.flush()
    metrics = run.get_metrics()
    assert "fifteen" in metrics and "sixteen" not in metrics
    assert len(metrics) == 50 and "one too many" not in metrics
    assert len(aml.metrics(run.id)) == 50
    run.complete()
