"""In-process transport: ``responses`` hands every request to the service's WSGI app.

One catch-all callback per HTTP method (overlapping registrations in ``responses`` answer once
and are then removed), so unknown hosts and paths reach the app too and get its
"amlmock does not implement ..." error instead of a ConnectionError the SDK would retry.
"""

from __future__ import annotations

import functools
import io
import re
import sys
from typing import Any, Callable
from urllib.parse import unquote_to_bytes

import requests
import responses
from requests import PreparedRequest

from ..api.faults import ConnectionDropped

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ANY_URL = re.compile(r".*")

WSGIApp = Callable[..., Any]
Reply = tuple[int, dict[str, str], bytes]  # what a ``responses`` callback returns: status, headers, body


def wsgi_callback(app: WSGIApp) -> Callable[[PreparedRequest], Reply]:
    """A ``responses`` callback that runs ``app`` on the intercepted request."""

    def callback(request: PreparedRequest) -> Reply:
        reply: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            reply[:] = [status, headers]

        try:
            app_iter = app(wsgi_environ(request), start_response)
        except ConnectionDropped as dropped:
            raise requests.exceptions.ConnectionError(str(dropped)) from None
        try:
            content = b"".join(app_iter)
        finally:
            getattr(app_iter, "close", lambda: None)()
        status, headers = reply
        header_map = {k: v for k, v in headers if k.lower() != "content-length"}
        return int(status.split()[0]), header_map, content

    return callback


def _body_bytes(body: Any) -> bytes:
    """A request body as bytes: ``requests`` allows bytes, text, a file or an iterable of chunks."""
    if hasattr(body, "read"):
        body = body.read()
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)


def wsgi_environ(request: PreparedRequest) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an intercepted request, as an HTTP server would build it."""
    body = _body_bytes(request.body)
    scheme, _, rest = (request.url or "").partition("://")
    host, slash, path = rest.partition("/")
    path, _, query = path.partition("#")[0].partition("?")
    name, colon, port = host.rpartition(":")
    if not colon or not port.isdigit():  # no port, or the end of an IPv6 address
        name, port = host, ""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method or "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(slash + path or "/").decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": name.strip("[]") or "localhost",
        "SERVER_PORT": port or ("443" if scheme == "https" else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": host,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for header, value in request.headers.lower_items():
        key = _environ_key(header)
        if key is not None:
            environ[key] = value
    return environ


@functools.lru_cache(maxsize=256)
def _environ_key(header: str) -> str | None:
    """The environ key of a header (PEP 3333); None for Content-Length and Transfer-Encoding: the body is
    passed whole (a chunked body already joined, as a server does), so its length decides."""
    key = header.upper().replace("-", "_")
    if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
        return None
    return key if key == "CONTENT_TYPE" else "HTTP_" + key


def catch_all(
    callback: Callable[[PreparedRequest], Reply], passthru_prefixes: tuple[str, ...] = ()
) -> responses.RequestsMock:
    """A ``responses`` mock that hands every request of every method to ``callback`` (except ``passthru_prefixes``)."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    for prefix in passthru_prefixes:
        mock.add_passthru(prefix)
    for method in METHODS:
        mock.add_callback(method, ANY_URL, callback=callback)
    return mock


class ResponsesTransport:
    """Routes all ``requests`` traffic of this process to the app while started."""

    def __init__(self, app: WSGIApp, passthru_prefixes: tuple[str, ...] = ()) -> None:
        self.mock = catch_all(wsgi_callback(app), passthru_prefixes)

    def start(self) -> None:
        """Begin intercepting."""
        self.mock.start()

    def stop(self) -> None:
        """Stop intercepting; requests go to the network again."""
        self.mock.stop()
        self.mock.reset()
