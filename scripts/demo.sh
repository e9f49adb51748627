#!/usr/bin/env bash
# The main job: the seed walkthrough against the fake, step by step.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/amlmock demo "$@"
