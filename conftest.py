"""Project-wide test set-up: work in a temp dir, and never reach past 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

_original_connect = socket.socket.connect


class NetworkEscapeError(ConnectionRefusedError):
    """A test tried to reach a host other than 127.0.0.1: the fake missed a request."""


def _loopback_only_connect(sock: socket.socket, address: Any) -> Any:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise NetworkEscapeError(f"amlmock tests must not leave 127.0.0.1: blocked a connection to {address!r}")
    return _original_connect(sock, address)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, pytestconfig: pytest.Config) -> None:
    """Each test runs in its own directory (the SDK writes ./outputs and ./logs) with no network.

    Under ``--aml-real`` (verified mode, docs/fidelity.md) the tests talk to Azure, so the network stays open.
    """
    if not pytestconfig.getoption("aml_real"):
        monkeypatch.setattr(socket.socket, "connect", _loopback_only_connect)
    monkeypatch.chdir(tmp_path)
