"""One WSGI app for the whole fake service: routing, request parsing and the error shape.

Every transport (the ``responses`` adapter, the loopback HTTP server) serves this same app.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Union

from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..backend.errors import (
    AuthenticationError,
    AuthorizationError,
    InternalError,
    NotImplementedByFake,
    PayloadTooLargeError,
    ServiceError,
    ValidationError,
)
from ..backend.models import Experiment, Run, Workspace
from ..backend.service import Backend
from .access import Access
from .faults import ConnectionDropped, FaultInjector
from .wire import error_body

log = logging.getLogger("amlmock")

WORKSPACE_PATH = (
    "/subscriptions/<subscription_id>/resourceGroups/<resource_group>"
    "/providers/Microsoft.MachineLearningServices/workspaces/<workspace_name>"
)
LOOPBACK_NAMES = ("localhost",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MATCH_CACHE_SIZE = 1024
MAX_CACHED_PATH = 1024  # the SDK's paths are about 200 characters; longer ones are matched without the cache
SCOPED_PATH = re.compile(
    r"^(/[^/]+/[^/]+)/subscriptions/([^/]+)/resourceGroups/([^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/([^/]+)(/.*)?$"
)
SCOPE_MARK = "/~workspace"  # no request path holds it: "~" is no segment of any route
JSON_TYPE = "application/json; charset=utf-8"
BLOB_PREFIX = "/amlmockstorage/"
MAX_JSON_BODY = 16 * 1024 * 1024  # a full metric batch (250 rows of 255-character cells) is far below this
MAX_BLOB_BODY = 256 * 1024 * 1024  # Azure's limit for one block blob PUT (service version 2019-07-07)

Handler = Callable[..., Any]
ErrorShape = Callable[[ServiceError], Any]  # a service's error document


@dataclass
class Router:
    """Collects the routes of one API module (moto's ``urls.py`` role)."""

    rules: list[Rule] = field(default_factory=list)
    public: set[Handler] = field(default_factory=set)
    error_prefix: str | None = None  # requests under this path (answered or not) get errors in ``error_shape``
    error_shape: ErrorShape | None = None

    def route(self, path: str, *methods: str, public: bool = False) -> Callable[[Handler], Handler]:
        """Register ``handler`` for ``path`` and ``methods``; ``public`` routes need no bearer token."""

        def register(handler: Handler) -> Handler:
            self.rules.append(Rule(path, methods=list(methods), endpoint=handler))
            if public:
                self.public.add(handler)
            return handler

        return register


class RouteTable:
    """All routes of the service, and which of them are public (read-only, so apps can share it).

    Matching is cached (a run's requests repeat its path) and, for data-plane paths, done in two steps: one
    regular expression takes the workspace scope (``/<service>/<version>/subscriptions/.../workspaces/<name>``)
    off the path, and a second map routes the short rest. The scope is half of every path's segments, and
    werkzeug's matcher pays for each one.
    """

    def __init__(self, url_map: Map, public: frozenset[Handler], error_shapes: tuple[tuple[str, ErrorShape], ...] = ()) -> None:
        self.url_map = url_map
        self.public = public
        self.error_shapes = error_shapes
        self._adapter = url_map.bind("amlmock")
        self._scoped_adapter = _scoped_map(url_map).bind("amlmock")
        self._cached_match = functools.lru_cache(maxsize=MATCH_CACHE_SIZE)(self._match)

    @property
    def operations(self) -> frozenset[str]:
        """The handler names: what fault injection calls an operation."""
        return frozenset(rule.endpoint.__name__ for rule in self.url_map.iter_rules())

    def error_body(self, error: ServiceError, path: str) -> Any:
        """The error document for a request to ``path``: its service's shape, else the run history's envelope."""
        for prefix, shape in self.error_shapes:
            if path.startswith(prefix):
                return shape(error)
        return error_body(error)

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str]]:
        """The handler of ``method`` and ``path`` (None when no route has them) and the values of the
        path's variables, not to be changed: answers are cached (but not for paths longer than
        ``MAX_CACHED_PATH``, so the cache stays small whatever clients send)."""
        if len(path) > MAX_CACHED_PATH:
            return self._match(method, path)
        return self._cached_match(method, path)

    def _match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str]]:
        scoped = SCOPED_PATH.match(path)
        try:
            if scoped is None:
                handler, values = self._adapter.match(path, method)
                return handler, dict(values)
            service, subscription_id, resource_group, workspace_name, rest = scoped.groups()
            handler, values = self._scoped_adapter.match(service + SCOPE_MARK + (rest or ""), method)
        except HTTPException:
            return None, {}
        scope = {"subscription_id": subscription_id, "resource_group": resource_group, "workspace_name": workspace_name}
        return handler, {**values, **scope}


