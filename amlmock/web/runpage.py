"""A run's page: details, status history, children tree, metrics, driver log, files and registered models."""

from __future__ import annotations

from html import escape

from ..backend.errors import NotFoundError
from ..backend.lifecycle import TERMINAL_STATES
from ..backend.models import Run, Workspace
from ..backend.service import Backend
from ..backend.values import PageRequest
from ..defaults import DRIVER_LOG
from .layout import labels, link, page, run_title, status, table, when
from .links import Links
from .metrics import metrics_section

REFRESH_SECONDS = 3
MAX_LOG_CHARACTERS = 200_000  # the tail shown of a longer log
CHILD_PAGE = 5000


def run_page(backend: Backend, links: Links, workspace: Workspace, run_id: str, live: bool = True) -> str:
    """The whole page of one run; a ``live`` page reloads itself while the run is not finished."""
    run = backend.get_run(workspace, run_id)
    crumbs = [
        ("Workspaces", links.home()),
        (workspace.name, links.workspace(workspace)),
        (run.experiment_name, links.experiment(workspace, run.experiment_name)),
        (run.run_id, None),
    ]
    sections = (
        _details(links, workspace, run),
        _history(backend, run),
        "<h2>Children</h2>" + (_children(backend, links, workspace, run) or "<p>No child runs.</p>"),
        metrics_section(backend, links, workspace, run),
        _log(backend, workspace, run),
        _files(backend, links, workspace, run),
        _models(backend, workspace, run),
        _params(backend, run),
    )
    refresh = REFRESH_SECONDS if live and run.status not in TERMINAL_STATES else None
    return page(run_title(run), crumbs, "".join(sections), refresh)


def _details(links: Links, workspace: Workspace, run: Run) -> str:
    parent = link(run.parent_run_id, links.run(workspace, run.parent_run_id)) if run.parent_run_id else ""
    rows = [
        ("Run id", escape(run.run_id)),
        ("Status", status(run.status)),
        ("Run number", str(run.run_number)),
        ("Parent", parent),
        ("Target", escape(run.target or "")),
        ("Created (UTC)", when(run.created_utc)),
        ("Started", when(run.start_time_utc)),
        ("Ended", when(run.end_time_utc)),
        ("Tags", labels(run.tags)),
        ("Properties", labels(run.properties)),
    ]
    if run.error:
        rows.append(("Error", f'<span class="error">{escape(str(run.error))}</span>'))
    return table(("Field", "Value"), rows, "details")


def _history(backend: Backend, run: Run) -> str:
    rows = [
        (when(e.received_utc), escape(e.name), escape(e.status_before), escape(e.status_after), "yes" if e.applied else escape(e.reason))
        for e in backend.status_history(run)
    ]
    return "<h2>Status history</h2>" + table(("Received (UTC)", "Event", "From", "To", "Applied"), rows, "history")


def _children(backend: Backend, links: Links, workspace: Workspace, run: Run) -> str:
    """The run's descendants as nested lists (empty when it has none)."""
    items, token = [], None
    while True:
        found = backend.list_children(workspace, run, PageRequest(None, "CreatedUtc asc", CHILD_PAGE, token))
        for child in found.items:
            entry = link(run_title(child), links.run(workspace, child.run_id), "child")
            items.append(f"<li>{entry} {status(child.status)}{_children(backend, links, workspace, child)}</li>")
        token = found.continuation_token
        if token is None:
            return f'<ul class="tree">{"".join(items)}</ul>' if items else ""


def _log(backend: Backend, workspace: Workspace, run: Run) -> str:
    try:
        content = backend.get_artifact(workspace, run.data_container_id, DRIVER_LOG).content or b""
    except NotFoundError:
        return "<h2>Driver log</h2><p>No driver log (only submitted runs have one).</p>"
    text = content.decode("utf-8", "replace")[-MAX_LOG_CHARACTERS:]
    return f'<h2>Driver log <small>{escape(DRIVER_LOG)}</small></h2><pre class="log" id="driver-log">{escape(text)}</pre>'


def _files(backend: Backend, links: Links, workspace: Workspace, run: Run) -> str:
    rows = [
        (link(a.path, links.file(workspace, run.run_id, a.path), "file"), str(len(a.content)) if a.content is not None else "(no content)")
        for a in backend.list_artifacts(workspace, run.data_container_id)
    ]
    return "<h2>Files</h2>" + (table(("Path", "Bytes"), rows, "files") if rows else "<p>No files.</p>")


def _params(backend: Backend, run: Run) -> str:
    """The run's MLflow parameters (``mlflow.log_param``), as MLflow's view of the run shows them."""
    rows = [(escape(key), escape(value)) for key, value in backend.tracking_params(run).items()]
    body = table(("Param", "Value"), rows, "params") if rows else "<p>No MLflow params logged.</p>"
    return f'<h2>MLflow params</h2><div id="mlflow-params">{body}</div>'


def _models(backend: Backend, workspace: Workspace, run: Run) -> str:
    rows = [
        (escape(m.name), str(m.version), when(m.created_utc), labels(m.tags), labels(m.properties), escape(m.description or ""))
        for m in backend.registry.models(workspace)
        if m.run_id == run.run_id
    ]
    body = table(("Model", "Version", "Registered (UTC)", "Tags", "Properties", "Description"), rows, "models") if rows else "<p>No models registered from this run.</p>"
    return "<h2>Registered models</h2>" + body
