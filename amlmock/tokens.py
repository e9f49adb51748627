"""Unsigned JWTs: the SDK decodes tokens (without verifying them) only to read ``exp``."""

from __future__ import annotations

import base64
import functools
import json
from datetime import datetime, timedelta, timezone

TENANT_ID = "00000000-0000-0000-0000-00000000aaaa"
TOKEN_LIFETIME = timedelta(days=3650)
WORKSPACE_CLAIM = "amlmock_wid"


def _segment(payload: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def make_token(
    subject: str, lifetime: timedelta = TOKEN_LIFETIME, workspace_id: str | None = None
) -> tuple[str, datetime]:
    """An ``alg: none`` JWT for ``subject`` and its expiry time; ``workspace_id`` limits it to one workspace."""
    expiry = datetime.now(timezone.utc) + lifetime
    claims: dict[str, object] = {"sub": subject, "tid": TENANT_ID, "exp": int(expiry.timestamp()), "iss": "amlmock"}
    if workspace_id:
        claims[WORKSPACE_CLAIM] = workspace_id
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}.", expiry


def run_token(run_id: str, workspace_id: str) -> tuple[str, datetime]:
    """The token a run's own process uses (``AZUREML_RUN_TOKEN``): valid for its own workspace only."""
    return make_token("run:" + run_id, workspace_id=workspace_id)


@functools.lru_cache(maxsize=256)
def token_workspace(token: str) -> str | None:
    """The workspace a token is limited to, or None (unlimited, or not one of amlmock's tokens)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    scope = claims.get(WORKSPACE_CLAIM) if isinstance(claims, dict) else None
    return scope if isinstance(scope, str) else None
