"""Artifact paths inside the fake's blob URLs, in a form every HTTP client sends unchanged.

The SDK reaches a blob URL two ways: its vendored storage client quotes the URL's path once more
(``quote(name, safe='~/')``), while plain ``requests`` sends it as given. A percent-encoded name
would therefore arrive decoded on one path and still encoded on the other. The fake writes each
character outside ``[A-Za-z0-9._/-]`` as ``~XX`` per UTF-8 byte (``~`` itself as ``~7E``): such a
path is left alone by every quoting step, and decoding it gives back the exact path.
"""

from __future__ import annotations

import re
import string

_PLAIN = frozenset(string.ascii_letters + string.digits + "._-/")
_ESCAPES = re.compile(r"(?:~[0-9A-F]{2})+")
_WELL_FORMED = re.compile(r"^(?:[A-Za-z0-9._/-]|~[0-9A-F]{2})*$")


def encode_blob_name(path: str) -> str:
    """``my file.txt`` → ``my~20file.txt``; paths of plain characters are unchanged."""
    return "".join(char if char in _PLAIN else "".join(f"~{byte:02X}" for byte in char.encode("utf-8")) for char in path)


def decode_blob_name(name: str) -> str | None:
    """The artifact path of a blob name made by ``encode_blob_name``; None for any other text."""
    if not _WELL_FORMED.match(name):
        return None
    try:
        return _ESCAPES.sub(lambda m: bytes.fromhex(m.group().replace("~", "")).decode("utf-8"), name)
    except UnicodeDecodeError:
        return None
