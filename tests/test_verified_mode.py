"""Verified mode (``pytest --aml-real``): the switch, the fixtures' backend, and the skips.

No Azure here: ``Workspace.from_config`` is replaced inside the pytester runs, either by a sentinel
or by a workspace of a fake started for the whole session (a stand-in for the real service, which
exercises the real-mode run context end to end).
"""

from __future__ import annotations

import pytest
from azureml.core import Experiment, Run

from amlmock import AmlMock
from amlmock.verified import real_run_context

SENTINEL_CONFTEST = '''
import pytest
from azureml.core import Workspace

SENTINEL = object()
CALLS = []


@pytest.fixture(scope="session", autouse=True)
def _from_config_returns_a_sentinel():
    def from_config(path=None, **kwargs):
        CALLS.append(path)
        return SENTINEL

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Workspace, "from_config", staticmethod(from_config))
        yield
'''

SENTINEL_TESTS = '''
import pytest

from conftest import CALLS, SENTINEL


def test_the_workspace_is_the_configs(aml_workspace, pytestconfig):
    assert aml_workspace is SENTINEL
    assert CALLS == [str(pytestconfig.invocation_params.dir / "azure" / "config.json")]


def test_it_is_looked_up_once(aml_workspace):
    assert aml_workspace is SENTINEL and len(CALLS) == 1


def test_with_the_handle(aml):
    raise AssertionError("must be skipped")


def test_with_the_server(aml_server):
    raise AssertionError("must be skipped")


@pytest.mark.aml_fake_only
def test_marked(aml_workspace):
    raise AssertionError("must be skipped")


def test_asks_for_the_handle_late(request):
    request.getfixturevalue("aml")
    raise AssertionError("must be skipped")
'''

STAND_IN_CONFTEST = '''
import pytest
from azureml.core import Workspace

import amlmock


@pytest.fixture(scope="session", autouse=True)
def _a_stand_in_for_the_real_service():
    with amlmock.mock_aml() as service, pytest.MonkeyPatch.context() as patch:
        patch.setattr(Workspace, "from_config", staticmethod(lambda path=None, **kwargs: service.workspace()))
        yield
'''

STAND_IN_TESTS = '''
from azureml.core import Experiment, Run


def train():
    """Code under test: logs to the run it is given by the service."""
    Run.get_context().log("accuracy", 0.9)


def test_training(aml_run_context):
    train()
    assert Run.get_context().id == aml_run_context.id
    assert aml_run_context.get_status() == "Running"


def test_the_training_run_was_completed(aml_workspace):
    [run] = Experiment(aml_workspace, "test_training").get_runs()
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"accuracy": 0.9}
'''


@pytest.fixture(autouse=True)
def _no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner runs use --aml-real, which AMLMOCK_VALIDATE=1 (say, of the outer run) would refuse."""
    monkeypatch.delenv("AMLMOCK_VALIDATE", raising=False)


def test_the_options_and_the_marker_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(["*--aml-validate*", "*--aml-real*", "*--aml-config=PATH*"])
    result = pytester.runpytest_inprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.aml_fake_only: the test needs amlmock's fake service*"])


def test_real_mode_takes_the_workspace_from_the_config_and_skips_fake_only_tests(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SENTINEL_CONFTEST)
    pytester.makepyfile(test_real=SENTINEL_TESTS)
    result = pytester.runpytest_inprocess("--aml-real", "--aml-config", "azure/config.json", "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=2, skipped=4)
    result.stdout.fnmatch_lines_random(
        [
            "amlmock: verified mode, real workspace from *azure/config.json",
            "SKIPPED [[]2[]] test_real.py: uses the fake's fixture 'aml': skipped under --aml-real",
            "SKIPPED * test_real.py:*: marked aml_fake_only: skipped under --aml-real",
            "SKIPPED * test_real.py:*: the aml fixture is the fake's handle: skipped under --aml-real",
        ]
    )


def test_real_mode_runs_the_context_run_on_the_service(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(STAND_IN_CONFTEST)
    pytester.makepyfile(test_training=STAND_IN_TESTS)
    result = pytester.runpytest_inprocess("--aml-real", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_without_the_option_the_fixtures_use_the_fake(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SENTINEL_CONFTEST)
    pytester.makepyfile(test_fake="def test_fake(aml, aml_workspace):\n    assert aml_workspace.name == aml.workspaces()[0].name\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_validation_and_real_mode_exclude_each_other(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--aml-real", "--aml-validate")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--aml-validate checks the fake's traffic: it cannot be combined with --aml-real*"])


def test_the_real_run_context_fails_the_run_when_the_block_raises(aml: AmlMock) -> None:
    experiment = Experiment(aml.workspace(), "verified")
    with pytest.raises(ValueError), real_run_context(experiment) as run:
        raise ValueError("diverged")
    assert Run(experiment, run.id).get_status() == "Failed"
    assert "diverged" in aml.run(run.id).error["error"]["message"]
