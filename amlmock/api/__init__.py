"""The wire protocol: routes that map REST requests to backend calls."""

from __future__ import annotations

from ..backend.service import Backend
from . import arm, artifacts, history, metrics
from .app import ServiceApp, build_url_map

URL_MAP = build_url_map((arm.router, history.router, metrics.router, artifacts.router))


def create_app(backend: Backend) -> ServiceApp:
    """The WSGI app serving every route of the fake service from ``backend``."""
    return ServiceApp(backend, URL_MAP)


__all__ = ["ServiceApp", "create_app"]
