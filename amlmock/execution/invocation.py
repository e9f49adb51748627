"""The invocation zip the SDK extracts and launches for a local run."""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
import zipfile
from typing import Any

from ..defaults import DRIVER_LOG

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "driver.py")
WRAPPER = os.path.join(HERE, "script_wrapper.py")
CONFIG_NAME = "amlmock-run.json"
CONFIG_PATH = f"azureml-setup/{CONFIG_NAME}"


def script_interpreter(configuration: dict[str, Any]) -> str:
    """The run config's ``interpreterPath`` when dependencies are user-managed, else this Python."""
    python = (configuration.get("environment") or {}).get("python") or {}
    if python.get("userManagedDependencies") and python.get("interpreterPath"):
        return str(python["interpreterPath"])
    return sys.executable


def script_environment(configuration: dict[str, Any]) -> dict[str, str]:
    """The run config's environment variables (both places the SDK writes them)."""
    variables: dict[str, str] = {}
    for source in ((configuration.get("environment") or {}).get("environmentVariables"), configuration.get("environmentVariables")):
        variables.update({str(k): str(v) for k, v in (source or {}).items()})
    return variables


def driver_command() -> list[str]:
    """The driver's command line: this Python, amlmock's ``driver.py``, the config. ``Invocation.sh`` execs it (and
    the SDK's ``/bin/bash -c`` execs that script), so the process the driver reports as its own has exactly these
    arguments in ``/proc/<pid>/cmdline``, which is how the fake knows its driver (``processes.runs_driver``)."""
    return [sys.executable, DRIVER, CONFIG_PATH]


def invocation_zip(driver_config: dict[str, Any]) -> bytes:
    """``azureml-setup/Invocation.sh`` starting the driver, and the driver's config."""
    script = "\n".join(
        [
            "#!/bin/bash",
            "# Written by amlmock: runs this local run's script against the fake service.",
            'cd "$(dirname "$0")/.."',
            f"exec {shlex.join(driver_command())} > azureml-setup/amlmock-driver.log 2>&1",
            "",
        ]
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("azureml-setup/Invocation.sh", script)
        archive.writestr(CONFIG_PATH, json.dumps(driver_config, indent=2))
    return buffer.getvalue()


def driver_config(
    *,
    service_url: str,
    workspace_path: str,
    experiment: str,
    run_id: str,
    container: str,
    token: str,
    configuration: dict[str, Any],
    context_environment: dict[str, str],
) -> dict[str, Any]:
    """Everything the driver needs to run the script and report back."""
    environment = {**script_environment(configuration), **context_environment, "PYTHONUNBUFFERED": "1"}
    return {
        "service_url": service_url,
        "workspace_path": workspace_path,
        "experiment": experiment,
        "run_id": run_id,
        "container": container,
        "token": token,
        "log_name": DRIVER_LOG,
        "interpreter": script_interpreter(configuration),
        "wrapper": WRAPPER,
        "script": configuration.get("script") or "",
        "arguments": [str(a) for a in configuration.get("arguments") or []],
        "environment": environment,
    }
