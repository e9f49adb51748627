"""Benchmark 6: a submitted run of a trivial script against the same script run with ``python``."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from azureml.core import ScriptRunConfig

from amlmock import mock_aml

from .measure import Figure, Sample, Settings, alternate, median_wall, timed
from .walkthrough import experiment, prepare

NAME = "6 submit"
SCRIPT = "hello.py"
SCRIPT_TEXT = 'print("hello from a submitted run")\n'


def _plain(project: str) -> Sample:
    return timed(lambda: subprocess.run([sys.executable, SCRIPT], cwd=project, check=True, capture_output=True))


def _submitted(project: str) -> Sample:
    """``exp.submit(ScriptRunConfig(...))`` and ``wait_for_completion()`` (the mock's start is not timed)."""
    with mock_aml() as aml:
        prepare(aml)
        exp = experiment()

        def submit_and_wait() -> None:
            details = exp.submit(ScriptRunConfig(source_directory=project, script=SCRIPT)).wait_for_completion()
            if details["status"] != "Completed":
                raise AssertionError(f"the submitted run ended {details['status']}")

        return timed(submit_and_wait)


def run(settings: Settings) -> list[Figure]:
    """Seconds a submitted run takes beyond running the script directly."""
    with tempfile.TemporaryDirectory(prefix="amlmock-bench-") as project:
        Path(project, SCRIPT).write_text(SCRIPT_TEXT, encoding="utf-8")
        samples = alternate({"python": lambda: _plain(project), "submit": lambda: _submitted(project)}, settings)
    plain, submitted = median_wall(samples["python"]), median_wall(samples["submit"])
    raw = {"python_script_s": plain, "submit_and_wait_s": submitted}
    return [Figure(NAME, "submit + wait_for_completion extra time", submitted - plain, "s", 1.5, raw)]
