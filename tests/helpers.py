"""Small helpers shared by the tests."""

from __future__ import annotations

import time
from typing import Any, Callable

import requests

from amlmock import AmlMock

RH = "https://eastus.api.azureml.ms/history/v1.0"


def workspace_path(aml: AmlMock) -> str:
    """The ARM path of the fake's default workspace."""
    return aml.create_workspace().arm_id


def raw(method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
    """A plain HTTP request with a bearer token, as the SDK sends it (intercepted by the active mock)."""
    headers = {"Authorization": "Bearer test-token", **(headers or {})}
    return requests.request(method, url, timeout=5, headers=headers, **kwargs)


def wait_for(predicate: Callable[[], Any], seconds: float = 20.0) -> bool:
    """Poll ``predicate`` every 50 ms until it is true or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
