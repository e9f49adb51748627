"""Validates the fake's traffic against the operation contracts, request and response.

For each request the fake answers, the contract of its operation is looked up: first in the
REST specs (when they are available), else among the SDK's REST operations (schemas derived from
the SDK's msrest models). Then:

* **request**: a JSON body is validated against the operation's body schema. A body the schema
  refuses must be refused by the fake too (status >= 400, or per-item ``errors`` in a batch's
  answer): the fake must not be more lenient than the contract. A refused request that the fake also refused is fine
  (the tests send malformed bodies on purpose). Fields the schema does not declare are ignored,
  as the service and the fake ignore JSON members they do not know, unless ``strict_requests``
  (then they are mismatches too: that is how new fields in what the SDK sends show up);
* **response**: the body is validated against the schema declared for its status code (errors
  against ``default``); a success status the operation does not declare is a mismatch.
  Error responses on routes without a contract are checked against the shared ``ErrorResponse``
  envelope (the spec's, else the SDK model's).

Requests without a contract (blob storage, discovery, ``/content/v2.0`` snapshots, amlmock's own
routes...) are listed by the fake's route, not validated; so are exchanges with a JSON body over
``MAX_VALIDATED_BYTES`` (validating a 20 MB batch answer would take longer than the test).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterator

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.wrappers import Request

from ..api.app import WORKSPACE_PATH, Reply
from .contracts import Contract, validator_for, without_nulls
from .sdk import sdk_contracts, sdk_error_definitions
from .specs import error_definitions, spec_contracts, specs_available, specs_dir

if TYPE_CHECKING:
    from ..api.app import ServiceApp

WORKSPACE_IN_PATH = re.compile(
    r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/workspaces/[^/]+"
)
ERROR_ENVELOPE = {"$ref": "#/definitions/ErrorResponse"}
# MLflow's routes answer errors in MLflow's own envelope (MLflow REST API: ``error_code`` and ``message``).
MLFLOW_PREFIX = "/mlflow/"
MLFLOW_ERROR_ENVELOPE = {
    "type": "object",
    "required": ["error_code", "message"],
    "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
    "additionalProperties": False,
}
MAX_VALIDATED_BYTES = 2**20
# Error responses that break their contract knowingly: contract source -> why (docs/fidelity.md).
# They are listed in the report, not counted as mismatches.
KNOWN_ERROR_DIVERGENCES = {
    "SDK WorkspacesOperations.get": "ARM errors come in the data-plane ErrorResponse envelope, like every "
    "error of the fake; the SDK's model wraps an ErrorResponse in 'error', and ARM itself sends {error: {code, message}}",
}


@dataclass(frozen=True)
class Contracts:
    """The contracts to check against, in lookup order, and the error envelope's definitions."""

    ordered: tuple[Contract, ...]
    error_definitions: dict[str, Any]

    def find(self, method: str, path: str) -> Contract | None:
        """The contract of the operation serving ``method path``, if any."""
        return next((c for c in self.ordered if c.method == method and c.pattern.match(path)), None)

    def service_error(self, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The error schema (and definitions) for a path no contract serves: its service's (``/<service>/<version>``,
        e.g. ``ModelErrorResponse`` under ``/modelmanagement/v1.0``), else the shared envelope."""
        service = "/".join(path.split("/")[:3]) + "/"
        for contract in self.ordered:
            declared, schema = contract.response_schema(400)
            if declared and schema is not None and contract.template.startswith(service) and contract.source.startswith("SDK"):
                return schema, contract.definitions
        return ERROR_ENVELOPE, self.error_definitions


@lru_cache(maxsize=2)
def load_contracts(use_specs: bool = True) -> Contracts:
    """The spec contracts (when available and ``use_specs``) followed by the SDK-derived ones."""
    directory = specs_dir()
    if use_specs and specs_available(directory):
        return Contracts(spec_contracts(directory) + sdk_contracts(), error_definitions(directory))
    return Contracts(sdk_contracts(), sdk_error_definitions())


def short_path(path: str) -> str:
    """A concrete path with its workspace prefix shortened to ``{WS}``."""
    return WORKSPACE_IN_PATH.sub("{WS}", path)


def fake_rule(rule: str) -> str:
    """A route rule of the fake with its workspace prefix shortened to ``{WS}``."""
    return rule.replace(WORKSPACE_PATH, "{WS}")


def fake_route(url_map: Map, method: str, path: str) -> str:
    """The fake's own route rule serving ``method path``, workspace prefix shortened to ``{WS}``."""
    try:
        rule, _ = url_map.bind("amlmock").match(path, method, return_rule=True)
    except HTTPException:
        return f"{method} {short_path(path)} (no route in the fake)"
    return f"{method} {fake_rule(rule.rule)}"


def _json_body(data: bytes) -> tuple[bool, Any]:
    """(is JSON, value) of a body; an empty body is not JSON."""
    if not data.strip():
        return False, None
    try:
        return True, json.loads(data)
    except ValueError:
        return False, None


