"""Small helpers shared by the tests."""

from __future__ import annotations

from typing import Any

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
