"""SDK settings made fast and test-friendly (for the mock and ``amlmock az``): no slow back-off, private caches."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator
from unittest import mock

from azureml._base_sdk_common import service_discovery
from azureml._common.async_utils import task_queue
from azureml._file_utils import file_utils
from azureml._execution import _commands as local_commands
from azureml.core import script_run
from azureml.core import run as sdk_run
from azureml._restclient import clientbase
from msrest.universal_http import requests as msrest_requests

WAIT_POLL_SECONDS = 0.1
FLUSH_POLL_SECONDS = 0.002


class _FastPollingTime:
    """``time`` for the SDK's task queue (its flush re-checks every 2 ms instead of 250 ms) and its
    blob downloads (retried at once instead of after 2, 4, 16 and 256 s)."""

    time = staticmethod(time.time)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, FLUSH_POLL_SECONDS))


_original_retry_init = msrest_requests.ClientRetryPolicy.__init__


def _fast_retry_init(policy: Any) -> None:
    """msrest's retry policy with the same retries and no sleeping between them."""
    _original_retry_init(policy)
    policy.policy.backoff_factor = 0


def speed_up_sdk(stack: ExitStack) -> None:
    """Until ``stack`` closes: zero back-off between retries (msrest's and the blob downloads'), fast
    ``wait_for_completion`` and flush polls."""
    for name in ("DEFAULT_BACKOFF", "DEFAULT_500_BACKOFF", "DEFAULT_503_BACKOFF", "DEFAULT_SHORT_BACKOFF"):
        stack.enter_context(mock.patch.object(clientbase, name, 0))
    stack.enter_context(mock.patch.object(msrest_requests.ClientRetryPolicy, "__init__", _fast_retry_init))
    stack.enter_context(mock.patch.object(task_queue, "time", _FastPollingTime))
    stack.enter_context(mock.patch.object(file_utils, "time", _FastPollingTime))  # download retries: 2 s, 4 s, 16 s, 256 s
    stack.enter_context(mock.patch.object(sdk_run.Run, "_WAIT_COMPLETION_POLLING_INTERVAL_MIN", WAIT_POLL_SECONDS))
    stack.enter_context(mock.patch.object(sdk_run.Run, "_WAIT_COMPLETION_POLLING_INTERVAL_MAX", WAIT_POLL_SECONDS))


def tune_sdk(stack: ExitStack, home: str) -> None:
    """Until ``stack`` closes: ``speed_up_sdk``, and the SDK's caches (``~/.azureml``) and
    local-run folders (``$TMPDIR/azureml_runs`` for the SDK) under ``home``. ``HOME`` and
    ``USERPROFILE`` are the only environment variables changed besides ``AZUREML_CURRENT_CLOUD``."""
    speed_up_sdk(stack)
    discovery_cache = os.path.join(home, ".azureml", ".discovery")
    init = service_discovery.CachedServiceDiscovery.__init__
    stack.enter_context(mock.patch.object(init, "__defaults__", (discovery_cache,)))
    stack.enter_context(environment({"HOME": home, "USERPROFILE": home, "AZUREML_CURRENT_CLOUD": "AzureCloud"}))
    runs_folder = os.path.join(home, "azureml_runs")
    os.makedirs(runs_folder)

    def project_temporary_directory(run_id: str) -> str:
        return os.path.join(runs_folder, run_id)

    for module in (script_run, local_commands):  # tempfile itself is left alone: pytest and others rely on it
        stack.enter_context(mock.patch.object(module, "_get_project_temporary_directory", project_temporary_directory))


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables, then restore just those (other changes are left alone)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
