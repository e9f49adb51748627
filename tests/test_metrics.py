"""Metrics: every logging call reads back exactly as logged, in logging order."""

from __future__ import annotations

import struct
import zlib

from azureml.core import Run

from tests.helpers import raw


def tiny_png(path):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return str(path)


def test_every_kind_of_metric_reads_back(aml_experiment, tmp_path):
    run = aml_experiment.start_logging(snapshot_directory=None)
    run.log("accuracy", 0.9)
    run.log("accuracy", 0.95)
    run.log("epochs", 10)
    run.log("note", "hello")
    run.log_list("losses", [3.0, 2.0, 1.5])
    run.log_row("row", x=1, y=2.5)
    run.log_table("table", {"a": [1, 2], "b": ["u", "v"]})
    run.log_image("plot", path=tiny_png(tmp_path / "plot.png"))
    run.complete()
    metrics = Run(aml_experiment, run.id).get_metrics()
    assert metrics["accuracy"] == [0.9, 0.95]
    assert metrics["epochs"] == 10
    assert metrics["note"] == "hello"
    assert metrics["losses"] == [3.0, 2.0, 1.5]
    assert metrics["row"] == {"x": 1, "y": 2.5}
    assert metrics["table"] == {"a": [1, 2], "b": ["u", "v"]}
    assert metrics["plot"].startswith("aml://artifactId/ExperimentRun/dcid.")
    assert run.get_metrics(name="losses") == {"losses": [3.0, 2.0, 1.5]}


def test_many_values_come_back_in_logging_order(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    for step in range(1200):
        run.log("loss", float(step), step=step)
    run.complete()
    assert run.get_metrics()["loss"] == [float(s) for s in range(1200)]
    assert aml.metrics(run.id)["loss"][:3] == [0.0, 1.0, 2.0]


def metric_batch(names, created):
    return {
        "values": [
            {
                "name": name,
                "columns": {name: "double"},
                "properties": {"uxMetricType": "azureml.v1.scalar"},
                "value": [{"metricId": f"{name}-{created}", "createdUtc": created, "data": {name: value}}],
            }
            for name, value in names
        ],
        "reportErrors": True,
    }


def metric_url(aml, run_id, action):
    return f"https://eastus.api.azureml.ms/metric/v2.0{aml.create_workspace().arm_id}/runs/{run_id}/{action}"


def test_batches_arriving_out_of_order_read_back_in_logging_order(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    later = metric_batch([("loss", 2.0)], "2026-01-01T00:00:02.000000Z")
    earlier = metric_batch([("loss", 1.0)], "2026-01-01T00:00:01.000000Z")
    assert raw("POST", metric_url(aml, run.id, "batch"), json=later).status_code == 200
    assert raw("POST", metric_url(aml, run.id, "batch"), json=earlier).status_code == 200
    assert run.get_metrics()["loss"] == [1.0, 2.0]
    run.complete()


def test_metric_ids_read_back_exactly_as_sent(aml, aml_experiment):
    """Canonical GUIDs are stored compactly; any other id (upper case, braces, free text) is kept as sent."""
    run = aml_experiment.start_logging(snapshot_directory=None)
    sent = ["0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}", "loss-7"]
    batch = metric_batch([("loss", 1.0)] * len(sent), "2026-01-01T00:00:00Z")
    for entry, metric_id in zip(batch["values"], sent):
        entry["value"][0]["metricId"] = metric_id
    assert raw("POST", metric_url(aml, run.id, "batch"), json=batch).status_code == 200
    read = raw("POST", metric_url(aml, run.id, "full"), json={"metricName": "loss"}).json()
    assert [value["metricId"] for value in read["value"]] == sent
    run.complete()


def test_metric_names_beyond_the_limit_are_refused_one_by_one(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    names = [(f"m{i}", 1.0) for i in range(51)]
    response = raw("POST", metric_url(aml, run.id, "batch"), json=metric_batch(names, "2026-01-01T00:00:00Z"))
    assert response.status_code == 207
    errors = response.json()["errors"]
    assert [e["metric"]["name"] for e in errors] == ["m50"]
    assert errors[0]["errorResponse"]["error"]["code"] == "ValidationError"
    assert len(aml.metrics(run.id)) == 50
    run.complete()


def test_a_batch_over_250_rows_is_refused_whole(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    batch = metric_batch([("loss", 1.0)], "2026-01-01T00:00:00Z")
    batch["values"][0]["value"] = batch["values"][0]["value"] * 251
    response = raw("POST", metric_url(aml, run.id, "batch"), json=batch)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValidationError"
    assert aml.metrics(run.id) == {}
    run.complete()


def test_unknown_metric_is_a_404(aml, aml_experiment):
    run = aml_experiment.start_logging(snapshot_directory=None)
    response = raw("POST", metric_url(aml, run.id, "full"), json={"metricName": "nope"})
    assert response.status_code == 404
    assert run.get_metrics(name="nope") == {}
    run.complete()


def test_recursive_metrics(aml_experiment):
    with aml_experiment.start_logging(snapshot_directory=None) as parent:
        parent.log("top", 1)
        with parent.child_run() as child:
            child.log("inner", 2)
    metrics = parent.get_metrics(recursive=True)
    assert metrics == {parent.id: {"top": 1}, child.id: {"inner": 2}}
