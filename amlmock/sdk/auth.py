"""Offline authentication: every SDK auth class works without Azure while the mock is active."""

from __future__ import annotations

import copy
from contextlib import ExitStack
from typing import Any, Callable
from unittest import mock

from azureml.core import authentication as sdk_auth

from ..defaults import TENANT_ID
from ..tokens import make_token

CLOUD = "AzureCloud"

# The auth classes user code may construct; each is made to behave like OfflineAuthentication.
PATCHED_CLASSES = (
    "InteractiveLoginAuthentication",
    "AzureCliAuthentication",
    "ServicePrincipalAuthentication",
    "MsiAuthentication",
    "TokenAuthentication",
    "ArmTokenAuthentication",
)
PATCHED_METHODS = (
    "_get_arm_token",
    "_get_graph_token",
    "_get_azureml_client_token",
    "_get_all_subscription_ids",
    "_get_workspace",
    "get_token",
)


class OfflineAuthentication(sdk_auth.AbstractAuthentication):
    """An auth object that needs no login: unsigned tokens, subscriptions from the fake.

    ``subscriptions`` lists the subscriptions the signed-in "user" can see; ``arm_endpoint``
    (e.g. ``http://127.0.0.1:PORT/``) sends ARM calls to a loopback server instead of Azure.
    """

    subscriptions: Callable[[], list[str]] = staticmethod(lambda: [])
    arm_endpoint: str | None = None

    def __init__(self, cloud: str | None = None) -> None:
        _offline_init(self, cloud=cloud)

    def _get_arm_token(self) -> str:
        return make_token("amlmock-user")[0]

    _get_graph_token = _get_arm_token
    _get_azureml_client_token = _get_arm_token

    def _get_all_subscription_ids(self) -> tuple[list[Any], str]:
        names = OfflineAuthentication.subscriptions()
        return [sdk_auth._SubscriptionInfo(f"amlmock {s}", s) for s in names], TENANT_ID

    def _get_workspace(self, subscription_id: str, resource_group: str, name: str) -> None:
        return None

    def get_token(self, *scopes: Any, **kwargs: Any) -> Any:
        """Track 2 contract: an AccessToken, whatever the scope or audience."""
        token, expiry = make_token("amlmock-user")
        return sdk_auth.AccessToken(token, int(expiry.timestamp()))


def _offline_init(auth: sdk_auth.AbstractAuthentication, *args: Any, cloud: str | None = None, **kwargs: Any) -> None:
    """Constructor used for every patched class: no login, no CLI, no network."""
    sdk_auth.AbstractAuthentication.__init__(auth, cloud or CLOUD)
    endpoint = OfflineAuthentication.arm_endpoint
    if endpoint:
        auth._cloud_type = copy.deepcopy(auth._cloud_type)
        auth._cloud_type.endpoints.resource_manager = endpoint


def patch_auth_classes(stack: ExitStack, subscriptions: Callable[[], list[str]], arm_endpoint: str | None = None) -> None:
    """Make every public SDK auth class offline until ``stack`` closes."""
    stack.enter_context(mock.patch.object(OfflineAuthentication, "subscriptions", staticmethod(subscriptions)))
    stack.enter_context(mock.patch.object(OfflineAuthentication, "arm_endpoint", arm_endpoint))
    for class_name in PATCHED_CLASSES:
        auth_class = getattr(sdk_auth, class_name)
        stack.enter_context(mock.patch.object(auth_class, "__init__", _offline_init))
        for method in PATCHED_METHODS:
            stack.enter_context(mock.patch.object(auth_class, method, getattr(OfflineAuthentication, method)))
