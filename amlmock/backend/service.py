"""The in-memory service: the one ``Backend`` the api layer maps requests onto.

Each aggregate's operations live in their own module (``workspaces``, ``runs``, ``local_runs``,
``metrics``, ``artifacts``, MLflow's view in ``tracking``, the model registry in ``registry_service``);
they share one state (``state``). Every public method takes the lock, checks the whole request first
and only then changes state, so a rejected request leaves nothing half-written.
"""

from __future__ import annotations

from .artifacts import ArtifactOperations
from .local_runs import LocalRunOperations, ProcessCheck, refuse_processes
from .metrics import MetricOperations
from .registry_service import RegistryService
from .tracking import TrackingMixin


class Backend(LocalRunOperations, MetricOperations, ArtifactOperations, TrackingMixin):
    """All workspaces of one fake service."""

    def __init__(self, process_check: ProcessCheck | None = None, record_changes: bool = False) -> None:
        """``process_check`` vets the process ids a local run's driver reports (``record_processes``): it returns
        why they are refused, or None. The backend knows no processes itself; without a check it records none
        (``amlmock.execution.processes.local_run_processes`` is the check ``mock_aml()`` and ``amlmock serve`` use).
        ``record_changes`` keeps a change log for a store (``take_changes``); the backend itself writes nothing."""
        super().__init__(record_changes)
        self.process_check: ProcessCheck = process_check or refuse_processes
        self.registry = RegistryService(self._lock, self.list_artifacts, lambda: self._changes)