def _scoped_map(url_map: Map) -> Map:
    """The rules of ``url_map`` under ``/<service>/<version>`` + ``WORKSPACE_PATH``, with the scope as ``SCOPE_MARK``."""
    rules = []
    for rule in url_map.iter_rules():
        service, found, rest = rule.rule.partition(WORKSPACE_PATH)
        if found and service.count("/") == 2 and not service.endswith("/"):
            rules.append(Rule(service + SCOPE_MARK + rest, methods=rule.methods, endpoint=rule.endpoint))
    return Map(rules, strict_slashes=False, merge_slashes=False, redirect_defaults=False)


@dataclass
class Call:
    """One request as the handlers see it."""

    backend: Backend
    request: Request
    loopback: Callable[[], str] | None = None
    self_hosted: bool = False
    access: Access = field(default_factory=Access)
    browser_token: str | None = None  # the run browser's token (amlmock.web); None: the browser is closed

    def json(self, default: Any = None) -> Any:
        """The JSON body (``default`` when empty); malformed JSON is a ValidationError."""
        raw = self.request.get_data()
        if not raw.strip():
            return default
        try:
            return json.loads(raw)
        except ValueError as error:
            raise ValidationError(f"The request body is not valid JSON: {error}", target="body") from None
        except RecursionError:
            raise ValidationError("The request body is nested too deeply", target="body") from None

    def json_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object."""
        body = self.json(default={})
        if not isinstance(body, dict):
            raise ValidationError("The request body must be a JSON object", target="body")
        return body

    def workspace(self, subscription_id: str, resource_group: str, workspace_name: str) -> Workspace:
        """The addressed workspace, or a 404."""
        return self.backend.get_workspace(subscription_id, resource_group, workspace_name)

    def path_workspace(self, names: Mapping[str, Any]) -> Workspace:
        """The workspace the route's path names (``subscription_id``, ``resource_group``, ``workspace_name``)."""
        return self.workspace(names["subscription_id"], names["resource_group"], names["workspace_name"])

    def path_experiment(self, names: Mapping[str, Any]) -> tuple[Workspace, Experiment]:
        """The workspace and the experiment the path names, by ``experiment_id`` or ``experiment_name``."""
        workspace = self.path_workspace(names)
        if "experiment_id" in names:
            return workspace, self.backend.get_experiment_by_id(workspace, names["experiment_id"])
        return workspace, self.backend.get_experiment(workspace, names["experiment_name"])

    def path_run(self, names: Mapping[str, Any]) -> tuple[Workspace, Run]:
        """The workspace and the run the path names (within its experiment, when the path names one)."""
        if "experiment_id" not in names and "experiment_name" not in names:
            workspace = self.path_workspace(names)
            return workspace, self.backend.get_run(workspace, names["run_id"])
        workspace, experiment = self.path_experiment(names)
        return workspace, self.backend.get_run(workspace, names["run_id"], experiment)

    def from_loopback(self) -> bool:
        """True when the request came over HTTP to this server, not through in-process interception."""
        return self.self_hosted or _is_loopback(self.request.host.rsplit(":", 1)[0].strip("[]"))

    def service_base(self, workspace: Workspace) -> str:
        """Base URL of the data-plane services: this server on loopback, else the regional host."""
        if self.from_loopback():
            return self.own_url()
        return regional_base(workspace.location)

    def own_url(self) -> str:
        """This server's configured address (never the request's ``Host``, which any client can set)."""
        return self.loopback() if self.loopback is not None else self.request.host_url.rstrip("/")

    def loopback_base(self) -> str:
        """Base URL of the fake on 127.0.0.1, for other processes (started on demand)."""
        if self.from_loopback():
            return self.own_url()
        if self.loopback is None:
            raise NotImplementedByFake("amlmock cannot serve other processes here: no loopback server is available")
        return self.loopback()


def regional_base(location: str) -> str:
    """The data-plane host of a region, as the real service names it."""
    return f"https://{location}.api.azureml.ms"


def _bearer_token(request: Request) -> str:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(f"{request.method} {request.path} needs an 'Authorization: Bearer <token>' header")
    return token.strip()


def _check_token_scope(backend: Backend, access: Access, request: Request, values: dict[str, str]) -> None:
    """The token is one ``access`` accepts; a run token (limited to its run's workspace) is refused on any other
    workspace and on amlmock's own API."""
    token = _bearer_token(request)
    claims = access.claims(token, request.path)
    scope = access.token_scope(token, claims)
    if scope is not None and access.strict and "workspace_name" not in values:
        raise AuthorizationError("A run token is valid only for its own workspace's run history")
    if scope is None or "workspace_name" not in values:
        return
    workspace = backend.get_workspace(values["subscription_id"], values["resource_group"], values["workspace_name"])
    if workspace.workspace_id != scope:
        raise AuthorizationError(f"This run token is not valid for workspace {workspace.name!r}")


