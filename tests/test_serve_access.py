"""``amlmock serve`` admits only what the fake issued: tokens, the admin token and blob SAS; refused
requests leave the state untouched. Also slow clients and malformed HTTP framing."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from amlmock.tokens import TENANT_ID, make_token, signed_token
from tests.test_serve import AUTH, WS, Server

HISTORY = f"/history/v1.0{WS}/experiments/exp"
OTHER_WS = WS.replace("ws1", "ws2").replace("rg1", "rg2")


def _b64(document: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def server():
    server = Server("--workspace", "ws1", "--resource-group", "rg1", "--subscription-id", "sub-1",
                    "--workspace", "ws2", "--resource-group", "rg2", "--subscription-id", "sub-1")
    assert server.call("POST", HISTORY).status_code == 200
    assert server.call("PATCH", f"{HISTORY}/runs/r1", json={"runId": "r1"}).status_code == 200
    yield server
    server.stop()


def _state(server: Server) -> dict:
    return server.call("GET", "/amlmock/v1.0/admin/state").json()


def _run_token(server: Server, workspace_path: str, run_id: str) -> str:
    reply = server.call("GET", f"/history/v1.0{workspace_path}/experiments/exp/runs/{run_id}/token")
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


def _bad_tokens(server: Server) -> dict[str, str]:
    claims = {"sub": "x", "tid": TENANT_ID, "exp": int(time.time()) + 3600}
    other_run = _run_token(server, WS, "r1")
    return {
        "garbage": "x",
        "expired": make_token("old", lifetime=timedelta(seconds=-5))[0],
        "forged signature": signed_token({**claims, "amlmock_wid": "w"}, b"not the server key"),
        "forged RS256": f"{_b64({'alg': 'RS256'})}.{_b64(claims)}.c2ln",
        "unsigned run token": make_token("run:r1", workspace_id="w")[0],
        "other tenant": f"{_b64({'alg': 'none'})}.{_b64({**claims, 'tid': 'another-tenant'})}.",
        "other workspace's run token": other_run,
    }


def test_every_refused_token_gets_401_or_403_and_changes_nothing(server):
    before = _state(server)
    patch = f"/history/v1.0{OTHER_WS}/experiments/exp/runs/intruder"
    for name, token in _bad_tokens(server).items():
        for method, path, body in (("PATCH", patch, {"runId": "intruder"}), ("POST", "/amlmock/v1.0/admin/reset", None)):
            reply = requests.request(method, server.url + path, json=body, timeout=10, headers={"Authorization": "Bearer " + token})
            assert reply.status_code in (401, 403), (name, path, reply.status_code, reply.text)
            assert reply.json()["error"]["code"], name
    assert requests.patch(server.url + patch, json={}, timeout=10).status_code == 401  # no token at all
    assert server.call("POST", "/amlmock/v1.0/admin/reset", headers=AUTH).status_code == 401  # a user token on admin
    assert _state(server) == before


def test_a_run_token_works_for_its_own_workspace_only(server):
    token = {"Authorization": "Bearer " + _run_token(server, WS, "r1")}
    assert requests.get(server.url + f"{HISTORY}/runs/r1", headers=token, timeout=10).status_code == 200
    assert requests.post(server.url + "/amlmock/v1.0/admin/reset", headers=token, timeout=10).status_code == 401


def test_blobs_need_the_sas_the_fake_issued(server):
    created = server.call(
        "POST", f"/artifact/v2.0{WS}/artifacts/batch/metadata/ExperimentRun/dcid.r1", json={"paths": [{"path": "outputs/a.txt"}]}
    ).json()
    url = created["artifactContentInformation"]["outputs/a.txt"]["contentUri"]
    assert url.startswith(server.url + "/amlmockstorage/")
    bare = url.split("?")[0]
    query = parse_qs(urlparse(url).query)
    wrong = {**{k: v[0] for k, v in query.items()}, "sig": "AAAA"}
    other_path = bare.replace("a.txt", "b.txt") + "?" + urlparse(url).query
    for target, params in ((bare, None), (bare, wrong), (other_path, None)):
        assert requests.put(target, params=params, data=b"x", timeout=10, headers={"x-ms-blob-type": "BlockBlob"}).status_code == 403
        assert requests.get(target, params=params, timeout=10).status_code == 403
    assert requests.put(url, data=b"hello", timeout=10, headers={"x-ms-blob-type": "BlockBlob"}).status_code == 201
    assert requests.get(url, timeout=10).content == b"hello"


def test_urls_come_from_the_servers_own_address(server):
    reply = server.call("GET", WS + "?api-version=2022-05-01", headers={"Host": "attacker.example"})
    assert reply.json()["properties"]["discoveryUrl"] == server.url + "/discovery"


def _raw(server: Server, data: bytes) -> bytes:
    host, port = urlparse(server.url).hostname, urlparse(server.url).port
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(data)
        return connection.recv(65536)


def test_malformed_framing_gets_400(server):
    path = f"{HISTORY}/runs/r1".encode()
    auth = AUTH["Authorization"].encode()
    head = b"PATCH " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + b"\r\nContent-Type: application/json\r\n"
    for framing in (
        b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
        b"Content-Length: abc\r\n\r\n{}",
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    ):
        assert _raw(server, head + framing).split(b"\r\n")[0].split(b" ")[1] == b"400", framing


def test_an_oversized_json_body_gets_413_unread(server):
    reply = server.call("PATCH", f"{HISTORY}/runs/r1", data=b" " * (17 * 1024 * 1024), headers={"Content-Type": "application/json"})
    assert reply.status_code == 413


def test_slow_clients_hold_no_threads(server):
    """500 sockets sending a request one byte at a time; fresh requests are still answered."""
    host, port = urlparse(server.url).hostname, urlparse(server.url).port
    slow = [socket.create_connection((host, port), timeout=10) for _ in range(500)]
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            for connection in slow:
                try:
                    connection.send(b"G")
                except OSError:
                    pass
            stop.wait(1)

    dripper = threading.Thread(target=trickle)
    dripper.start()
    try:
        time.sleep(1.5)
        latencies = []
        for _ in range(20):
            started = time.perf_counter()
            assert server.call("GET", f"{HISTORY}/runs/r1").status_code == 200
            latencies.append(time.perf_counter() - started)
        threads = len(os.listdir(f"/proc/{server.process.pid}/task"))
    finally:
        stop.set()
        dripper.join()
        for connection in slow:
            connection.close()
    print(f"fresh requests beside 500 slow sockets: max {max(latencies) * 1000:.0f} ms; server threads {threads}")
    assert threads < 30  # the worker pool (8) and a few of amlmock's own, not one per socket
    assert max(latencies) < 5  # measured well under 1 s; 5 s so a loaded shared machine cannot flake it



def test_a_stderr_nobody_reads_never_stalls_requests(server):
    """Each unimplemented route logs a warning; the server's stderr is a pipe this test never reads (it fills after
    a few hundred lines), and every request is still answered."""
    session = requests.Session()
    for number in range(2_000):
        reply = session.get(f"{server.url}/nothing/here/{number}", headers=AUTH, timeout=10)
        assert reply.status_code == 404


def test_the_real_sdk_works_against_the_strict_server(server):
    """The tokens the SDK's offline auth makes in another process are accepted by a strict server. (The SDK
    cannot upload over loopback at all: it rebuilds an Azure host from a blob URL; the SAS is tested above.)"""
    from contextlib import ExitStack
    from unittest import mock

    from azureml.core import Experiment, Run, Workspace

    from amlmock.sdk.auth import OfflineAuthentication
    from amlmock.sdk.tuning import speed_up_sdk

    with ExitStack() as stack:
        speed_up_sdk(stack)
        stack.enter_context(mock.patch.object(OfflineAuthentication, "arm_endpoint", server.url + "/"))
        stack.enter_context(mock.patch.object(OfflineAuthentication, "subscriptions", staticmethod(lambda: ["sub-1"])))
        workspace = Workspace("sub-1", "rg1", "ws1", auth=OfflineAuthentication())
        experiment = Experiment(workspace, "sdk-through-serve")
        run = experiment.start_logging(snapshot_directory=None)  # no ``with``: it would upload its logs
        run.log("accuracy", 0.93)
        run.tag("worth another look")
        run.complete()
        fetched = Run(experiment, run.id)
        assert fetched.get_status() == "Completed"
        assert fetched.get_metrics() == {"accuracy": 0.93}
        assert [r.id for r in experiment.get_runs(tags="worth another look")] == [run.id]
