"""The service's clock and how it reads and writes times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from . import messages


def utcnow() -> datetime:
    """The service clock."""
    return datetime.now(timezone.utc)


def parse_time(text: str) -> datetime:
    """Read an ISO 8601 time with any number of fraction digits (msrest trims trailing zeros)."""
    match = _ISO_TIME.match(text.strip())
    if not match:
        raise ValueError(messages.not_an_iso_time(text))
    *fields, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timezone.utc
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
    year, month, day, hour, minute, second = map(int, fields)
    parsed = datetime(year, month, day, hour, minute, second, micro, tzinfo=offset)
    return parsed if offset is timezone.utc else parsed.astimezone(timezone.utc)


_ISO_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?$")


def timestamp_text(value: datetime) -> str:
    """A service time as ISO 8601 text in UTC with a ``Z``, as the service writes times."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
