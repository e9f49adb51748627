"""The production HTTP transport of ``amlmock serve``: the same WSGI app behind waitress.

Why waitress: pure Python (no compiler, any platform), well kept, and built for this shape of load. Its
connections are handled by one asynchronous loop, which buffers each request in full before a worker
thread sees it, so slow or stalled clients hold a socket, never a thread; workers are a fixed pool; a
connection idle for ``channel_timeout`` is closed; request size, header size and connection count are
capped; HTTP/1.1 keep-alive; and it answers malformed framing (bad chunk sizes, bad or doubled
Content-Length, Transfer-Encoding with Content-Length) with a 400 itself.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import waitress
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError

LOG_QUEUE_SIZE = 10_000


@dataclass(frozen=True)
class HttpLimits:
    """What one server allows (see ``amlmock serve --help``)."""

    threads: int = 8
    connection_limit: int = 10_000
    channel_timeout: int = 30  # seconds a connection may idle, and a request may take to arrive (slow clients)
    max_body: int = 256 * 1024 * 1024
    cleanup_interval: int = 2  # seconds between checks for idle connections and late requests


class _StrictParser(HTTPRequestParser):
    """Refuses a request that has both ``Transfer-Encoding`` and ``Content-Length`` (a request-smuggling shape:
    waitress would follow the first, a proxy in front might follow the second)."""

    def __init__(self, adj: Any) -> None:
        super().__init__(adj)
        self.started = time.time()

    def parse_header(self, header_plus: bytes) -> None:
        names = {line.split(b":", 1)[0].strip().lower() for line in header_plus.split(b"\n")[1:]}
        if b"transfer-encoding" in names and b"content-length" in names:
            raise ParsingError("Transfer-Encoding and Content-Length together")
        super().parse_header(header_plus)


class _StrictChannel(HTTPChannel):
    parser_class = _StrictParser


class HttpServer:
    """``app`` on ``host:port`` (0 picks a free port), served by waitress in a daemon thread."""

    def __init__(self, app: Callable[..., Any], host: str, port: int, limits: HttpLimits = HttpLimits()) -> None:
        self._server = waitress.create_server(
            app,
            host=host,
            port=port,
            threads=limits.threads,
            connection_limit=limits.connection_limit,
            channel_timeout=limits.channel_timeout,
            max_request_body_size=limits.max_body,
            asyncore_use_poll=True,  # select() cannot watch more than 1,024 sockets
            cleanup_interval=limits.cleanup_interval,
            clear_untrusted_proxy_headers=True,
            ident="amlmock",
        )
        self._server.channel_class = _StrictChannel
        self._idle_check = self._server.maintenance
        self._server.maintenance = self._maintenance
        self._request_timeout = limits.channel_timeout
        self.host = host
        self._thread = threading.Thread(target=self._server.run, name="amlmock-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def _maintenance(self, now: float) -> None:
        """Waitress closes idle connections; also close those whose request has been arriving for longer than
        the timeout (a client sending a byte now and then is not idle, but holds a connection slot)."""
        self._idle_check(now)
        for channel in list(self._server.active_channels.values()):
            request = channel.request
            if isinstance(request, _StrictParser) and not request.completed and now - request.started > self._request_timeout:
                channel.will_close = True

    def start(self) -> "HttpServer":
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Let the workers finish the requests they hold (the process exits after this)."""
        self._server.task_dispatcher.shutdown(timeout=5)


class _DroppingQueueHandler(logging.handlers.QueueHandler):
    """Hands records to the writer thread; when it is stuck (stderr full or closed), records are dropped."""

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            pass


def log_without_blocking() -> logging.handlers.QueueListener:
    """Route the ``amlmock`` and ``waitress`` logs to stderr through a bounded queue and a writer thread, so a
    full or closed stderr cannot stall a request (the records that do not fit are dropped)."""
    logging.raiseExceptions = False  # a failed write to stderr must not print (to stderr) instead
    records: queue.Queue[logging.LogRecord] = queue.Queue(LOG_QUEUE_SIZE)
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("amlmock", "waitress"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [_DroppingQueueHandler(records)]
        logger.propagate = False
        logger.setLevel(logging.WARNING)
    listener = logging.handlers.QueueListener(records, writer)
    listener.start()
    return listener
