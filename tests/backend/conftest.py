"""Fixtures of the backend's unit tests: a fresh backend with one workspace and experiment."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from amlmock.backend.models import Experiment, Workspace
from amlmock.backend.service import Backend


@dataclass
class Scope:
    """A backend, and the workspace and experiment most tests work in."""

    backend: Backend
    workspace: Workspace
    experiment: Experiment

    def state(self) -> bytes:
        """The whole state, byte for byte (to show a refused call changed nothing)."""
        with self.backend.exclusively():
            return pickle.dumps(self.backend.all_workspaces())


@pytest.fixture
def scope() -> Scope:
    backend = Backend()
    workspace = backend.create_workspace("sub", "rg", "ws")
    return Scope(backend, workspace, backend.create_experiment(workspace, "exp"))
