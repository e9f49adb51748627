"""Who may call what: bearer tokens, the admin token and the SAS of blob URLs.

In process (``mock_aml()``) the fake stays a permissive test double: any bearer token will do, and a run
token is only checked for its workspace. ``amlmock serve`` is strict (``Access(strict=True)``): tokens
must pass ``tokens.check_token``, the admin API needs the admin token, and a blob needs the SAS the fake
issued for that container and path, unexpired. The key that signs run tokens and SAS is the server's own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import urlencode

from ..backend.errors import AuthenticationError, AuthorizationError
from ..tokens import WORKSPACE_CLAIM, TokenError, check_token, token_workspace

ADMIN_PREFIX = "/amlmock/v1.0/admin"
ADMIN_TOKEN_ENV = "AMLMOCK_ADMIN_TOKEN"
SAS_LIFETIME = timedelta(days=2)
STORAGE_VERSION = "2019-07-07"  # the blob service version of SAS tokens and blob replies
SAS_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Access:
    """The access rules of one app, and its signing key."""

    strict: bool = False
    admin_token: str | None = None
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def claims(self, token: str, path: str) -> Mapping[str, Any] | None:
        """The token's claims (None when not strict: nothing is verified), or a 401."""
        if not self.strict:
            return None
        if path.startswith(ADMIN_PREFIX):
            if self.admin_token is None or not hmac.compare_digest(token.encode(), self.admin_token.encode()):
                raise AuthenticationError(f"The admin API needs the admin token of this server ({ADMIN_TOKEN_ENV})")
            return {}
        try:
            return check_token(token, self.key)
        except TokenError as error:
            raise AuthenticationError(str(error)) from None

    def token_scope(self, token: str, claims: Mapping[str, Any] | None) -> str | None:
        """The workspace id a (run) token is limited to, or None."""
        if claims is None:
            return token_workspace(token)
        scope = claims.get(WORKSPACE_CLAIM)
        return scope if isinstance(scope, str) else None

    def sas_query(self, workspace_id: str, container: str, path: str) -> str:
        """The query string of a blob URL: a SAS for this one blob, valid for ``SAS_LIFETIME``."""
        expiry = (datetime.now(timezone.utc) + SAS_LIFETIME).strftime(SAS_TIME)
        signature = self._sas_signature(workspace_id, container, path, expiry)
        return urlencode({"sv": STORAGE_VERSION, "sr": "b", "sp": "racw", "se": expiry, "sig": signature})

    def check_sas(self, args: Mapping[str, str], workspace_id: str, container: str, path: str) -> None:
        """A 403 unless ``args`` carry this server's unexpired SAS for the blob (only when strict)."""
        if not self.strict:
            return
        expiry, signature = args.get("se") or "", args.get("sig") or ""
        expected = self._sas_signature(workspace_id, container, path, expiry)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise AuthorizationError("Server failed to authenticate the request: the SAS signature is missing or wrong")
        try:
            expired = datetime.strptime(expiry, SAS_TIME).replace(tzinfo=timezone.utc) <= datetime.now(timezone.utc)
        except ValueError:
            expired = True
        if expired:
            raise AuthorizationError("Server failed to authenticate the request: the SAS has expired")

    def _sas_signature(self, workspace_id: str, container: str, path: str, expiry: str) -> str:
        message = "\n".join((workspace_id, container, path, expiry)).encode("utf-8", "surrogatepass")
        return base64.b64encode(hmac.new(self.key, message, hashlib.sha256).digest()).decode()
