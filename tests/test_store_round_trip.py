"""The state file holds everything the backend keeps: a state written incrementally reads back equal."""

from __future__ import annotations

from amlmock.api.wire import run_dto
from amlmock.backend.service import Backend
from amlmock.persistence.sqlite import SqliteStore
from amlmock.persistence.transactions import Transactions
from amlmock.api import parse
from amlmock.backend.values import PageRequest, RunEvent, RunFields


def _build(backend: Backend, transactions: Transactions) -> None:
    ws = backend.create_workspace("sub", "rg", "ws")
    other = backend.create_workspace("sub", "rg", "other")
    transactions.commit()
    exp = backend.create_experiment(ws, "exp")
    backend.update_experiment(exp, tags={"team": "a"}, archive=True)
    root = backend.create_or_update_run(ws, exp, "root", RunFields(tags={"t": "1", "\ud800": None}, properties={"p": "x"}))
    transactions.commit()  # several commits: the file is written incrementally
    backend.create_or_update_run(ws, exp, "child", RunFields(parent_run_id="root", display_name="kid", run_type_v2={"traits": ["a"]}))
    backend.post_event(root, RunEvent("Microsoft.MachineLearning.Run.Start"))
    backend.post_event(root, parse.run_event("Microsoft.MachineLearning.Run.Warning", {"Source": "s", "Message": "careful"}))
    backend.remove_tags(exp, root, ["t"])
    rows = [{"metricId": "id-1", "step": 2**70, "data": {"loss": 0.5}}, {"data": {"loss": float("nan")}}]
    backend.post_metrics(root, parse.metric_batch([{"name": "loss", "columns": {"loss": "double"}, "value": rows}])[0])
    backend.post_metrics(root, parse.metric_batch([{"name": "table", "value": [{"data": {"a": 1, "b": "é"}}]}])[0])
    transactions.commit()
    backend.write_blob(ws, "dcid.root", "outputs/a.bin", b"\x00\x01")
    backend.write_blob(ws, "dcid.root", "outputs/a.bin", b"\x02", append=True)
    backend.create_artifacts(ws, "ExperimentRun", "dcid.root", ["outputs/empty.txt"])
    backend.commit_snapshot(ws, "snap", None, {"a.py": 3})
    other_exp = backend.create_experiment(other, "exp")
    backend.create_or_update_run(other, other_exp, "root", RunFields())  # the same run id in another workspace
    transactions.commit()


def _view(backend: Backend) -> list:
    view = []
    for ws in backend.all_workspaces():
        experiments = [(e.experiment_id, e.name, e.tags, e.archived_time, e.run_ids) for e in ws.experiments.values()]
        runs = [(run_dto(r), r.children, r.warnings, [(n, s.columns, s.read()) for n, s in r.metrics.items()])
                for r in ws.runs.values()]
        artifacts = [(k, a.origin, a.created_utc, a.content) for k, a in ws.artifacts.items()]
        view.append((ws.key, ws.workspace_id, ws.run_counter, experiments, runs, artifacts, ws.snapshots))
    return repr(view)  # repr: NaN compares equal to itself as text


def write_then_reopen(path: str, build, view) -> tuple[str, Backend, SqliteStore]:
    """Build a state through a store, close it, and load the file into a new backend: (the view written, it, its store)."""
    backend = Backend(record_changes=True)
    store = SqliteStore(path)
    build(backend, Transactions(backend, store))
    expected = view(backend)
    store.close()
    reopened = Backend(record_changes=True)
    again = SqliteStore(path)
    reopened.restore(again.load())
    return expected, reopened, again


def test_a_state_written_incrementally_reads_back_equal(tmp_path):
    expected, reopened, again = write_then_reopen(str(tmp_path / "state.sqlite"), _build, _view)
    assert _view(reopened) == expected
    ws = reopened.get_workspace("sub", "rg", "ws")
    query = reopened.query_runs(ws, ws.experiments["exp"], PageRequest('Properties/p eq "x"'))  # through the experiment's index
    assert [r.run_id for r in query.items] == ["root"]  # the index is rebuilt too
    again.close()


