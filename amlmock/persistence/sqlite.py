"""The state file of ``amlmock serve``: a SQLite database written row by row, one transaction per request.

* Durable before acknowledged: WAL with ``synchronous=FULL`` syncs the log at every commit, and the server
  answers only after the commit returns (see ``Transactions``).
* One server per file: ``locking_mode=EXCLUSIVE`` holds SQLite's lock from the first access to the close,
  so a second server (or any other writer) gets "database is locked" at once.
* Data only: rows of text, numbers and bytes (no pickle), each with a checksum; a file that fails SQLite's
  ``integrity_check`` or a checksum is refused with its name, and nothing in it is changed.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any, Iterable

from ..backend.changes import Changes
from ..backend.models import Workspace
from . import rows, schema


class StateFileError(RuntimeError):
    """The state file cannot be used (missing directory, damaged, another format, in use): a one-line reason."""


class SqliteStore:
    """One SQLite state file, opened exclusively."""

    def __init__(self, path: str) -> None:
        self.path = path
        _check_path(path)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._check_integrity()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._prepare_schema()
        except sqlite3.OperationalError as error:
            self._refuse(error)
        except sqlite3.DatabaseError as error:
            raise StateFileError(f"{path} is not an amlmock state file or is damaged ({error}); it was left as it is") from None

    def _refuse(self, error: sqlite3.Error) -> None:
        if "locked" in str(error):
            raise StateFileError(f"{self.path} is in use by another amlmock server (one server per state file)") from None
        raise StateFileError(f"{self.path} cannot be used: {error}") from None

    def _check_integrity(self) -> None:
        problems = [row[0] for row in self._db.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise StateFileError(f"{self.path} is damaged ({problems[0]}); it was left as it is")

    def _prepare_schema(self) -> None:
        """Create the tables in a new file; migrate an older amlmock file; refuse anything else."""
        application_id = self._db.execute("PRAGMA application_id").fetchone()[0]
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "state" in tables and application_id != schema.APPLICATION_ID:
            raise StateFileError(
                f"{self.path} holds state of an older amlmock (a pickled snapshot, which this version never loads: "
                "a state file must not be able to run code). Start with a new state file."
            )
        if application_id != schema.APPLICATION_ID:
            if tables:
                raise StateFileError(f"{self.path} is a SQLite file of another application; it was left as it is")
            self._transaction(schema.create_statements() + self._stamp(schema.SCHEMA_VERSION))
            return
        if version > schema.SCHEMA_VERSION:
            raise StateFileError(f"{self.path} was written by a newer amlmock (schema {version}); this one reads {schema.SCHEMA_VERSION}")
        steps = [sql for v in range(version, schema.SCHEMA_VERSION) for sql in schema.MIGRATIONS[v]]
        # An up-to-date file is not written at all here (a damaged one must stay as it was); an empty
        # transaction still takes the exclusive lock now, so a second server is refused at once.
        self._transaction(steps + self._stamp(schema.SCHEMA_VERSION) if steps else [])

    @staticmethod
    def _stamp(version: int) -> list[str]:
        return [f"PRAGMA application_id = {schema.APPLICATION_ID}", f"PRAGMA user_version = {version}"]

    def _transaction(self, statements: Iterable[str]) -> None:
        self._db.execute("BEGIN EXCLUSIVE")
        try:
            for statement in statements:
                self._db.execute(statement)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def load(self) -> list[Workspace]:
        """Every stored workspace, rebuilt; StateFileError when a row fails its checksum."""
        loader = rows.Loader()
        for table in schema.TABLES:
            getattr(loader, table)(self._verified(table))
        return loader.finish()

    def _verified(self, table: str) -> Iterable[rows.Row]:
        columns = schema.TABLES[table][0]
        for row in self._db.execute(schema.select_statement(table)):
            if schema.checksum(row[:-1]) != row[-1]:
                raise StateFileError(f"{self.path} is damaged: a row of table {table!r} fails its checksum; it was left as it is")
            yield tuple(schema.from_sqlite(column, value) for column, value in zip(columns, row))

    def write(self, changes: Changes) -> None:
        """Write one transaction's changes and commit (synced to disk on return); on any error nothing is written."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            _write_changes(self._put, self._db, changes)
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _put(self, table: str, row: tuple[Any, ...]) -> None:
        values = tuple(schema.to_sqlite(value) for value in row)
        self._db.execute(schema.upsert_statement(table), (*values, schema.checksum(values)))

    def close(self) -> None:
        """Close the file (and release its lock)."""
        self._db.close()


def _check_path(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise StateFileError(f"{path}: the directory {directory} does not exist")
    if os.path.isdir(path):
        raise StateFileError(f"{path} is a directory, not a state file")
    target = path if os.path.exists(path) else directory
    if not os.access(target, os.R_OK | os.W_OK):
        raise StateFileError(f"{path}: {target} is not writable by this user")


def _write_changes(put: Any, db: sqlite3.Connection, changes: Changes) -> None:
    if changes.reset:
        for table in schema.TABLES:
            db.execute(f"DELETE FROM {table}")
    for ws in changes.workspaces:
        put("workspace", rows.workspace_row(ws))
    for ws, experiment in changes.experiments:
        put("experiment", rows.experiment_row(ws, experiment))
        db.execute("DELETE FROM experiment_tag WHERE workspace_id = ? AND experiment_id = ?", (ws.workspace_id, experiment.experiment_id))
        for row in rows.keyed_rows((ws.workspace_id, experiment.experiment_id), experiment.tags):
            put("experiment_tag", row)
    for ws, run in changes.runs:
        put("run", rows.run_row(ws, run))
        for table, values in (("run_tag", run.tags), ("run_property", run.properties)):
            db.execute(f"DELETE FROM {table} WHERE workspace_id = ? AND run_id = ?", (ws.workspace_id, run.run_id))
            for row in rows.keyed_rows((ws.workspace_id, run.run_id), values):
                put(table, row)
        for row in rows.metric_rows(ws, run):
            put("metric", row)
    for ws, value in changes.metrics:
        put("metric_value", rows.metric_value_row(ws, value.run, value.name, value.metric_id, value.logged_at, value.step, value.data))
    for ws, artifact in changes.artifacts:
        put("artifact", rows.artifact_row(ws, artifact))
        if artifact.content is not None:
            put("blob", (ws.workspace_id, artifact.container, artifact.path, artifact.content))
    for ws, snapshot in changes.snapshots:
        put("snapshot", rows.snapshot_row(ws, snapshot))
    for ws in changes.registries:
        put("registry", rows.registry_row(ws))
