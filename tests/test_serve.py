"""``amlmock serve``: the fake over HTTP in its own process, with optional SQLite state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests

from amlmock.tokens import make_token

AUTH = {"Authorization": "Bearer " + make_token("test")[0]}
ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": "Bearer " + ADMIN_TOKEN}
WS = "/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1"


class Server:
    """A running ``amlmock serve`` process."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "amlmock", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "AMLMOCK_ADMIN_TOKEN": ADMIN_TOKEN},
        )
        first = self.process.stdout.readline().strip()
        assert first.startswith("amlmock serving on http://127.0.0.1:"), first + self.process.stderr.read()
        self.url = first.rsplit(" ", 1)[1]

    def call(self, method: str, path: str, headers=None, **kwargs):
        auth = ADMIN if path.startswith("/amlmock/v1.0/admin") else AUTH
        return requests.request(method, self.url + path, headers={**auth, **(headers or {})}, timeout=10, **kwargs)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(sig)
        out, _ = self.process.communicate(timeout=15)
        return self.process.returncode, out


@pytest.fixture
def state_file(tmp_path):
    return str(tmp_path / "state.sqlite")


def seed_run(server: Server) -> None:
    rh = f"/history/v1.0{WS}/experiments/exp"
    assert server.call("POST", rh).status_code == 200
    created = server.call("PATCH", f"{rh}/runs/run_1", json={"runId": "run_1", "tags": {"quality": "fantastic run"}})
    assert created.status_code == 200
    started = server.call("POST", f"{rh}/runs/run_1/events", json={"name": "Microsoft.MachineLearning.Run.Start"})
    assert started.status_code == 200


def test_serves_the_named_workspaces_and_stops_cleanly():
    server = Server("--workspace", "ws1", "--resource-group", "rg1", "--subscription-id", "sub-1",
                    "--workspace", "ws2", "--resource-group", "rg2")
    try:
        state = server.call("GET", "/amlmock/v1.0/admin/state").json()
        assert [(w["name"], w["resourceGroup"], w["subscriptionId"]) for w in state["workspaces"]] == [
            ("ws1", "rg1", "sub-1"),
            ("ws2", "rg2", "sub-1"),
        ]
        arm = server.call("GET", WS + "?api-version=2022-05-01").json()
        assert arm["properties"]["discoveryUrl"] == server.url + "/discovery"
        assert requests.get(server.url + "/amlmock/v1.0/admin/state", timeout=5).status_code == 401
    finally:
        code, out = server.stop()
    assert code == 0
    assert "amlmock stopped" in out


def test_state_survives_a_kill(state_file):
    server = Server("--workspace", "ws1", "--resource-group", "rg1", "--subscription-id", "sub-1", "--state", state_file)
    seed_run(server)
    server.stop(signal.SIGKILL)
    restarted = Server("--state", state_file)
    try:
        run = restarted.call("GET", f"/history/v1.0{WS}/runs/run_1").json()
        assert (run["status"], run["tags"]) == ("Running", {"quality": "fantastic run"})
    finally:
        assert restarted.stop()[0] == 0


def test_a_state_file_of_the_pickle_format_is_refused_and_kept(state_file):
    import pickle
    import sqlite3

    with sqlite3.connect(state_file) as connection:  # what an earlier amlmock wrote: a pickled snapshot
        connection.execute("CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL)")
        connection.execute("INSERT INTO state (id, data) VALUES (1, ?)", (pickle.dumps({}),))
    process = subprocess.run(
        [sys.executable, "-m", "amlmock", "serve", "--state", state_file], capture_output=True, text=True, timeout=60
    )
    assert process.returncode == 2, process.stderr
    assert "pickled snapshot" in process.stderr and "Start with a new state file" in process.stderr
    assert "Traceback" not in process.stderr
    with sqlite3.connect(state_file) as connection:
        assert connection.execute("SELECT data FROM state").fetchall() == [(pickle.dumps({}),)]


def test_admin_reset_and_create(state_file):
    server = Server("--state", state_file)
    try:
        created = server.call("POST", "/amlmock/v1.0/admin/workspaces", json={"subscriptionId": "sub-1", "resourceGroup": "rg1", "name": "ws1"})
        assert created.status_code == 200
        seed_run(server)
        assert len(server.call("GET", "/amlmock/v1.0/admin/state").json()["workspaces"][0]["runs"]) == 1
        assert server.call("POST", "/amlmock/v1.0/admin/reset").json() == {"workspaces": []}
        bad = server.call("POST", "/amlmock/v1.0/admin/workspaces", json={"name": "x"})
        assert bad.status_code == 400 and "subscriptionId" in bad.json()["error"]["message"]
    finally:
        server.stop()
    assert Server("--state", state_file).stop()[0] == 0


def test_unpaired_workspace_options_are_refused():
    result = subprocess.run([sys.executable, "-m", "amlmock", "serve", "--workspace", "ws1"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--resource-group" in result.stderr


def test_bad_input_never_crashes_the_server():
    server = Server("--workspace", "ws1", "--resource-group", "rg1", "--subscription-id", "sub-1")
    try:
        rh = f"/history/v1.0{WS}/experiments/exp"
        server.call("POST", rh)
        for body in (b"{", b"[]", b'{"runId": 5}', b'{"tags": "x"}', os.urandom(64)):
            response = server.call("PATCH", f"{rh}/runs/r1", data=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, body
        assert server.call("GET", "/amlmock/v1.0/admin/state").status_code == 200
    finally:
        server.stop()
