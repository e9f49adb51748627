"""The pytest plugin as a downstream project sees it: installed, nothing else configured."""

from __future__ import annotations

DOWNSTREAM_TESTS = '''
from azureml.core import Experiment, Run


def train(run):
    """Code under test: what a training entry point does with its run."""
    run.log("accuracy", 0.91)
    run.tag("quality", "great run")
    run.add_properties({"author": "azureml-user"})


def test_training_logs_to_the_context_run(aml, aml_run_context):
    train(Run.get_context())
    assert aml.metrics(aml_run_context.id) == {"accuracy": [0.91]}
    assert aml.run(aml_run_context.id).properties == {"author": "azureml-user"}


def test_experiment_fixture(aml, aml_experiment, aml_workspace):
    assert aml_experiment.workspace.name == aml_workspace.name
    with aml_experiment.start_logging(snapshot_directory=None) as run:
        train(run)
    assert [r.id for r in aml_experiment.get_runs(tags={"quality": "great run"})] == [run.id]


def test_isolation_first(aml, aml_workspace):
    Experiment(aml_workspace, "shared-name").start_logging(snapshot_directory=None).complete()
    assert len(aml.runs()) == 1


def test_isolation_second(aml, aml_workspace):
    assert aml.runs() == []
    assert list(Experiment(aml_workspace, "shared-name").get_runs()) == []
'''


def test_downstream_project_uses_only_the_fixtures(pytester):
    pytester.makepyfile(test_downstream=DOWNSTREAM_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=4)


def test_downstream_project_under_xdist(pytester):
    pytester.makepyfile(test_downstream=DOWNSTREAM_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-n", "2")
    result.assert_outcomes(passed=4)


def test_plugin_is_registered_through_its_entry_point(pytester):
    pytester.makepyfile(test_fixtures="def test_listed(aml): assert aml.active\n")
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*aml -- *", "*aml_workspace -- *", "*aml_experiment -- *", "*aml_run_context -- *"])
