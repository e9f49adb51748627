"""The fake's JWTs. The SDK decodes tokens (without verifying them) only to read ``exp``.

Two kinds: user tokens, which the offline auth (``amlmock.sdk.auth``) makes in any process without a key
(``alg: none``: the fake has no identity provider), and run tokens, which only a server issues, signed with
its key (HS256), because they name the one workspace they are valid for. ``check_token`` is what
``amlmock serve`` accepts: either kind, of the fake's tenant, not expired, and a run token only when its
signature is the server's.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from .defaults import TENANT_ID

TOKEN_LIFETIME = timedelta(days=3650)
RUN_TOKEN_LIFETIME = timedelta(days=2)
WORKSPACE_CLAIM = "amlmock_wid"


class TokenError(ValueError):
    """A bearer token the server refuses; the message says why."""


def _segment(payload: dict[str, object]) -> str:
    return _b64(json.dumps(payload).encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _claims(subject: str, lifetime: timedelta, workspace_id: str | None) -> tuple[dict[str, object], datetime]:
    expiry = datetime.now(timezone.utc) + lifetime
    claims: dict[str, object] = {"sub": subject, "tid": TENANT_ID, "exp": int(expiry.timestamp()), "iss": "amlmock"}
    if workspace_id:
        claims[WORKSPACE_CLAIM] = workspace_id
    return claims, expiry


def make_token(
    subject: str, lifetime: timedelta = TOKEN_LIFETIME, workspace_id: str | None = None
) -> tuple[str, datetime]:
    """An ``alg: none`` JWT for ``subject`` and its expiry time; ``workspace_id`` limits it to one workspace."""
    claims, expiry = _claims(subject, lifetime, workspace_id)
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}.", expiry


def signed_token(claims: dict[str, object], key: bytes) -> str:
    """An HS256 JWT of ``claims`` signed with ``key``."""
    head = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(claims)}"
    return head + "." + _b64(hmac.new(key, head.encode(), hashlib.sha256).digest())


def run_token(run_id: str, workspace_id: str, key: bytes | None = None) -> tuple[str, datetime]:
    """The token a run's own process uses (``AZUREML_RUN_TOKEN``): valid for its own workspace only;
    signed with ``key`` when a server issues it (without a key, only the in-process fake accepts it)."""
    if key is None:
        return make_token("run:" + run_id, workspace_id=workspace_id)
    claims, expiry = _claims("run:" + run_id, RUN_TOKEN_LIFETIME, workspace_id)
    return signed_token(claims, key), expiry


def check_token(token: str, key: bytes) -> dict[str, Any]:
    """The claims of a token ``amlmock serve`` accepts, or TokenError saying why it is refused."""
    try:
        head, body, signature = token.split(".")
        header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
    except ValueError:
        raise TokenError("The bearer token is not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError("The bearer token is not a JWT")
    if header.get("alg") == "HS256":
        expected = _b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            raise TokenError("The bearer token's signature is not valid")
    elif header.get("alg") != "none" or signature or WORKSPACE_CLAIM in claims:
        raise TokenError("The bearer token is not signed by this server")
    if claims.get("tid") != TENANT_ID:
        raise TokenError(f"The bearer token is of another tenant ({claims.get('tid')!r})")
    expiry = claims.get("exp")
    if not isinstance(expiry, (int, float)) or expiry <= time.time():
        raise TokenError("The bearer token has expired")
    return claims


@functools.lru_cache(maxsize=256)
def token_workspace(token: str) -> str | None:
    """The workspace a token is limited to, or None (unlimited, or not one of amlmock's tokens)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(_unb64(payload))
    except (IndexError, ValueError):
        return None
    scope = claims.get(WORKSPACE_CLAIM) if isinstance(claims, dict) else None
    return scope if isinstance(scope, str) else None