def test_the_in_process_backend_records_no_changes():
    backend = Backend()
    backend.create_workspace("sub", "rg", "ws")
    assert not backend.take_changes()
    assert not backend.take_changes()


def test_a_repeated_metric_id_is_stored_once_however_long_the_series():
    from amlmock.backend.metric_series import MetricSeries

    series = MetricSeries("loss", {}, None)
    ids = [f"{n:08x}-0000-4000-8000-000000000000" if n % 2 else f"custom-{n}" for n in range(5_000)]
    assert all(series.add(i, float(n), n, {"loss": n}) for n, i in enumerate(ids))
    assert not any(series.add(i, 0.0, None, {"loss": -1}) for i in ids[::7])  # every repeat refused, across rebuilds
    assert len(series) == 5_000 and series.add("new", 1.0, None, {"loss": 0})


def _build_newer_state(backend: Backend, transactions: Transactions) -> None:
    """Snapshot trees, MLflow params and deleted runs, metrics logged through MLflow, and the model registry."""
    from amlmock.backend.registry import ArtifactRef, ModelChange, NewModel
    from amlmock.backend.tracking import MetricPoint, TrackingBatch

    ws = backend.create_workspace("sub", "rg", "ws")
    exp = backend.create_experiment(ws, "exp")
    backend.create_or_update_run(ws, exp, "run", RunFields())
    backend.write_blob(ws, "snapshots", "p1/a.py", b"print(1)")
    backend.commit_snapshot(ws, "s1", None, {"a.py": 8}, ["a.py"], {"a.py": "p1/a.py"})
    backend.commit_snapshot(ws, "s2", "s1", {}, ["a.py"], {})  # a.py unchanged: from s1
    transactions.commit()
    tracked = backend.create_tracking_run(ws, exp, "mlflow-run", [("stage", "train")])
    batch = TrackingBatch(metrics=[MetricPoint("loss", 0.25, 1_700_000_000_000, 3)], params=[("lr", "0.01")])
    backend.log_tracking_batch(ws, tracked, batch)
    backend.set_run_deleted(tracked, True)
    transactions.commit()
    backend.write_blob(ws, "dcid.run", "outputs/model.pkl", b"weights")
    asset = backend.registry.create_asset(ws, "model", [ArtifactRef("ExperimentRun", "dcid.run", "outputs/model.pkl")], run_id="run")
    transactions.commit()
    model = backend.registry.register(ws, NewModel("churn", asset.asset_id, "application/json", tags={"k": None}, run_id="run"))
    backend.registry.register(ws, NewModel("churn", asset.asset_id, "application/json"))
    backend.registry.update(ws, model.model_id, ModelChange(properties={"auc": "0.9"}, description="first"))
    transactions.commit()


def _newer_view(backend: Backend) -> str:
    ws = backend.get_workspace("sub", "rg", "ws")
    runs = [(r.run_id, r.params, r.deleted, r.status, {n: s.read() for n, s in r.metrics.items()}) for r in ws.runs.values()]
    models = [(m.model_id, m.tags, m.properties, m.description, m.run_id, m.files, m.sequence, m.created_utc)
              for m in backend.registry.models(ws)]
    return repr((runs, ws.snapshots, backend.snapshot_contents(ws, "s2"), models, ws.registry.last_version,
                 ws.registry.registrations))


def test_snapshots_mlflow_and_the_registry_read_back_equal(tmp_path):
    expected, reopened, again = write_then_reopen(str(tmp_path / "state.sqlite"), _build_newer_state, _newer_view)
    assert _newer_view(reopened) == expected
    assert "'lr': '0.01'" in expected and "{'a.py': b'print(1)'}" in expected and "'auc': '0.9'" in expected
    again.close()
