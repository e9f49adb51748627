"""Loopback transport: the same WSGI app served over HTTP on 127.0.0.1, for other processes."""

from __future__ import annotations

import threading
from typing import Any, Callable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.05  # how fast stop() returns (socketserver checks for shutdown between polls)


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: tests and the CLI keep their output clean."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class LoopbackServer:
    """A threaded HTTP server for ``app``; ``port=0`` picks a free port."""

    def __init__(self, app: Callable[..., Any], host: str = LOOPBACK, port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self._server is None:
            raise RuntimeError("amlmock: the loopback server is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.server_port}"

    @property
    def running(self) -> bool:
        """True while serving."""
        return self._server is not None

    def start(self) -> "LoopbackServer":
        """Bind and serve in a daemon thread."""
        if self._server is None:
            self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name="amlmock-server", daemon=True
            )
            self._thread.start()
        return self


    def stop(self) -> None:
        """Stop serving and close the socket, so clients get "connection refused" at once."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class OnDemandServer:
    """A ``LoopbackServer`` for ``app`` that starts on the first ``url()``; ``stop()`` ends it (thread-safe)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self._server: LoopbackServer | None = None
        self._lock = threading.Lock()

    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the server, started now when it is not running."""
        with self._lock:
            if self._server is None:
                self._server = LoopbackServer(self.app).start()
            return self._server.url

    def stop(self) -> None:
        """Stop the server when it runs (a later ``url()`` starts a new one)."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()
