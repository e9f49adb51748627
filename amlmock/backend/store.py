"""Keeping a backend's state in a SQLite file, so a restarted server has every run back.

The whole state is written in one transaction after every change: SQLite's atomic commit means
a server killed at any moment leaves the last complete state on disk. The file holds a pickle:
only load state files you (or your own amlmock server) wrote.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading

from .service import Backend

SCHEMA = "CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL)"
# The pickled classes change between versions: a file of another format is refused, never half-read.
STATE_FORMAT = 4


class StateFormatError(RuntimeError):
    """The state file was written in another format (by another amlmock version)."""


class SqliteStore:
    """One SQLite file holding one backend's state."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.execute(SCHEMA)

    def load_into(self, backend: Backend) -> bool:
        """Replace ``backend``'s state with the stored one; False when nothing is stored yet."""
        row = self._connection.execute("SELECT data FROM state WHERE id = 1").fetchone()
        if row is None:
            return False
        try:
            state = pickle.loads(row[0])
        except Exception as error:  # classes renamed or changed since the file was written
            raise StateFormatError(f"{self.path} cannot be read by this amlmock version ({error!r})") from None
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            found = state.get("format", 1) if isinstance(state, dict) else 1
            raise StateFormatError(
                f"{self.path} holds amlmock state format {found}; this version reads format {STATE_FORMAT}. "
                "Start with a new state file."
            )
        with backend.lock:
            backend.workspaces = state["workspaces"]
        return True

    def save(self, backend: Backend) -> None:
        """Write ``backend``'s whole state in one transaction."""
        with backend.lock:
            state = {"format": STATE_FORMAT, "workspaces": backend.workspaces}
            data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._connection.execute("INSERT OR REPLACE INTO state (id, data) VALUES (1, ?)", (data,))

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._connection.close()
