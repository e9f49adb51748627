"""Pages of a listing, and the one continuation-token codec every paged list uses.

A token is opaque to clients: URL-safe base64 of ``o:<offset>`` (an offset into a stable list) or
``k:<number>:<text>`` (the sort key of the last item of a page, so inserts between pages never shift a page).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from . import messages
from .errors import ValidationError

T = TypeVar("T")
SortKey = tuple[str, int]

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000


class InvalidTokenError(ValidationError):
    """A continuation token this fake did not hand out."""

    def __init__(self, token: Any) -> None:
        super().__init__(messages.invalid_token(token), target="continuationToken")


@dataclass
class Page:
    """One page of a listing and the token for the next one (None on the last page)."""

    items: list[Any]
    continuation_token: str | None


def encode_offset(offset: int) -> str:
    """The token of the page that starts at ``offset``."""
    return _encode(f"o:{offset}")


def decode_offset(token: str | None) -> int:
    """The offset a token carries (0 without a token), or InvalidTokenError."""
    if token is None or token == "":
        return 0
    kind, _, value = _decode(token).partition(":")
    if kind != "o" or not (value.isascii() and value.isdigit()):
        raise InvalidTokenError(token)
    return int(value)


def page_size(top: int | None) -> int:
    """A listing's page size: ``top`` (a positive integer, at most ``MAX_PAGE_SIZE``) or the default."""
    if top is None:
        return DEFAULT_PAGE_SIZE
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise ValidationError(messages.invalid_top(top), target="top")
    return min(top, MAX_PAGE_SIZE)


def offset_page(items: Sequence[T], token: str | None, size: int) -> Page:
    """``size`` items from the token's offset."""
    start = decode_offset(token)
    return Page(list(items[start:start + size]), encode_offset(start + size) if start + size < len(items) else None)


def keyset_page(items: Sequence[T], key: Callable[[T], SortKey], descending: bool, token: str | None, size: int) -> Page:
    """Sort by ``key``, then return the items after the token's key."""
    keyed = sorted(((key(item), item) for item in items), key=lambda pair: pair[0], reverse=descending)
    if token:
        last = _decode_key(token)
        keyed = [pair for pair in keyed if (pair[0] < last if descending else pair[0] > last)]
    page = keyed[:size]
    next_token = _encode_key(page[-1][0]) if len(keyed) > size else None
    return Page([item for _, item in page], next_token)


def _encode_key(key: SortKey) -> str:
    text, number = key
    return _encode(f"k:{number}:{text}")


def _decode_key(token: str) -> SortKey:
    kind, _, rest = _decode(token).partition(":")
    number, separator, text = rest.partition(":")
    if kind != "k" or not separator or not (number.isascii() and number.isdigit()):
        raise InvalidTokenError(token)
    return text, int(number)


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(token: Any) -> str:
    if not isinstance(token, str):
        raise InvalidTokenError(token)
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidTokenError(token) from None
