"""The wire protocol: routes that map REST requests to backend calls."""

from __future__ import annotations

from typing import Any, Callable

from ..backend.service import Backend
from ..web import routes as browser
from . import admin, arm, artifacts, execution, history, metrics, mlflow, models, run_artifacts
from . import mlflow_registry  # noqa: F401 (its routes register themselves on mlflow.router)
from .access import Access
from .app import MAX_BLOB_BODY, ServiceApp, build_route_table

ROUTES = build_route_table(
    (
        arm.router,
        history.router,
        metrics.router,
        artifacts.router,
        execution.router,
        admin.router,
        models.router,
        mlflow.router,
        run_artifacts.router,
        browser.router,
    )
)


def create_app(
    backend: Backend,
    loopback: Callable[[], str] | None = None,
    transactions: Any = None,
    self_hosted: bool = False,
    access: Access | None = None,
    max_blob_body: int = MAX_BLOB_BODY,
) -> ServiceApp:
    """The WSGI app serving every route of the fake service from ``backend``.

    ``loopback`` returns the URL of the fake on 127.0.0.1 (starting it if needed), for local runs;
    ``transactions`` (``persistence.Transactions``) makes each changing request one committed transaction;
    ``self_hosted`` (the ``amlmock serve`` server) hands out its own URL whatever host it is called by;
    ``access`` says which tokens and SAS are accepted (permissive unless strict); ``max_blob_body`` caps a blob PUT.
    """
    return ServiceApp(backend, ROUTES, loopback, transactions, self_hosted, access, max_blob_body)


__all__ = ["ServiceApp", "create_app"]
