"""``amlmock serve``: the fake service over HTTP, moto_server style."""

from __future__ import annotations

import signal
import sys
import threading
import webbrowser
from dataclasses import dataclass
from typing import Sequence

from .api import ServiceApp, create_app
from .backend.service import Backend
from .backend.store import SqliteStore
from .defaults import DEFAULT_SUBSCRIPTION
from .execution.processes import local_run_processes
from .execution.supervisor import stop_local_runs
from .transports.server import LoopbackServer
from .web.access import browser_url, new_token


@dataclass(frozen=True)
class WorkspaceSpec:
    """A workspace to create at start-up."""

    name: str
    resource_group: str
    subscription_id: str = DEFAULT_SUBSCRIPTION


def pair_workspaces(names: Sequence[str], groups: Sequence[str], subscriptions: Sequence[str]) -> list[WorkspaceSpec]:
    """``--workspace A --resource-group G [--subscription-id S]`` repeated: one spec per workspace."""
    if len(names) != len(groups):
        raise ValueError("every --workspace needs its --resource-group (give them in pairs)")
    if subscriptions and len(subscriptions) not in (1, len(names)):
        raise ValueError("give one --subscription-id for all workspaces, or one per workspace")
    subs = list(subscriptions) * len(names) if len(subscriptions) == 1 else list(subscriptions)
    return [
        WorkspaceSpec(name, group, subs[i] if subs else DEFAULT_SUBSCRIPTION)
        for i, (name, group) in enumerate(zip(names, groups, strict=True))
    ]


def serve(host: str, port: int, workspaces: Sequence[WorkspaceSpec], state: str | None, open_browser: bool = False) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit code. ``open_browser`` opens the run browser."""
    backend = Backend(process_check=local_run_processes)
    store = SqliteStore(state) if state else None
    if store is not None:
        store.load_into(backend)
    for spec in workspaces:
        backend.create_workspace(spec.subscription_id, spec.resource_group, spec.name)
    if store is not None:
        store.save(backend)
    app = create_app(backend, after_change=store.save if store else None, self_hosted=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    server = LoopbackServer(app, host, port).start()
    print(f"amlmock serving on {server.url}", flush=True)
    _announce_browser(app, server.url, open_browser)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"amlmock: warning: listening on {host}, not only on loopback", file=sys.stderr, flush=True)
    while not stopped.wait(0.5):
        pass
    canceled = stop_local_runs(backend)
    server.stop()
    if store is not None:
        store.save(backend)
        store.close()
    print(f"amlmock stopped ({len(canceled)} local runs canceled)", flush=True)
    return 0


def _announce_browser(app: ServiceApp, url: str, open_browser: bool) -> None:
    """Give the app a fresh browser token, print the run browser's URL and open it when asked."""
    app.browser_token = new_token()
    page = browser_url(url, app.browser_token)
    print(f"amlmock run browser: {page}", flush=True)
    if open_browser:
        webbrowser.open(page)
