"""Small helpers shared by the tests."""

from __future__ import annotations

from typing import Any

import requests

from amlmock import AmlMock

RH = "https://eastus.api.azureml.ms/history/v1.0"


def workspace_path(aml: AmlMock) -> str:
    """The ARM path of the fake's default workspace."""
    return aml.create_workspace().arm_id


def raw(method: str, url: str, **kwargs: Any) -> requests.Response:
    """A plain HTTP request, as any client would send it (intercepted by the active mock)."""
    return requests.request(method, url, timeout=5, **kwargs)
