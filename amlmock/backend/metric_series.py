"""Metric storage: one metric's values in compact columns, with a Bloom filter of their ids."""

from __future__ import annotations

import bisect
import re
from array import array
from datetime import datetime, timezone
from typing import Any, NamedTuple

from .times import timestamp_text


class MetricValue(NamedTuple):
    """One logged row of a metric, as it is read back."""

    metric_id: str
    created_utc: str
    step: int | None
    data: dict[str, Any]


class MetricSeries:
    """All values logged under one metric name, in logging order.

    Stored column-wise to stay small (the service may hold millions of values): client times
    as floats, metric ids as 16 bytes, and a single-column row as its bare value.
    """

    __slots__ = ("name", "columns", "ux_metric_type", "_times", "_ids", "_steps", "_cells", "_seen")

    def __init__(self, name: str, columns: dict[str, str], ux_metric_type: str | None) -> None:
        self.name = name
        self.columns = columns
        self.ux_metric_type = ux_metric_type
        self._times = array("d")
        self._ids: list[bytes | str] = []
        self._steps: list[int | None] = []
        self._cells: list[Any] = []
        self._seen = IdFilter()

    def __len__(self) -> int:
        return len(self._times)

    def add(self, metric_id: str, logged_at: float, step: int | None, data: dict[str, Any]) -> bool:
        """Insert by the client's timestamp (POSIX seconds), so out-of-order batches still read back
        in logging order (rows with equal times keep their arrival order). A metric id already stored is
        not stored again (a retried batch): returns whether the value was new."""
        compact = _compact_id(metric_id)
        if self._seen.may_hold(compact) and compact in self._ids:
            return False
        self._seen.add(compact)
        if self._seen.full():
            self._seen.rebuild([*self._ids, compact])
        index = len(self._times)
        if index and self._times[-1] > logged_at:
            index = bisect.bisect_right(self._times, logged_at)
        self._times.insert(index, logged_at)
        self._ids.insert(index, compact)
        self._steps.insert(index, step)
        single = len(data) == 1 and self.name in data and not isinstance(data[self.name], (dict, list))
        self._cells.insert(index, data[self.name] if single else dict(data))
        return True

    def read(self, start: int = 0, end: int | None = None) -> list[MetricValue]:
        """Rows ``start`` to ``end`` in logging order."""
        return [
            MetricValue(_full_id(self._ids[i]), _time_text(self._times[i]), self._steps[i], self._row(i))
            for i in range(start, min(len(self), len(self) if end is None else end))
        ]

    def _row(self, index: int) -> dict[str, Any]:
        cell = self._cells[index]
        return dict(cell) if isinstance(cell, dict) else {self.name: cell}


class IdFilter:
    """A Bloom filter of the metric ids of one series: about 2 bytes per id (a set would cost 50 to 100), so a
    repeated id is found by a scan of the ids only when the filter says it may be there (about 1 in 400 new ids)."""

    __slots__ = ("_bits", "_count")
    BITS_PER_ID = 16
    HASHES = 4

    def __init__(self) -> None:
        self._bits = bytearray(8)
        self._count = 0

    def _positions(self, item: bytes | str) -> list[int]:
        size = len(self._bits) * 8
        value = hash(item) & 0xFFFFFFFFFFFFFFFF
        first, second = value & 0xFFFFFFFF, (value >> 32) | 1
        return [(first + i * second) % size for i in range(self.HASHES)]

    def may_hold(self, item: bytes | str) -> bool:
        """False when ``item`` was surely never added."""
        return all(self._bits[p >> 3] & (1 << (p & 7)) for p in self._positions(item))

    def add(self, item: bytes | str) -> None:
        """Note ``item`` (the filter is rebuilt twice as large when full: ``rebuild`` is given every id)."""
        self._count += 1
        for position in self._positions(item):
            self._bits[position >> 3] |= 1 << (position & 7)

    def full(self) -> bool:
        """Whether the filter holds more ids than it was sized for."""
        return self._count * self.BITS_PER_ID > len(self._bits) * 8

    def rebuild(self, items: list[bytes | str]) -> None:
        """Size the filter for twice ``items`` and note them all."""
        self._bits = bytearray(max(8, len(items) * self.BITS_PER_ID // 4))
        self._count = 0
        for item in items:
            self.add(item)


def _compact_id(metric_id: str) -> bytes | str:
    """16 bytes for an id in the canonical lower-case GUID form (which reads back unchanged)."""
    if _CANONICAL_GUID.fullmatch(metric_id):
        return bytes.fromhex(metric_id.replace("-", ""))
    return metric_id


def _full_id(stored: bytes | str) -> str:
    if isinstance(stored, str):
        return stored
    text = stored.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_CANONICAL_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _time_text(epoch: float) -> str:
    return timestamp_text(datetime.fromtimestamp(epoch, timezone.utc))
