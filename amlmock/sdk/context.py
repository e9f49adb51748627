"""``Run.get_context()`` binding in the test process."""

from __future__ import annotations

from azureml.core import run as sdk_run


def forget_context_runs() -> None:
    """Drop the SDK's cache of ``get_context()`` runs, so a later test gets its own run."""
    sdk_run._SubmittedRun._SubmittedRun__instances.clear()
