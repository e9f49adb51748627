#!/usr/bin/env bash
# Runs the test suite against several azureml-core releases, one venv per release (not part of CI).
#
#   bash scripts/sdk-matrix.sh                    # 1.61.0 and 1.57.0
#   bash scripts/sdk-matrix.sh 1.59.0 -- -x tests/test_runs.py
#
# Each venv lives in .venv-sdk/<version> and is reused; the summary lists the result per release.
# amlmock declares azureml-core>=1.60, so an older release is installed over it: pip warns about the
# conflict, which is the point of the exercise.
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

versions=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do versions+=("$1"); shift; done
[ $# -gt 0 ] && shift  # the "--"; what follows goes to pytest
[ ${#versions[@]} -gt 0 ] || versions=(1.61.0 1.57.0)
pytest_args=("$@")
[ ${#pytest_args[@]} -gt 0 ] || pytest_args=(-n 2)

wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
declare -A results
for version in "${versions[@]}"; do
    venv=.venv-sdk/$version
    echo "=== azureml-core $version ($venv)"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv" || { results[$version]="venv failed"; continue; }
    fi
    # amlmock with its test extras once (again when pyproject.toml changes), then the release under test.
    if [ "$(cat "$venv/.amlmock-installed" 2>/dev/null)" != "$wanted" ]; then
        "$venv/bin/python" -m pip install --quiet -e '.[test]' || { results[$version]="install failed"; continue; }
        echo "$wanted" > "$venv/.amlmock-installed"
    fi
    if ! "$venv/bin/python" -m pip install --quiet "azureml-core==$version"; then
        results[$version]="install failed"
        continue
    fi
    "$venv/bin/python" -m pip show azureml-core | grep '^Version'
    if "$venv/bin/python" -m pytest -q -p no:cacheprovider "${pytest_args[@]}"; then
        results[$version]="passed"
    else
        results[$version]="FAILED"
    fi
done

echo "=== summary"
status=0
for version in "${versions[@]}"; do
    echo "azureml-core $version: ${results[$version]}"
    [ "${results[$version]}" = passed ] || status=1
done
exit $status
