"""The run browser's routes: read-only HTML pages behind the browser token (``access``)."""

from __future__ import annotations

import mimetypes
from html import escape
from typing import Callable

from werkzeug.wrappers import Response

from ..api.app import Call, Router
from ..backend.errors import ServiceError
from .access import COOKIE, allowed, given_token
from .layout import page
from .links import PREFIX, ServerLinks
from .lists import FILTER_FIELDS, home_page, runs_page, workspace_page
from .runpage import run_page

router = Router()
LINKS = ServerLinks()
WORKSPACE = PREFIX + "/<subscription_id>/<resource_group>/<workspace_name>"
HTML_TYPE = "text/html; charset=utf-8"
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'"  # nothing runs or is fetched
FILE_POLICY = "sandbox"  # a run's file never runs script with the browser's cookie
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif")  # shown in the metrics section; everything else is a download


def _guarded(render: Callable[..., Response | str]) -> Callable[..., Response]:
    """Checks the browser token (URL or cookie) and turns a page, or a service error, into a response."""

    def handler(call: Call, **values: str) -> Response:
        token, in_url = given_token(call.request)
        if not allowed(call.browser_token, token):
            why = "This page needs the browser token: open the URL amlmock printed (it ends in ?token=...)."
            return Response(page("Forbidden", [], f"<p>{why}</p>"), 403, content_type=HTML_TYPE)
        try:
            result = render(call, **values)
        except ServiceError as error:
            body = f'<p class="error">{escape(error.message)}</p>'
            result = Response(page("Not found", [("Workspaces", "/")], body), error.status, content_type=HTML_TYPE)
        response = result if isinstance(result, Response) else Response(result, content_type=HTML_TYPE)
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        if in_url:
            response.set_cookie(COOKIE, token or "", httponly=True, samesite="Strict", path="/")
        return response

    handler.__name__ = "browse_" + render.__name__
    return handler



def home(call: Call) -> str:
    """The workspaces."""
    return home_page(call.backend, LINKS)


def experiments(call: Call, **values: str) -> str:
    """A workspace's experiments."""
    return workspace_page(call.backend, LINKS, call.path_workspace(values))


def runs(call: Call, experiment_name: str, **values: str) -> str:
    """An experiment's runs, filtered and paged."""
    form = {key: call.request.args.get(key, "") for key in (*FILTER_FIELDS, "page")}
    return runs_page(call.backend, LINKS, call.path_workspace(values), experiment_name, form)


def run(call: Call, run_id: str, **values: str) -> str:
    """A run's page."""
    return run_page(call.backend, LINKS, call.path_workspace(values), run_id)


def file(call: Call, run_id: str, path: str, **values: str) -> Response:
    """One of the run's files, as a download (images inline, for the metrics section)."""
    workspace = call.path_workspace(values)
    found = call.backend.get_run(workspace, run_id)
    artifact = call.backend.get_artifact(workspace, found.data_container_id, path)
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = Response(artifact.content or b"", content_type=kind)
    response.headers["Content-Security-Policy"] = FILE_POLICY
    if kind not in INLINE_TYPES:
        response.headers["Content-Disposition"] = "attachment"
    return response


for rule, render in (
    ("/", home),
    (WORKSPACE, experiments),
    (WORKSPACE + "/experiments/<experiment_name>", runs),
    (WORKSPACE + "/runs/<run_id>", run),
    (WORKSPACE + "/runs/<run_id>/files/<path:path>", file),
):
    router.route(rule, "GET", public=True)(_guarded(render))
