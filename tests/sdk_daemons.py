"""Stop the azureml SDK's metric daemons that a test started (they otherwise outlive the test).

Each SDK ``Run`` that is flushed creates two metric ``BatchTaskQueue``s whose 1-second
``threading.Timer`` re-arms forever. ``aml.run()``, ``aml.runs()`` and ``mock_aml().stop()``
flush every SDK Run object still alive, rehydrated ones included, so a property test with
hundreds of examples would leave thousands of timer threads behind and slow to a crawl.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator
from unittest import mock

from azureml._common.async_utils.daemon import Daemon


@contextmanager
def sdk_daemons_stopped() -> Iterator[None]:
    """Record every SDK daemon started in the block; stop them all on the way out."""
    started: list[Daemon] = []
    original = Daemon.start

    def recording_start(daemon: Daemon) -> None:
        started.append(daemon)
        original(daemon)

    try:
        with mock.patch.object(Daemon, "start", recording_start):
            yield
    finally:
        for daemon in started:
            if daemon.current_timer is not None:
                daemon.stop()
