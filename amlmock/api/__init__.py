"""The wire protocol: routes that map REST requests to backend calls."""

from __future__ import annotations

from typing import Callable

from ..backend.service import Backend
from ..web import routes as browser
from . import admin, arm, artifacts, execution, history, metrics, models
from .app import ServiceApp, build_route_table

ROUTES = build_route_table(
    (arm.router, history.router, metrics.router, artifacts.router, execution.router, admin.router, models.router, browser.router)
)


def create_app(
    backend: Backend,
    loopback: Callable[[], str] | None = None,
    after_change: Callable[[Backend], None] | None = None,
    self_hosted: bool = False,
) -> ServiceApp:
    """The WSGI app serving every route of the fake service from ``backend``.

    ``loopback`` returns the URL of the fake on 127.0.0.1 (starting it if needed), for local runs;
    ``after_change`` is called after every successful request that may have changed the state;
    ``self_hosted`` (the ``amlmock serve`` server) hands out its own URL whatever host it is called by.
    """
    return ServiceApp(backend, ROUTES, loopback, after_change, self_hosted)


__all__ = ["ServiceApp", "create_app"]
