"""``amlmock serve --state``: every acknowledged (2xx) write survives a SIGKILL mid-load.

Clients write over raw HTTP while the server is killed at a random moment; the restarted server on the same
file must have every write that was answered with a 2xx. ``AMLMOCK_SOAK=N`` runs N times the rounds.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import requests

from tests.test_serve import AUTH, WS, Server

SOAK = int(os.environ.get("AMLMOCK_SOAK", "0") or 0)
ROUNDS = 3 * (10 if SOAK == 1 else max(SOAK, 1))
CLIENTS = 16
HISTORY = f"/history/v1.0{WS}/experiments/exp"


def _client(server: Server, name: str, acknowledged: list[tuple[str, str]], stop: threading.Event) -> None:
    """Create runs, then retag each once; note each write the server answered with a 2xx."""
    session = requests.Session()
    for number in range(10_000):
        if stop.is_set():
            return
        run_id = f"{name}_{number}"
        try:
            for value in ("created", "retagged"):
                body = {"runId": run_id, "tags": {"step": value}}
                reply = session.patch(server.url + f"{HISTORY}/runs/{run_id}", json=body, headers=AUTH, timeout=10)
                if not 200 <= reply.status_code < 300:
                    return
                acknowledged.append((run_id, value))
        except requests.RequestException:
            return


def test_every_acknowledged_write_survives_sigkill(tmp_path):
    state = str(tmp_path / "state.sqlite")
    workspace = ("--workspace", "ws1", "--resource-group", "rg1", "--subscription-id", "sub-1")
    server = Server(*workspace, "--state", state)
    assert server.call("POST", HISTORY).status_code == 200
    expected: dict[str, str] = {}
    rng = random.Random(13)
    for round_number in range(ROUNDS):
        acknowledged: list[tuple[str, str]] = []
        stop = threading.Event()
        clients = [
            threading.Thread(target=_client, args=(server, f"r{round_number}c{i}", acknowledged, stop)) for i in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        time.sleep(rng.uniform(0.3, 1.2))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        stop.set()
        for client in clients:
            client.join(timeout=15)
        assert acknowledged, "no write was acknowledged before the kill"
        for run_id, value in acknowledged:
            expected[run_id] = "retagged" if value == "retagged" else expected.get(run_id, value)
        server = Server("--state", state)
        runs = {r["runId"]: r for r in server.call("GET", "/amlmock/v1.0/admin/state").json()["workspaces"][0]["runs"]}
        missing = [run_id for run_id in expected if run_id not in runs]
        assert not missing, f"round {round_number}: {len(missing)} acknowledged runs lost, e.g. {missing[:3]}"
        stale = [run_id for run_id, value in expected.items() if value == "retagged" and runs[run_id]["tags"] != {"step": "retagged"}]
        assert not stale, f"round {round_number}: acknowledged tag updates lost: {stale[:3]}"
    assert server.stop()[0] == 0
    print(f"{ROUNDS} kills, {len(expected)} acknowledged runs, all found after each restart")