@dataclass
class ConformanceReport:
    """What the checked traffic showed: mismatches, and which contracts were exercised."""

    mismatches: list[str] = field(default_factory=list)
    validated: dict[str, str] = field(default_factory=dict)
    unspecified: set[str] = field(default_factory=set)
    too_large: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)
    requests_checked: Counter[str] = field(default_factory=Counter)

    def validated_by(self, prefix: str | tuple[str, ...]) -> set[str]:
        """Names of the operations validated by contracts whose source starts with ``prefix``."""
        return {name for name, source in self.validated.items() if source.startswith(prefix)}

    def summary(self) -> str:
        """A readable account of what was validated and against what."""
        lines = [f"validated {len(self.validated)} operations (request bodies of {len(self.requests_checked)}):"]
        lines += [f"  {name}  [{source}]" for name, source in sorted(self.validated.items())]
        lines.append(f"{len(self.unspecified)} routes have no contract (not validated):")
        lines += [f"  {name}" for name in sorted(self.unspecified)]
        if self.too_large:
            lines.append(f"not validated, a body over {MAX_VALIDATED_BYTES} bytes:")
            lines += [f"  {exchange}" for exchange in sorted(self.too_large)]
        if self.known:
            lines.append("known divergences (not counted as mismatches):")
            lines += [f"  {known}" for known in sorted(self.known)]
        return "\n".join(lines)

    def failure(self) -> str:
        """The mismatches, for a test failure."""
        return f"{len(self.mismatches)} exchanges break their contract:\n" + "\n".join(self.mismatches)


class Checker:
    """Checks exchanges against ``contracts`` and collects the results in ``report`` (thread-safe).

    ``strict_requests``: undeclared fields in a request body are mismatches too.
    """

    def __init__(self, contracts: Contracts, url_map: Map, strict_requests: bool = False) -> None:
        self.contracts = contracts
        self.url_map = url_map
        self.strict_requests = strict_requests
        self.report = ConformanceReport()
        self._lock = threading.Lock()

    def check(self, request: Request, response: Reply) -> None:
        """Validate one answered request; never raises (a failure of the checker is a mismatch too)."""
        contract = self.contracts.find(request.method, request.path)
        answer_data = response.get_data() if response.mimetype == "application/json" else b""
        request_data = request.get_data() if contract is not None and contract.request is not None else b""
        if max(len(answer_data), len(request_data)) > MAX_VALIDATED_BYTES:
            with self._lock:
                self.report.too_large.add(f"{request.method} {short_path(request.path)} -> {response.status_code}")
            return
        try:
            is_json, answer = _json_body(answer_data)
            problems = self._response_problems(contract, request.path, response.status_code, is_json, answer)
            refused = _refused(response.status_code, answer)
            request_problems = self._request_problems(contract, request_data, refused) if contract else None
        except Exception as error:  # report it, never break the SDK's call
            problems, request_problems = [f"the conformance checker failed: {error!r}"], None
        with self._lock:
            self._record(contract, request, response.status_code, problems + (request_problems or []), request_problems is not None)

    def _record(self, contract: Contract | None, request: Request, status: int, problems: list[str], request_checked: bool) -> None:
        report = self.report
        known = None
        if contract is None:
            report.unspecified.add(fake_route(self.url_map, request.method, request.path))
        else:
            report.validated[contract.name] = contract.source
            if request_checked:
                report.requests_checked[contract.name] += 1
            known = KNOWN_ERROR_DIVERGENCES.get(contract.source) if status >= 400 else None
        if problems and known:
            report.known.add(f"{contract.name} -> {status}: {known}")  # type: ignore[union-attr]
        else:
            exchange = f"{request.method} {short_path(request.path)} -> {status}"
            report.mismatches += [f"{exchange}: {problem}" for problem in problems]

    def _request_problems(self, contract: Contract, data: bytes, refused: bool) -> list[str] | None:
        """Why the contract refuses a request body the fake accepted (None: nothing to check).

        A refused request is not checked: refusing what the contract refuses is right, and the
        fake may refuse more (limits the schemas do not express).
        """
        if contract.request is None or refused or (not data.strip() and not contract.request_required):
            return None
        is_json, body = _json_body(data)
        if not is_json:
            refusals = ["the request body is not JSON"]
        else:
            errors = _errors(contract.request, contract.definitions, body)
            refusals = [
                f"{e.json_path}: {e.message}"
                for e in errors
                if self.strict_requests or e.validator != "additionalProperties"
            ]
        return [f"the fake accepted a request body that {contract.source} refuses: {refusal}" for refusal in refusals]

    def _response_problems(self, contract: Contract | None, path: str, status: int, is_json: bool, body: Any) -> list[str]:
        declared, schema = contract.response_schema(status) if contract else (False, None)
        definitions = contract.definitions if contract else {}
        if status >= 400 and schema is None:  # no error schema of its own: its service's (MLflow's, ...), else the shared envelope
            if not is_json:
                return []
            schema, definitions = (MLFLOW_ERROR_ENVELOPE, {}) if path.startswith(MLFLOW_PREFIX) else self.contracts.service_error(path)
        elif not declared:
            return [f"status {status} is not declared by {contract.source}"] if contract else []
        elif schema is None:
            return []
        elif not is_json:
            return [f"{contract.source} declares a JSON body, the fake sent none"]  # type: ignore[union-attr]
        return [f"{e.json_path}: {e.message}" for e in _errors(schema, definitions, body)]


def _refused(status: int, answer: Any) -> bool:
    """Whether the fake refused the request, or some items of a batch (207 or 200 with ``errors``)."""
    return status >= 400 or (isinstance(answer, dict) and bool(answer.get("errors")))


def _errors(schema: dict[str, Any], definitions: dict[str, Any], body: Any) -> list[Any]:
    validator = validator_for(schema, definitions)
    return sorted(validator.iter_errors(without_nulls(body)), key=lambda error: error.json_path)


@contextmanager
def validating(app: "ServiceApp", checker: Checker) -> Iterator[ConformanceReport]:
    """Check every request ``app`` answers (from any thread, any transport) until the block ends."""
    previous = vars(app).get("handle")
    inner = app.handle

    def handle(request: Request) -> Reply:
        response = inner(request)
        checker.check(request, response)
        return response

    app.handle = handle  # type: ignore[method-assign]
    try:
        yield checker.report
    finally:
        if previous is None:
            del app.handle  # the class's method again
        else:
            app.handle = previous  # type: ignore[method-assign]
