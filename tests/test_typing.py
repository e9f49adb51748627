"""The typed public API (``py.typed``): amlmock type-checks under its own mypy settings, and so does user code
written against it, while a misuse of the API is reported as users' type checkers would report it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="the typing tests need mypy (pip install 'amlmock[test]')")

ROOT = Path(__file__).resolve().parent.parent

USER_CODE = '''
from azureml.core import Experiment, Run
from amlmock import AmlMock, mock_aml


def test_status(aml: AmlMock) -> None:
    run: Run = Experiment(aml.workspace(), "typed").start_logging()
    run.complete()
    status: str = aml.run(run.id).status
    history: list[str] = [event.name for event in aml.run(run.id).status_history]
    names: list[str] = [r.run_id for r in aml.runs("typed")]
    assert status and history and names


@mock_aml
def decorated() -> int:
    return 1


def with_block() -> None:
    with mock_aml() as aml:
        aml.metrics("run_1")
    total: int = decorated()
'''

MISUSE = '''
from amlmock import mock_aml

with mock_aml() as aml:
    aml.run(42)
    status: int = aml.run("run_1").status
'''


def mypy(tmp_path: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    """mypy with the project's settings; amlmock is found from the checkout (an editable install hides it)."""
    environment = {**os.environ, "MYPYPATH": str(ROOT)}
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(tmp_path / ".mypy_cache"), *targets]
    return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)


def test_the_package_ships_its_type_information():
    assert resources.files("amlmock").joinpath("py.typed").is_file()


def test_amlmock_type_checks_under_its_own_settings(tmp_path):
    result = mypy(tmp_path, str(ROOT / "amlmock"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_user_code_type_checks_and_a_misuse_is_reported(tmp_path):
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_CODE))
    (tmp_path / "misuse.py").write_text(textwrap.dedent(MISUSE))
    good = mypy(tmp_path, "test_user.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy(tmp_path, "misuse.py")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert 'misuse.py:5: error: Argument 1 to "run" of "AmlMock" has incompatible type "int"; expected "str"' in bad.stdout
    assert "misuse.py:6: error: Incompatible types in assignment" in bad.stdout
