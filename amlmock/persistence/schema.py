"""The state file's tables: one row per workspace, experiment, run, tag, property, metric, metric value,
artifact, blob and snapshot, and one per workspace for its model registry. Every row ends in a CRC-32 of its other columns, checked when the file is read
(SQLite's own ``integrity_check`` sees a damaged page, not a changed byte inside a value)."""

from __future__ import annotations

import zlib
from typing import Any, Sequence

APPLICATION_ID = 0x616D6C6D  # "amlm": PRAGMA application_id of an amlmock state file
SCHEMA_VERSION = 1  # PRAGMA user_version; MIGRATIONS take a file from one version to the next

TABLES: dict[str, tuple[Sequence[str], Sequence[str]]] = {
    # table: (columns, primary key)
    "workspace": (("workspace_id", "subscription_id", "resource_group", "name", "location", "run_counter"), ("workspace_id",)),
    "experiment": (
        ("workspace_id", "experiment_id", "name", "created_utc", "description", "archived_time"),
        ("workspace_id", "experiment_id"),
    ),
    "experiment_tag": (("workspace_id", "experiment_id", "position", "key", "value"), ("workspace_id", "experiment_id", "key")),
    "run": (
        (
            "workspace_id", "run_id", "experiment_id", "run_number", "root_run_id", "parent_run_id", "created_utc",
            "status", "name", "display_name", "description", "target", "run_type", "script_name", "hidden",
            "start_time_utc", "end_time_utc", "data_container_id", "details",
        ),
        ("workspace_id", "run_id"),
    ),
    "run_tag": (("workspace_id", "run_id", "position", "key", "value"), ("workspace_id", "run_id", "key")),
    "run_property": (("workspace_id", "run_id", "position", "key", "value"), ("workspace_id", "run_id", "key")),
    "metric": (("workspace_id", "run_id", "name", "columns", "ux_metric_type"), ("workspace_id", "run_id", "name")),
    "metric_value": (("workspace_id", "run_id", "name", "metric_id", "logged_at", "step", "data"), ()),
    "artifact": (("workspace_id", "container", "path", "origin", "created_utc"), ("workspace_id", "container", "path")),
    "blob": (("workspace_id", "container", "path", "content"), ("workspace_id", "container", "path")),
    "snapshot": (
        ("workspace_id", "snapshot_id", "parent_id", "files", "created_utc", "tree", "blobs"),
        ("workspace_id", "snapshot_id"),
    ),
    "registry": (("workspace_id", "document"), ("workspace_id",)),  # assets and model versions; their files are artifacts
}


def create_statements() -> list[str]:
    """The DDL of schema version ``SCHEMA_VERSION``."""
    statements = []
    for table, (columns, key) in TABLES.items():
        body = ", ".join([*columns, "crc INTEGER NOT NULL"])
        unique = f", PRIMARY KEY ({', '.join(key)})" if key else ""
        statements.append(f"CREATE TABLE {table} ({body}{unique})")
    statements.append("CREATE INDEX metric_value_run ON metric_value (workspace_id, run_id)")
    return statements


# From version N to N+1 (none yet): a future schema change appends its statements here, and opening an older
# file runs the missing steps in one transaction.
MIGRATIONS: dict[int, list[str]] = {}


def checksum(values: Sequence[Any]) -> int:
    """CRC-32 of a row's values as SQLite returns them (int, float, str, bytes or None)."""
    crc = 0
    for value in values:
        data = value if isinstance(value, bytes) else repr(value).encode("utf-8", "surrogatepass")
        crc = zlib.crc32(data + b"\x1f", crc)
    return crc


def to_sqlite(value: Any) -> Any:
    """A value as bound: text that is not valid Unicode (a lone surrogate, which the service keeps) becomes its
    bytes, which ``from_sqlite`` turns back into the same text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogatepass")
    return value


def from_sqlite(column: str, value: Any) -> Any:
    """A value as read: bytes in any column but a blob's content are text (see ``to_sqlite``)."""
    if isinstance(value, bytes) and column != "content":
        return value.decode("utf-8", "surrogatepass")
    return value


def upsert_statement(table: str) -> str:
    """Insert a row, or replace its columns in place (the rowid, and so the order of rows, is kept)."""
    columns, key = TABLES[table]
    names = [*columns, "crc"]
    marks = ", ".join("?" * len(names))
    if not key:
        return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in key)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


def select_statement(table: str) -> str:
    """Every row of ``table`` in the order written."""
    columns, _ = TABLES[table]
    return f"SELECT {', '.join(columns)}, crc FROM {table} ORDER BY rowid"
