"""In-process transport: ``responses`` hands every request to the service's WSGI app.

One catch-all callback per HTTP method (overlapping registrations in ``responses`` answer once
and are then removed), so unknown hosts and paths reach the app too and get its
"amlmock does not implement ..." error instead of a ConnectionError the SDK would retry.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import requests
import responses
from requests import PreparedRequest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from ..api.faults import ConnectionDropped

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ANY_URL = re.compile(r".*")

WSGIApp = Callable[..., Any]


def wsgi_callback(app: WSGIApp) -> Callable[[PreparedRequest], tuple[int, dict[str, str], bytes]]:
    """A ``responses`` callback that runs ``app`` on the intercepted request."""

    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        builder = EnvironBuilder(
            method=request.method,
            base_url=_origin(request.url or ""),
            path=_path_and_query(request.url or ""),
            headers={k: v for k, v in request.headers.items() if k.lower() != "content-length"},
            data=body or b"",
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        try:
            app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
        except ConnectionDropped as dropped:
            raise requests.exceptions.ConnectionError(str(dropped)) from None
        try:
            content = b"".join(app_iter)
        finally:
            getattr(app_iter, "close", lambda: None)()
        header_map = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        return int(status.split()[0]), header_map, content

    return callback


def _origin(url: str) -> str:
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)", url)
    return match.group(1) if match else url


def _path_and_query(url: str) -> str:
    rest = url[len(_origin(url)):]
    return rest or "/"


class ResponsesTransport:
    """Routes all ``requests`` traffic of this process to the app while started."""

    def __init__(self, app: WSGIApp, passthru_prefixes: tuple[str, ...] = ()) -> None:
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        callback = wsgi_callback(app)
        for prefix in passthru_prefixes:
            self.mock.add_passthru(prefix)
        for method in METHODS:
            self.mock.add_callback(method, ANY_URL, callback=callback)

    def start(self) -> None:
        """Begin intercepting."""
        self.mock.start()

    def stop(self) -> None:
        """Stop intercepting; requests go to the network again."""
        self.mock.stop()
        self.mock.reset()
