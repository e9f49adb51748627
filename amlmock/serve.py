"""``amlmock serve``: the fake service over HTTP, moto_server style."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import webbrowser
from dataclasses import dataclass, replace
from typing import Sequence

from .api import ServiceApp, create_app
from .api.access import ADMIN_TOKEN_ENV, Access
from .api.app import MAX_JSON_BODY
from .backend.service import Backend
from .defaults import DEFAULT_SUBSCRIPTION
from .execution.processes import local_run_processes
from .execution.supervisor import stop_local_runs
from .persistence.sqlite import SqliteStore
from .persistence.transactions import Transactions
from .transports.http import HttpLimits, HttpServer, log_without_blocking
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


@dataclass(frozen=True)
class ServeOptions:
    """How ``amlmock serve`` listens, stores and admits (the CLI's options)."""

    host: str = "127.0.0.1"
    port: int = 0
    state: str | None = None
    url: str | None = None  # the address handed out in URLs; default http://HOST:PORT
    limits: HttpLimits = HttpLimits()


def _allow_open_files(wanted: int) -> None:
    """Raise the soft limit of open files towards ``wanted`` (each connection is one), within the hard limit."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def admin_token() -> tuple[str, bool]:
    """The admin token from ``AMLMOCK_ADMIN_TOKEN``, or a fresh one; and whether it was made here."""
    given = os.environ.get(ADMIN_TOKEN_ENV)
    return (given, False) if given else (secrets.token_urlsafe(24), True)


def serve(options: ServeOptions, workspaces: Sequence[WorkspaceSpec], open_browser: bool = False) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit code. Raises StateFileError for an unusable state file.

    ``open_browser`` opens the run browser.
    """
    backend = Backend(process_check=local_run_processes, record_changes=options.state is not None)
    store = SqliteStore(options.state) if options.state else None
    transactions = Transactions(backend, store) if store is not None else None
    if store is not None:
        backend.restore(store.load())
    for spec in workspaces:
        backend.create_workspace(spec.subscription_id, spec.resource_group, spec.name)
    if transactions is not None:
        transactions.commit()
    token, made = admin_token()
    log_without_blocking()
    address: list[str] = []
    app = create_app(
        backend, loopback=lambda: address[0], transactions=transactions, self_hosted=True,
        access=Access(strict=True, admin_token=token), max_blob_body=options.limits.max_body,
    )
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    _allow_open_files(options.limits.connection_limit + 100)
    transport_limits = replace(options.limits, max_body=max(options.limits.max_body, MAX_JSON_BODY))
    server = HttpServer(app, options.host, options.port, transport_limits)
    host = f"[{options.host}]" if ":" in options.host else options.host
    address.append((options.url or f"http://{host}:{server.port}").rstrip("/"))
    server.start()
    print(f"amlmock serving on {address[0]}", flush=True)
    print(f"amlmock admin token: {token}" if made else f"amlmock admin token: from ${ADMIN_TOKEN_ENV}", flush=True)
    _announce_browser(app, address[0], open_browser)
    if options.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"amlmock: warning: listening on {options.host}, not only on loopback", file=sys.stderr, flush=True)
    while not stopped.wait(0.5):
        pass
    canceled = stop_local_runs(backend)
    server.stop()
    if transactions is not None and store is not None:
        with backend.exclusively():
            transactions.commit()
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
