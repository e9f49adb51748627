"""docs/coverage.md is never stale: it is regenerated in memory and compared."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from amlmock.api import ROUTES
from amlmock.fidelity.coverage import ARM, implementing_rule, main, render, render_sdk, service_of
from amlmock.fidelity.sdk import sdk_operations, sdk_version
from amlmock.fidelity.specs import specs_available, specs_dir

DOC = Path(__file__).resolve().parents[1] / "docs" / "coverage.md"
REGENERATE = "docs/coverage.md is stale: run `python -m amlmock.fidelity.coverage`"


def documented_text() -> str:
    """docs/coverage.md, when it describes the installed SDK (else the test is skipped)."""
    text = DOC.read_text(encoding="utf-8")
    documented = re.search(r"^## The SDK's REST operations \(azureml-core ([^)]+)\)", text, re.MULTILINE)
    assert documented, "docs/coverage.md has no SDK part"
    if documented.group(1) != sdk_version():
        pytest.skip(f"docs/coverage.md describes azureml-core {documented.group(1)}, not the installed {sdk_version()}")
    return text


def diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(actual.splitlines(), expected.splitlines(), "docs/coverage.md", "regenerated", lineterm="")
    return "\n".join(list(lines)[:40])


def test_the_sdk_part_is_current() -> None:
    text = documented_text()
    expected = render_sdk(ROUTES.url_map, sdk_operations(), sdk_version())
    assert expected in text, f"{REGENERATE}\n{diff(expected, text)}"


def test_the_whole_matrix_is_current() -> None:
    if not specs_available():
        pytest.skip(f"the REST specs are not in {specs_dir()} (set AMLMOCK_SPECS_DIR): only the SDK part was checked")
    text = documented_text()
    expected = render(specs_dir())
    assert expected == text, f"{REGENERATE}\n{diff(expected, text)}"


def test_implemented_means_the_fake_routes_the_method_and_path() -> None:
    runs = "/history/v1.0/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.MachineLearningServices/workspaces/{w}/experiments/{e}/runs/{runId}"
    assert implementing_rule(ROUTES.url_map, "GET", runs) is not None
    assert implementing_rule(ROUTES.url_map, "DELETE", runs) is None
    assert implementing_rule(ROUTES.url_map, "GET", "/datastore/v1.0/anything") is None


def test_services_are_named_by_path_and_version() -> None:
    assert service_of("/metric/v2.0/subscriptions/{s}/runs/{r}/batch") == "metric/v2.0"
    assert service_of("/rp/armtemplates/envsetup/subscriptions/{s}") == "rp"
    assert service_of("/subscriptions/{s}/providers/Microsoft.MachineLearningServices/workspaces") == ARM


@pytest.mark.skipif(not specs_available(), reason="the REST specs are not available")
def test_the_command_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "coverage.md"
    assert main(["--check", "--output", str(output)]) == 1
    assert "stale" in capsys.readouterr().err
    assert main(["--output", str(output)]) == 0
    assert main(["--check", "--output", str(output)]) == 0
