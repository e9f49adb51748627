"""The browser token: given once in the URL (``/?token=...``, as Jupyter does), then kept in a cookie."""

from __future__ import annotations

import hmac
import secrets

from werkzeug.wrappers import Request

COOKIE = "amlmock_browser"
QUERY = "token"


def new_token() -> str:
    """A fresh random browser token."""
    return secrets.token_urlsafe(24)


def given_token(request: Request) -> tuple[str | None, bool]:
    """The token the request carries and whether it came in the URL (then the reply sets the cookie)."""
    if QUERY in request.args:
        return request.args[QUERY], True
    return request.cookies.get(COOKIE), False


def allowed(expected: str | None, given: str | None) -> bool:
    """Whether ``given`` is the browser token (never when the app has none)."""
    return expected is not None and given is not None and hmac.compare_digest(expected.encode(), given.encode())


def browser_url(base_url: str, token: str) -> str:
    """The URL that opens the browser and hands it the token."""
    return f"{base_url.rstrip('/')}/?{QUERY}={token}"
