"""amlmock: an in-memory fake of the Azure ML (v1) run service for the real ``azureml-core`` SDK."""

from .defaults import DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, DEFAULT_WORKSPACE
from .mock import AmlMock, current_mock, mock_aml

__version__ = "0.1.0"

__all__ = [
    "AmlMock",
    "DEFAULT_RESOURCE_GROUP",
    "DEFAULT_SUBSCRIPTION",
    "DEFAULT_WORKSPACE",
    "current_mock",
    "mock_aml",
]
