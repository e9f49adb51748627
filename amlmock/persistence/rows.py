"""Domain objects as rows of the state file, and back. Everything is data: JSON text, numbers and bytes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Iterator

from ..backend.metric_series import MetricSeries
from ..backend.models import DEFAULT_USER, Artifact, Experiment, Run, Snapshot, StatusEvent, Workspace
from ..backend.registry import ArtifactRef, Asset, RegisteredModel

Row = tuple[Any, ...]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _parse_required(text: str) -> datetime:
    """A time the fake always writes (a creation time, an event's time)."""
    return datetime.fromisoformat(text)


def _json(value: Any) -> str | None:
    return json.dumps(value) if value is not None else None  # ASCII: a lone surrogate is kept as an escape


def _unjson(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def workspace_row(ws: Workspace) -> Row:
    return (ws.workspace_id, ws.subscription_id, ws.resource_group, ws.name, ws.location, ws.run_counter)


def experiment_row(ws: Workspace, e: Experiment) -> Row:
    return (ws.workspace_id, e.experiment_id, e.name, _time(e.created_utc), e.description, _time(e.archived_time))


def keyed_rows(owner: tuple[str, str], values: dict[str, Any]) -> Iterator[Row]:
    """Tag or property rows of one run or experiment, in their order."""
    for position, (key, value) in enumerate(values.items()):
        yield (*owner, position, key, value)


def run_row(ws: Workspace, run: Run) -> Row:
    details = {
        "run_type_v2": run.run_type_v2,
        "run_definition": run.run_definition,
        "error": run.error,
        "warnings": run.warnings or None,
        "processes": run.processes or None,
        "created_by": None if run.created_by is DEFAULT_USER else dict(run.created_by),
        "events": [_event_row(event) for event in run.status_history] or None,
        "params": run.params or None,
        "deleted": run.deleted or None,
    }
    return (
        ws.workspace_id, run.run_id, run.experiment_id, run.run_number, run.root_run_id, run.parent_run_id,
        _time(run.created_utc), run.status, run.name, run.display_name, run.description, run.target, run.run_type,
        run.script_name, int(run.hidden), _time(run.start_time_utc), _time(run.end_time_utc), run._data_container_id,
        json.dumps({k: v for k, v in details.items() if v is not None}),
    )


def _event_row(event: StatusEvent) -> list[Any]:
    return [event.name, _time(event.received_utc), event.status_before, event.status_after, event.applied, event.reason, event.data]


def metric_rows(ws: Workspace, run: Run) -> Iterator[Row]:
    """One row per metric name of the run (its columns and type; the values are rows of their own)."""
    for series in run.metrics.values():
        yield (ws.workspace_id, run.run_id, series.name, _json(series.columns), series.ux_metric_type)


def metric_value_row(ws: Workspace, run: Run, name: str, metric_id: str, logged_at: float, step: int | None, data: Any) -> Row:
    return (ws.workspace_id, run.run_id, name, metric_id, logged_at, _json(step), _json(data))  # steps are any integer


def artifact_row(ws: Workspace, a: Artifact) -> Row:
    return (ws.workspace_id, a.container, a.path, a.origin, _time(a.created_utc))


def snapshot_row(ws: Workspace, s: Snapshot) -> Row:
    return (ws.workspace_id, s.snapshot_id, s.parent_id, _json(s.files), _time(s.created_utc), _json(list(s.tree)), _json(s.blobs))


def registry_row(ws: Workspace) -> Row:
    """The workspace's registry as one JSON document; an asset's files are named by their artifact keys."""
    registry = ws.registry
    assets = [
        {**_fields(asset, ("asset_id", "name", "run_id", "meta")), "created_utc": _time(asset.created_utc),
         "sources": [[r.origin, r.container, r.path] for r in asset.sources],
         "files": [[f.container, f.path] for f in asset.files]}
        for asset in registry.assets.values()
    ]
    models = [
        {**_fields(model, MODEL_FIELDS), "asset_id": model.asset.asset_id,
         "created_utc": _time(model.created_utc), "modified_utc": _time(model.modified_utc)}
        for model in registry.all_models()
    ]
    document = {"assets": assets, "models": models, "last_version": registry.last_version, "registrations": registry.registrations}
    return (ws.workspace_id, json.dumps(document))


MODEL_FIELDS = ("name", "version", "mime_type", "description", "tags", "properties", "framework", "framework_version",
                "unpack", "experiment_name", "run_id", "sequence")


def _fields(record: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


class Loader:
    """Rebuilds workspaces from rows, table by table (a table's rows only name objects of earlier tables)."""

    def __init__(self) -> None:
        self.workspaces: dict[str, Workspace] = {}
        self._experiments: dict[tuple[str, str], Experiment] = {}
        self._runs: list[tuple[Workspace, Run]] = []

    def workspace(self, rows: Iterable[Row]) -> None:
        for workspace_id, subscription, group, name, location, counter in rows:
            self.workspaces[workspace_id] = Workspace(subscription, group, name, location, workspace_id, run_counter=counter)

    def experiment(self, rows: Iterable[Row]) -> None:
        for workspace_id, experiment_id, name, created, description, archived in rows:
            experiment = Experiment(experiment_id, name, _parse_required(created), description, archived_time=_parse(archived))
            self.workspaces[workspace_id].add_experiment(experiment)
            self._experiments[(workspace_id, experiment_id)] = experiment

    def experiment_tag(self, rows: Iterable[Row]) -> None:
        for workspace_id, experiment_id, _, key, value in sorted(rows, key=lambda r: (r[0], r[1], r[2])):
            self._experiments[(workspace_id, experiment_id)].tags[key] = value

    def run(self, rows: Iterable[Row]) -> None:
        for row in sorted(rows, key=lambda r: (r[0], r[3])):  # by workspace, then run number: parents first
            ws = self.workspaces[row[0]]
            run = _run_from(row)
            ws.runs[run.run_id] = run
            self._runs.append((ws, run))

    def run_tag(self, rows: Iterable[Row]) -> None:
        self._keyed(rows, "tags")

    def run_property(self, rows: Iterable[Row]) -> None:
        self._keyed(rows, "properties")

    def _keyed(self, rows: Iterable[Row], attribute: str) -> None:
        for workspace_id, run_id, _, key, value in sorted(rows, key=lambda r: (r[0], r[1], r[2])):
            getattr(self.workspaces[workspace_id].runs[run_id], attribute)[key] = value

    def metric(self, rows: Iterable[Row]) -> None:
        for workspace_id, run_id, name, columns, ux_type in rows:
            self.workspaces[workspace_id].runs[run_id].add_metric(MetricSeries(name, _unjson(columns), ux_type))

    def metric_value(self, rows: Iterable[Row]) -> None:
        for workspace_id, run_id, name, metric_id, logged_at, step, data in rows:
            self.workspaces[workspace_id].runs[run_id].metrics[name].add(metric_id, logged_at, _unjson(step), _unjson(data))

    def artifact(self, rows: Iterable[Row]) -> None:
        for workspace_id, container, path, origin, created in rows:
            self.workspaces[workspace_id].artifacts[(container, path)] = Artifact(origin, container, path, _parse_required(created))

    def blob(self, rows: Iterable[Row]) -> None:
        for workspace_id, container, path, content in rows:
            self.workspaces[workspace_id].artifacts[(container, path)].content = bytes(content)

    def snapshot(self, rows: Iterable[Row]) -> None:
        for workspace_id, snapshot_id, parent_id, files, created, tree, blobs in rows:
            snapshot = Snapshot(snapshot_id, parent_id, _unjson(files), _parse_required(created), tuple(_unjson(tree)), _unjson(blobs))
            self.workspaces[workspace_id].snapshots[snapshot_id] = snapshot

    def registry(self, rows: Iterable[Row]) -> None:
        for workspace_id, document in rows:
            ws = self.workspaces[workspace_id]
            data = json.loads(document)
            assets = {}
            for a in data["assets"]:
                sources = [ArtifactRef(*source) for source in a["sources"]]
                files = [ws.artifacts[(container, path)] for container, path in a["files"]]
                assets[a["asset_id"]] = Asset(a["asset_id"], a["name"], sources, files, a["run_id"], _parse_required(a["created_utc"]), a["meta"])
            ws.registry.assets = assets
            for m in data["models"]:
                model = RegisteredModel(
                    **_fields_of(m, MODEL_FIELDS), asset=assets[m["asset_id"]],
                    created_utc=_parse_required(m["created_utc"]), modified_utc=_parse_required(m["modified_utc"]),
                )
                ws.registry.versions.setdefault(model.name, {})[model.version] = model
            ws.registry.last_version = dict(data["last_version"])
            ws.registry.registrations = data["registrations"]

    def finish(self) -> list[Workspace]:
        """Link runs to their experiments, parents and indexes (as the backend does when it creates them)."""
        for ws, run in self._runs:
            experiment = ws.experiment_by_id(run.experiment_id)
            assert experiment is not None
            run.experiment_name = experiment.name
            experiment.run_ids.append(run.run_id)
            experiment.index.add_run(run.run_id, run.root_run_id)
            run.tags = experiment.index.update("Tags/", run.run_id, {}, run.tags)
            run.properties = experiment.index.update("Properties/", run.run_id, {}, run.properties)
            if run.parent_run_id is not None:
                ws.runs[run.parent_run_id].add_child(run.run_id)
        return list(self.workspaces.values())


def _fields_of(document: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: document[name] for name in names}


def _run_from(row: Row) -> Run:
    (_, run_id, experiment_id, number, root, parent, created, status, name, display_name, description, target,
     run_type, script_name, hidden, start, end, container, details_text) = row
    details = json.loads(details_text)
    run = Run(
        run_id=run_id, experiment_id=experiment_id, experiment_name="", run_number=number, root_run_id=root,
        parent_run_id=parent, created_utc=_parse_required(created), created_by=details.get("created_by") or DEFAULT_USER,
        status=status, name=name, display_name=display_name, description=description, target=target,
        run_type=run_type, run_type_v2=details.get("run_type_v2"), script_name=script_name, hidden=bool(hidden),
        start_time_utc=_parse(start), end_time_utc=_parse(end), run_definition=details.get("run_definition"),
        error=details.get("error"), _data_container_id=container,
    )
    for warning in details.get("warnings") or ():
        run.add_warning(warning)
    for name_, received, before, after, applied, reason, data in details.get("events") or ():
        run.record_event(StatusEvent(name_, _parse_required(received), before, after, applied, reason, data))
    if details.get("processes"):
        run.record_processes(details["processes"])
    if details.get("params"):
        run.add_params(details["params"])
    run.deleted = bool(details.get("deleted"))
    return run
