"""Unsigned JWTs: the SDK decodes tokens (without verifying them) only to read ``exp``."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

TENANT_ID = "00000000-0000-0000-0000-00000000aaaa"
TOKEN_LIFETIME = timedelta(days=3650)


def _segment(payload: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def make_token(subject: str, lifetime: timedelta = TOKEN_LIFETIME) -> tuple[str, datetime]:
    """An ``alg: none`` JWT for ``subject`` and its expiry time."""
    expiry = datetime.now(timezone.utc) + lifetime
    claims = {"sub": subject, "tid": TENANT_ID, "exp": int(expiry.timestamp()), "iss": "amlmock"}
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}.", expiry


def run_token(run_id: str) -> tuple[str, datetime]:
    """The token a run's own process uses (``AZUREML_RUN_TOKEN``)."""
    return make_token("run:" + run_id)
