"""The state file of ``amlmock serve``: refused with a one-line reason when it cannot be used, never
overwritten; one server per file; one transaction per request; read-only requests write nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from werkzeug.test import Client

from amlmock.api import create_app
from amlmock.backend.service import Backend
from amlmock.persistence.sqlite import SqliteStore, StateFileError
from amlmock.persistence.transactions import Transactions
from tests.test_serve import WS, Server

HISTORY = f"/history/v1.0{WS}/experiments/exp"
HEADERS = {"Authorization": "Bearer t"}


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "amlmock", "serve", *args], capture_output=True, text=True, timeout=60)


def _refused(process: subprocess.CompletedProcess[str], words: str) -> None:
    assert process.returncode == 2, process.stderr
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in process.stderr, process.stderr
    assert words in lines[0], lines[0]


def test_a_missing_directory_or_an_unwritable_file_is_one_line_and_exit_2(tmp_path):
    _refused(_serve("--state", str(tmp_path / "nowhere" / "state.sqlite")), "does not exist")
    _refused(_serve("--state", str(tmp_path)), "is a directory")
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        _refused(_serve("--state", str(locked / "state.sqlite")), "not writable")
    finally:
        locked.chmod(0o700)


def _stored(path: str) -> None:
    server = Server("--workspace", "ws1", "--resource-group", "rg1", "--subscription-id", "sub-1", "--state", path)
    assert server.call("POST", HISTORY).status_code == 200
    assert server.call("PATCH", f"{HISTORY}/runs/r1", json={"tags": {"quality": "fantastic"}}).status_code == 200
    assert server.stop()[0] == 0


def test_a_changed_byte_is_found_and_the_file_left_alone(tmp_path):
    path = str(tmp_path / "state.sqlite")
    _stored(path)
    data = bytearray(open(path, "rb").read())
    at = data.index(b"fantastic")
    data[at] ^= 0x01
    open(path, "wb").write(bytes(data))
    _refused(_serve("--state", path), "damaged")
    assert open(path, "rb").read() == bytes(data)


def test_a_file_that_is_not_sqlite_is_refused_and_kept(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    _refused(_serve("--state", str(path)), "not an amlmock state file")
    assert path.read_bytes() == b"not a database at all" * 100


def test_a_second_server_on_the_same_file_exits(tmp_path):
    path = str(tmp_path / "state.sqlite")
    first = Server("--state", path)
    try:
        _refused(_serve("--state", path), "in use by another amlmock server")
    finally:
        assert first.stop()[0] == 0


class FailingStore(SqliteStore):
    """A state file whose next write fails, as when the disk is full."""

    fail = False

    def write(self, changes):
        if self.fail:
            raise sqlite3.OperationalError("disk I/O error")
        super().write(changes)


def _app(tmp_path):
    backend = Backend(record_changes=True)
    store = FailingStore(str(tmp_path / "state.sqlite"))
    backend.create_workspace("sub-1", "rg1", "ws1")
    transactions = Transactions(backend, store)
    transactions.commit()
    return backend, store, Client(create_app(backend, transactions=transactions))


def test_a_failed_commit_changes_nothing_and_a_retry_stores_once(tmp_path):
    backend, store, client = _app(tmp_path)
    assert client.post(HISTORY, headers=HEADERS).status_code == 200
    client.patch(f"{HISTORY}/runs/r1", json={}, headers=HEADERS)
    batch = {"values": [{"name": "loss", "value": [{"metricId": "m-1", "data": {"loss": 0.5}}]}]}
    metrics = f"/metric/v2.0{WS}/runs/r1/batch"
    store.fail = True
    failed = client.post(metrics, json=batch, headers=HEADERS)
    assert failed.status_code == 503 and failed.json["error"]["innerError"]["code"] == "ServiceUnavailable"
    assert backend.get_run(backend.get_workspace("sub-1", "rg1", "ws1"), "r1").metrics == {}
    store.fail = False
    assert client.post(metrics, json=batch, headers=HEADERS).status_code == 200
    assert client.post(metrics, json=batch, headers=HEADERS).status_code == 200  # sent again: the same metric id
    run = backend.get_run(backend.get_workspace("sub-1", "rg1", "ws1"), "r1")
    restored = store.load()[0]  # what the file holds (read through ``store``: it keeps the file locked)
    assert [v.data for v in restored.runs["r1"].metrics["loss"].read()] == [{"loss": 0.5}]
    assert [v.data for v in run.metrics["loss"].read()] == [{"loss": 0.5}]


def test_read_only_requests_write_nothing(tmp_path):
    backend, store, client = _app(tmp_path)
    client.post(HISTORY, headers=HEADERS)
    client.patch(f"{HISTORY}/runs/r1", json={}, headers=HEADERS)
    before = store._db.total_changes
    assert client.post(f"/history/v1.0{WS}/experiments/exp/runs:query", json={}, headers=HEADERS).status_code == 200
    assert client.post(f"/metric/v2.0{WS}/runs/r1/list", json={}, headers=HEADERS).status_code in (200, 404)
    assert client.get(f"{HISTORY}/runs/r1", headers=HEADERS).status_code == 200
    assert store._db.total_changes == before


def test_state_file_error_names_the_file(tmp_path):
    with pytest.raises(StateFileError, match="nowhere"):
        SqliteStore(str(tmp_path / "nowhere" / "x.sqlite"))
