"""One transaction per request: the request's changes are committed before it is answered, or undone."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from typing import Iterator

from ..backend.errors import UnavailableError
from ..backend.service import Backend
from .sqlite import SqliteStore

log = logging.getLogger("amlmock")


class Transaction:
    """The handle a request holds: ``abort()`` when its answer is a failure, so its changes are undone."""

    def __init__(self) -> None:
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True


class Transactions:
    """Runs each changing request under the backend's exclusive hold and writes its changes before the answer.

    A request that fails (an exception, a 5xx answer, or a commit that fails) leaves memory and disk as they
    were: the backend is restored from the file, which holds exactly the last committed state.
    """

    def __init__(self, backend: Backend, store: SqliteStore) -> None:
        self.backend = backend
        self.store = store

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the backend; commit on a normal exit; raise ``UnavailableError`` (503) when the commit fails."""
        with self.backend.exclusively():
            handle = Transaction()
            try:
                yield handle
            except BaseException:
                self._undo_if_changed()
                raise
            if handle.aborted:
                self._undo_if_changed()
                return
            self.commit()

    def commit(self) -> None:
        """Write what changed since the last commit (nothing for a read-only request)."""
        with self.backend.exclusively():
            changes = self.backend.take_changes()
            if not changes:
                return
            try:
                self.store.write(changes)
            except (sqlite3.Error, OSError, ValueError, OverflowError) as error:
                log.error("amlmock: the state file %s failed (%s); the change was undone", self.store.path, error)
                self.backend.restore(self.store.load())
                raise UnavailableError(f"The change could not be stored ({error}); nothing was changed, retry") from None

    def _undo_if_changed(self) -> None:
        if self.backend.take_changes():
            self.backend.restore(self.store.load())
