"""Fault injection: make chosen operations of the fake fail, slow down or drop, on purpose.

Users test their retry and error handling with it: ``aml.faults.add(operation="query_runs",
status=429, times=2)``. Faults match by operation (the route's handler name, see
``operations()``) and/or method and a path regular expression; each is counted.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..backend.errors import ServiceError

ERROR_CODES = {429: "RequestThrottled", 500: "ServiceError", 502: "TransientError", 503: "TransientError", 504: "TransientError"}


class ConnectionDropped(ConnectionError):
    """Raised by the app when a fault drops the connection: the responses transport raises
    ``requests.ConnectionError``; the loopback server (werkzeug treats a ``ConnectionError`` as a dropped
    client) closes the socket without answering."""


@dataclass
class Fault:
    """One rule: which calls it matches and what it does to them."""

    operation: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    message: str | None = None
    latency: float = 0.0
    drop: bool = False
    after: int = 0
    times: int | None = None
    matched: int = 0
    injected: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.status is None and not self.drop and not self.latency:
            raise ValueError("a fault needs status=, drop=True or latency=")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, operation: str | None, method: str, path: str) -> bool:
        """Whether this fault applies to a call (before counting it)."""
        return (
            (self.operation is None or self.operation == operation)
            and (self.method is None or self.method.upper() == method)
            and (self._pattern is None or self._pattern.search(path) is not None)
        )

    def fires(self) -> bool:
        """Count one matching call; True when the fault acts on it (after ``after`` calls, ``times`` times)."""
        self.matched += 1
        if self.matched <= self.after or (self.times is not None and self.injected >= self.times):
            return False
        self.injected += 1
        return True

    def report(self) -> dict[str, Any]:
        """What the fault is and how often it matched and acted."""
        return {
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "latency": self.latency,
            "drop": self.drop,
            "after": self.after,
            "times": self.times,
            "matched": self.matched,
            "injected": self.injected,
        }


class FaultError(ServiceError):
    """The error a fault answers with, in the service's shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = ERROR_CODES.get(status, "UserError" if status < 500 else "ServiceError")
        self.inner_code = "InjectedFault"


class FaultInjector:
    """The faults of one fake service; thread-safe."""

    def __init__(self, known_operations: frozenset[str] = frozenset()) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._operations = known_operations

    def add(
        self,
        operation: str | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        message: str | None = None,
        latency: float = 0.0,
        drop: bool = False,
        after: int = 0,
        times: int | None = None,
        nth: int | None = None,
    ) -> Fault:
        """Add a fault. ``nth=3`` fails only the third matching call (same as ``after=2, times=1``)."""
        if operation is not None and self._operations and operation not in self._operations:
            raise ValueError(f"unknown operation {operation!r}; known: {', '.join(sorted(self._operations))}")
        if nth is not None:
            after, times = nth - 1, 1
        fault = Fault(operation, method, path, status, message, latency, drop, after, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def operations(self) -> list[str]:
        """The operation names faults can match."""
        return sorted(self._operations)

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def report(self) -> list[dict[str, Any]]:
        """Every fault with its counts."""
        with self._lock:
            return [fault.report() for fault in self._faults]

    def apply(self, operation: str | None, method: str, path: str) -> None:
        """Act on a call: sleep, drop (``ConnectionDropped``) or fail (``FaultError``) as the first firing fault says."""
        if not self._faults:  # the usual case: nothing injected (read without the lock: a list's truth is atomic)
            return
        with self._lock:
            fault = next((f for f in self._faults if f.matches(operation, method, path) and f.fires()), None)
        if fault is None:
            return
        if fault.latency:
            time.sleep(fault.latency)
        if fault.drop:
            raise ConnectionDropped(f"amlmock dropped the connection of {method} {path} (injected fault)")
        if fault.status is not None:
            name = operation or "an unrouted call"
            raise FaultError(fault.status, fault.message or f"amlmock injected {fault.status} into {name} ({method} {path})")
