"""The list pages: workspaces, a workspace's experiments, an experiment's runs (filtered and paged)."""

from __future__ import annotations

from html import escape
from typing import Mapping

from ..backend.errors import ServiceError
from ..backend.lifecycle import ALL_STATES
from ..backend.models import Run, Workspace
from ..backend.service import Backend
from ..backend.values import PageRequest
from .layout import labels, link, page, run_title, status, table, when
from .links import Links

RUNS_PER_PAGE = 50
RUN_ORDER = "CreatedUtc desc"
FILTER_FIELDS = ("status", "tag", "property", "children")


def home_page(backend: Backend, links: Links) -> str:
    """Every workspace, with its experiments and run counts."""
    rows = [
        (
            link(ws.name, links.workspace(ws)),
            escape(ws.resource_group),
            escape(ws.subscription_id),
            str(len(backend.list_experiments(ws))),
        )
        for ws in backend.list_workspaces()
    ]
    body = table(("Workspace", "Resource group", "Subscription", "Experiments"), rows) if rows else "<p>No workspaces yet.</p>"
    return page("Workspaces", [("Workspaces", None)], body)


def workspace_page(backend: Backend, links: Links, workspace: Workspace) -> str:
    """The workspace's experiments."""
    rows = [
        (link(e.name, links.experiment(workspace, e.name)), when(e.created_utc), str(len(e.run_ids)), labels(e.tags))
        for e in backend.list_experiments(workspace)
    ]
    body = table(("Experiment", "Created (UTC)", "Runs", "Tags"), rows) if rows else "<p>No experiments yet.</p>"
    return page(workspace.name, [("Workspaces", links.home()), (workspace.name, None)], body)


def run_filter(form: Mapping[str, str]) -> str | None:
    """The OData filter ``get_runs`` would send for the form's status, ``tag`` and ``property``
    (``key`` or ``key=value``); top-level runs only unless ``children`` is set, as Studio lists them."""
    clauses = [] if form.get("children") else ["ParentRunId eq null"]
    if form.get("status"):
        clauses.append(f"Status eq {form['status']}")
    for field, prefix in (("tag", "Tags"), ("property", "Properties")):
        key, has_value, value = (form.get(field) or "").partition("=")
        if key:
            clauses.append(f"{prefix}/{key} eq {value}" if has_value else f"{prefix}/{key} ne null")
    return "(" + " and ".join(f"({c})" for c in clauses) + ")" if clauses else None


def runs_page(
    backend: Backend, links: Links, workspace: Workspace, name: str, form: Mapping[str, str], per_page: int = RUNS_PER_PAGE
) -> str:
    """One page of the experiment's runs, newest first, filtered as the form says."""
    experiment = backend.get_experiment(workspace, name)
    crumbs = [("Workspaces", links.home()), (workspace.name, links.workspace(workspace)), (name, None)]
    try:
        found = backend.query_runs(workspace, experiment, PageRequest(run_filter(form), RUN_ORDER, per_page, form.get("page") or None))
    except ServiceError as error:
        return page(name, crumbs, _filter_form(form) + f'<p class="error">{escape(error.message)}</p>')
    rows = [_run_row(links, workspace, run) for run in found.items]
    more = ""
    if found.continuation_token:
        more = "<p>" + link("Next page ›", links.experiment(workspace, name, {**form, "page": found.continuation_token}), "next") + "</p>"
    listing = table(("Run", "Status", "Created (UTC)", "Started", "Ended", "Tags", "Properties"), rows, "runs") if rows else "<p>No runs match.</p>"
    return page(name, crumbs, _filter_form(form) + listing + more)


def _run_row(links: Links, workspace: Workspace, run: Run) -> tuple[str, ...]:
    parent = f"<br><small>child of {escape(run.parent_run_id)}</small>" if run.parent_run_id else ""
    return (
        link(run_title(run), links.run(workspace, run.run_id), "run") + parent,
        status(run.status),
        when(run.created_utc),
        when(run.start_time_utc),
        when(run.end_time_utc),
        labels(run.tags),
        labels(run.properties),
    )


def _filter_form(form: Mapping[str, str]) -> str:
    options = "".join(
        f'<option{" selected" if form.get("status") == state else ""}>{state}</option>' for state in ("", *ALL_STATES)
    )
    fields = "".join(
        f'<label>{field} <input name="{field}" value="{escape(form.get(field, ""))}" placeholder="key or key=value"></label>'
        for field in ("tag", "property")
    )
    children = f'<label><input type="checkbox" name="children" value="1"{" checked" if form.get("children") else ""}> child runs too</label>'
    return f'<form class="filter" method="get"><label>status <select name="status">{options}</select></label>{fields}{children} <button>Filter</button></form>'