@functools.lru_cache(maxsize=64)
def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_route_table(routers: Iterable[Router]) -> RouteTable:
    """One routing table for all routers (read-only, so apps can share it)."""
    routers = list(routers)
    url_map = Map(
        [rule for router in routers for rule in router.rules], strict_slashes=False, merge_slashes=False, redirect_defaults=False
    )
    shapes = tuple((r.error_prefix, r.error_shape) for r in routers if r.error_prefix and r.error_shape)
    return RouteTable(url_map, frozenset(h for router in routers for h in router.public), shapes)


class JsonReply:
    """A JSON answer as a minimal WSGI response: most answers are JSON, and werkzeug's ``Response``
    does much more per request than a JSON body with a status needs."""

    __slots__ = ("status_code", "body", "headers")
    mimetype = "application/json"

    def __init__(self, document: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.body = json.dumps(document).encode("utf-8")
        self.headers = headers or {}

    def get_data(self) -> bytes:
        """The body (as werkzeug's ``Response.get_data``)."""
        return self.body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(
            f"{self.status_code} {HTTP_STATUS_CODES.get(self.status_code, 'Unknown')}",
            [("Content-Type", JSON_TYPE), ("Content-Length", str(len(self.body))), *self.headers.items()],
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


Reply = Union[Response, JsonReply]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JsonReply:
    """A JSON response."""
    return JsonReply(body, status, headers)


class ServiceApp:
    """The WSGI application of the fake Azure ML service."""

    def __init__(
        self,
        backend: Backend,
        routes: RouteTable,
        loopback: Callable[[], str] | None = None,
        transactions: Any = None,
        self_hosted: bool = False,
        access: Access | None = None,
        max_blob_body: int = MAX_BLOB_BODY,
    ) -> None:
        self.backend = backend
        self.routes = routes
        self.loopback = loopback
        self.transactions = transactions
        self.self_hosted = self_hosted
        self.access = access or Access()
        self.max_blob_body = max_blob_body
        self.faults = FaultInjector(routes.operations)
        self.browser_token: str | None = None  # set by who serves the run browser (amlmock.web.access)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = self.handle(Request(environ))
        return response(environ, start_response)

    def handle(self, request: Request) -> Reply:
        """Route one request; every failure becomes a service-shaped error response.

        With ``transactions`` (a persistent server), a request that may change state is one transaction:
        answered only after its commit, and undone when it fails. An injected fault may raise
        ``ConnectionDropped``, which the transport turns into a dropped connection.
        """
        if self.transactions is None or request.method in SAFE_METHODS:
            return self._dispatch(request)
        try:
            with self.transactions.transaction() as transaction:
                reply = self._dispatch(request)
                if reply.status_code >= 500:
                    transaction.abort()
        except ServiceError as error:  # the commit failed, and nothing was kept
            return json_response(error_body(error), error.status)
        return reply

    def _dispatch(self, request: Request) -> Reply:
        handler, values = self.routes.match(request.method, request.path)
        try:
            self.faults.apply(handler.__name__ if handler else None, request.method, request.path)
            if handler is None:
                return self.not_implemented(request)
            self._check_size(request)
            if handler not in self.routes.public:
                _check_token_scope(self.backend, self.access, request, values)
            result = handler(Call(self.backend, request, self.loopback, self.self_hosted, self.access, self.browser_token), **values)
        except ServiceError as error:
            return json_response(self.routes.error_body(error, request.path), error.status)
        except ConnectionDropped:
            raise
        except Exception as error:  # a bug in the fake: say so, never crash the server
            log.exception("amlmock failed on %s %s", request.method, request.url)
            failure = InternalError(f"amlmock failed on {request.method} {request.path}: {error!r}")
            return json_response(self.routes.error_body(failure, request.path), 500)
        return result if isinstance(result, (Response, JsonReply)) else json_response(result)

    def _check_size(self, request: Request) -> None:
        """A 413 for a body over its route's limit, before it is read (blobs have their own, larger limit)."""
        limit = self.max_blob_body if request.path.startswith(BLOB_PREFIX) else MAX_JSON_BODY
        if (request.content_length or 0) > limit:
            raise PayloadTooLargeError(f"The request body is {request.content_length} bytes; the limit here is {limit}")

    def not_implemented(self, request: Request) -> JsonReply:
        """A 404 naming the method and URL, so the caller knows the fake is missing a route."""
        url = request.base_url
        error = NotImplementedByFake(
            f"amlmock does not implement {request.method} {url}", target=request.path
        )
        log.warning("%s", error.message)
        return json_response(self.routes.error_body(error, request.path), error.status)
