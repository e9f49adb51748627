#!/usr/bin/env bash
# The test suite, through the real azureml-core SDK, on every core.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -n auto -q "$@"
