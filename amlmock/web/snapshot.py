"""The run browser's pages as static files: what ``pytest --aml-browse`` writes for a failed test."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import quote

from ..backend.models import Experiment, Run, Workspace
from ..backend.paging import MAX_PAGE_SIZE
from ..backend.service import Backend
from ..backend.values import PageRequest
from .lists import home_page, runs_page, workspace_page
from .runpage import run_page


def _key(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:12]


class SnapshotLinks:
    """File names in one folder: ``index.html``, ``ws-*.html``, ``exp-*.html``, ``run-*.html``, ``files/...``."""

    def home(self) -> str:
        return "index.html"

    def workspace(self, workspace: Workspace) -> str:
        return f"ws-{_key(*workspace.key)}.html"

    def experiment(self, workspace: Workspace, name: str, query: Mapping[str, str] | None = None) -> str:
        return f"exp-{_key(*workspace.key, name)}.html"

    def run(self, workspace: Workspace, run_id: str) -> str:
        return f"run-{_key(*workspace.key, run_id)}.html"

    def file(self, workspace: Workspace, run_id: str, path: str) -> str:
        return quote(self.file_name(workspace, run_id, path))

    def file_name(self, workspace: Workspace, run_id: str, path: str) -> str:
        """Where a run's file is written (``file`` is its link)."""
        return f"files/{_key(*workspace.key, run_id)}/{path}"


def write_snapshot(backend: Backend, folder: Path) -> Path:
    """Write every page of the fake's state (all runs on one page per experiment, no filters) under ``folder``;
    returns the path of its ``index.html``."""
    links = SnapshotLinks()
    folder.mkdir(parents=True, exist_ok=True)
    pages = {links.home(): home_page(backend, links)}
    for workspace in backend.list_workspaces():
        pages[links.workspace(workspace)] = workspace_page(backend, links, workspace)
        for experiment in backend.list_experiments(workspace):
            pages[links.experiment(workspace, experiment.name)] = runs_page(backend, links, workspace, experiment.name, {}, MAX_PAGE_SIZE)
            for run in _all_runs(backend, workspace, experiment):
                pages[links.run(workspace, run.run_id)] = run_page(backend, links, workspace, run.run_id, live=False)
                _write_files(backend, links, workspace, run, folder)
    for name, html in pages.items():
        (folder / name).write_text(html, encoding="utf-8")
    return folder / links.home()


def _all_runs(backend: Backend, workspace: Workspace, experiment: Experiment) -> Iterator[Run]:
    token = None
    while True:
        found = backend.query_runs(workspace, experiment, PageRequest(top=MAX_PAGE_SIZE, token=token))
        yield from found.items
        token = found.continuation_token
        if token is None:
            return


def _write_files(backend: Backend, links: SnapshotLinks, workspace: Workspace, run: Run, folder: Path) -> None:
    for artifact in backend.list_artifacts(workspace, run.data_container_id):
        target = folder / links.file_name(workspace, run.run_id, artifact.path)
        if folder.resolve() not in target.resolve().parents:  # artifact names are checked, but never write outside
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(artifact.content or b"")
