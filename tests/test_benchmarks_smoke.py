"""The benchmarks' smoke mode: every benchmark runs and yields finite numbers (no timing is asserted)."""

from __future__ import annotations

import importlib.util
import math

import pytest

from benchmarks import BENCHMARKS, run_smoke
from benchmarks.__main__ import main

# What the benchmarks that may skip need: peer `pip install .[bench]`, mlflow `.[mlflow,bench]` too.
EXTRAS = {"peer": ("moto", "boto3"), "mlflow": ("mlflow", "azureml.mlflow", "sqlalchemy", "alembic")}


def test_every_benchmark_runs_and_yields_finite_numbers():
    results = run_smoke()

    assert list(results) == list(BENCHMARKS)
    for name, figures in results.items():
        assert figures, f"benchmark {name} produced no figure"
        for figure in figures:
            if figure.skipped:
                assert name in EXTRAS and not all(importlib.util.find_spec(m) for m in EXTRAS[name]), figure
                continue
            assert all(math.isfinite(number) for number in figure.numbers), figure


def test_the_command_prints_the_table(capsys: pytest.CaptureFixture[str]):
    assert main(["--smoke", "--only", "per-test"]) == 0

    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| benchmark | figure | measured | goal | ok? | raw medians |"
    assert any(line.startswith("| 3 per-test |") for line in table)
