"""The floor: the real SDK against a stub that answers every request with a canned reply and does no work.

The canned replies are amlmock's own: the walkthrough runs once against the fake while every
reply is recorded under its route (the method and the URL with its GUIDs masked). The stub
then answers each request with the recorded reply of its route, the request's run id put back
in, so the SDK parses the same bytes as against the fake and the difference between the two is
the fake's own work. The floor runs inside an active ``mock_aml()`` whose transport is
shadowed, so offline auth, SDK tuning and run tracking are identical too.
"""

from __future__ import annotations

import functools
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import responses
from requests import PreparedRequest

from amlmock import AmlMock, mock_aml
from amlmock.transports.responses_adapter import Reply, catch_all, wsgi_callback

from .walkthrough import prepare, walkthrough

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RUN_IN_PATH = re.compile(r"/runs/([\w-]+)")
RUN_ID_SLOT = b"<run id>"

RouteKey = tuple[str, str]


@dataclass(frozen=True)
class CannedReply:
    """A recorded reply; ``echoes_run_id`` when its body names the run of the request path."""

    status: int
    headers: dict[str, str]
    body: bytes
    echoes_run_id: bool


def route_key(request: PreparedRequest) -> RouteKey:
    """The method and the URL with every GUID (subscription, experiment, run, workspace id) masked."""
    return request.method or "", GUID.sub("*", request.url or "")


def _path_run_id(request: PreparedRequest) -> bytes | None:
    match = RUN_IN_PATH.search(request.url or "")
    return match.group(1).encode() if match else None


def _canned(request: PreparedRequest, status: int, headers: dict[str, str], body: bytes) -> CannedReply:
    run_id = _path_run_id(request)
    if run_id is not None and run_id in body:
        return CannedReply(status, headers, body.replace(run_id, RUN_ID_SLOT), echoes_run_id=True)
    return CannedReply(status, headers, body, echoes_run_id=False)


class Floor:
    """The stub transport: canned replies by route, nothing else."""

    def __init__(self, replies: dict[RouteKey, CannedReply]) -> None:
        self.replies = replies

    @classmethod
    def record(cls, workload: Callable[[], None]) -> "Floor":
        """Run ``workload`` against a fresh fake and keep the first reply to each route."""
        with mock_aml() as aml:
            prepare(aml)
            return cls.record_in(aml, workload)

    @classmethod
    def record_in(cls, aml: AmlMock, workload: Callable[[], None]) -> "Floor":
        """Run ``workload`` against the active fake ``aml`` and keep the first reply to each route."""
        replies: dict[RouteKey, CannedReply] = {}
        forward = wsgi_callback(aml.app)

        def recording(request: PreparedRequest) -> Reply:
            reply = forward(request)
            replies.setdefault(route_key(request), _canned(request, *reply))
            return reply

        with catch_all(recording):
            workload()
        return cls(replies)

    def reply(self, request: PreparedRequest) -> Reply:
        """The canned reply of the request's route (a 404 naming the route when none was recorded)."""
        canned = self.replies.get(route_key(request))
        if canned is None:
            error = {"code": "NotFound", "message": f"the floor has no reply for {request.method} {request.url}"}
            return 404, {"Content-Type": "application/json"}, json.dumps({"error": error}).encode()
        body = canned.body
        if canned.echoes_run_id:
            body = body.replace(RUN_ID_SLOT, _path_run_id(request) or b"")
        return canned.status, dict(canned.headers), body

    @contextmanager
    def active(self) -> Iterator[None]:
        """``mock_aml()``'s set-up (offline auth, SDK tuning, run tracking) with the stub as transport."""
        with mock_aml() as aml:
            prepare(aml)  # the offline auth lists the subscriptions of the fake's workspaces
            with self.serving():
                yield

    def serving(self) -> responses.RequestsMock:
        """The stub as transport, shadowing an active ``mock_aml()`` while the returned mock is entered."""
        return catch_all(self.reply)


@functools.cache
def walkthrough_floor() -> Floor:
    """The floor recorded from one seed walkthrough (it covers every route the benchmarks call)."""
    return Floor.record(lambda: walkthrough("recording"))
