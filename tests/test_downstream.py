"""The plugin as a downstream project uses it: user-style test files run by pytester, without this
project's conftest, beside pytest's own fixtures, in every fixture order, serially and under xdist."""

from __future__ import annotations

import itertools
import sys
import textwrap

import pytest

pytestmark = pytest.mark.aml_fake_only

ORDERS = [list(order) for order in itertools.permutations(["aml", "tmp_path", "monkeypatch"])] + [
    list(order) for order in itertools.permutations(["aml_experiment", "tmp_path", "capsys", "caplog"])
]

GUARD = '''
import logging, os, socket, sys, tempfile

import pytest

ORIGINAL_TEMP = tempfile.gettempdir()
_connect = socket.socket.connect


def _loopback_only(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        raise ConnectionRefusedError(f"left 127.0.0.1: {address!r}")
    return _connect(sock, address)


socket.socket.connect = _loopback_only


def process_state():
    root = logging.getLogger()
    return {
        "temp": (tempfile.tempdir, tempfile.gettempdir()),
        "cwd": os.getcwd(),
        "environ": {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},  # pytest's own, per phase
        "logging": (root.level, list(root.handlers), logging.getLogger("azureml").level),
        "path": list(sys.path),
    }


@pytest.fixture(autouse=True)
def process_state_is_restored():
    """Set up before, torn down after every plugin fixture: nothing the fake changed may remain."""
    before = process_state()
    yield
    after = process_state()
    changed = sorted(k for k in set(before["environ"]) | set(after["environ"]) if before["environ"].get(k) != after["environ"].get(k))
    assert not changed, f"environment variables changed: {changed}"
    assert after == before
    assert tempfile.gettempdir() == ORIGINAL_TEMP
'''


def fixture_test(index: int, order: list[str]) -> str:
    """A test taking ``order``'s fixtures in that order, and using each of them for real."""
    uses = []
    if "aml" in order:
        uses.append("workspace = aml.workspace()")
        uses.append("run = Experiment(workspace, 'order').start_logging(snapshot_directory=None)")
    if "aml_experiment" in order:
        uses.append("run = aml_experiment.start_logging(snapshot_directory=None)")
    uses.append("run.log('index', %d)" % index)
    uses.append("run.complete()")
    uses.append("assert run.get_metrics() == {'index': %d}" % index)
    if "tmp_path" in order:
        uses.append("(tmp_path / 'written.txt').write_text('kept')")
        uses.append("assert (tmp_path / 'written.txt').read_text() == 'kept'")
        uses.append("assert not str(tmp_path).startswith(tempfile.gettempdir() + '/amlmock-home-')")
    if "monkeypatch" in order:
        uses.append("monkeypatch.setenv('USER_SETTING', 'on')")
        uses.append("assert os.environ['USER_SETTING'] == 'on'")
    if "capsys" in order:
        uses.append("print('to stdout')")
        uses.append("assert capsys.readouterr().out.endswith('to stdout\\n')")
    if "caplog" in order:
        uses.append("logging.getLogger('user.code').warning('to the log')")
        uses.append("assert 'to the log' in caplog.text")
    body = "\n".join("    " + line for line in uses)
    return f"def test_order_{index}({', '.join(order)}):\n{body}\n"


@pytest.fixture
def user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project with only user-style test files (no conftest of amlmock's).

    Its pytest runs as a user's does: no ``--basetemp`` (pytester's ``runpytest_subprocess`` would
    add one) and no ``PYTEST_DEBUG_TEMPROOT`` (pytester sets it), so pytest derives its temporary
    folder from ``tempfile``, under a ``TMPDIR`` of its own.
    """
    monkeypatch.delenv("PYTEST_DEBUG_TEMPROOT", raising=False)
    monkeypatch.setenv("TMPDIR", str(pytester.mkdir("system-temp")))
    tests = "\n\n".join(fixture_test(i, order) for i, order in enumerate(ORDERS))
    pytester.makepyfile(
        test_fixture_orders=GUARD + "\nfrom azureml.core import Experiment\n\n\n" + tests,
        test_tmp_path_after_aml=GUARD
        + textwrap.dedent(
            '''
            def test_aml_first(aml, tmp_path):
                aml.workspace()


            def test_aml_first_again(aml, tmp_path):
                (tmp_path / "still.txt").write_text("here")


            def test_tmp_path_alone(tmp_path, tmp_path_factory):
                assert tmp_path.is_dir()
                assert tmp_path_factory.mktemp("later").is_dir()
            '''
        ),
        test_decorated=GUARD
        + textwrap.dedent(
            '''
            import unittest

            from azureml.core import Experiment

            import amlmock
            from amlmock import mock_aml


            @mock_aml
            def test_decorated_function(tmp_path):
                aml = amlmock.current_mock()
                Experiment(aml.workspace(), "decorated").start_logging(snapshot_directory=None).complete()
                assert [r.status for r in aml.runs()] == ["Completed"]


            @mock_aml()
            def test_decorated_starts_empty():
                assert amlmock.current_mock().runs() == []


            @mock_aml
            class TestWithSetUp(unittest.TestCase):
                def setUp(self):
                    self.aml = amlmock.current_mock()
                    assert self.aml is not None and self.aml.active
                    self.run = Experiment(self.aml.workspace(), "unit").start_logging(snapshot_directory=None)

                def tearDown(self):
                    self.run.complete()
                    assert self.aml.active
                    assert self.aml.run(self.run.id).status == "Completed"

                def test_logs(self):
                    self.run.log("loss", 0.5)
                    self.run.flush()  # the SDK sends metrics from a background queue
                    self.assertEqual(self.run.get_metrics(), {"loss": 0.5})

                def test_starts_with_its_own_run_only(self):
                    self.assertEqual([r.run_id for r in self.aml.runs()], [self.run.id])


            def test_no_mock_outside():
                assert amlmock.current_mock() is None
            '''
        ),
    )
    return pytester


def _passed(result: pytest.RunResult) -> int:
    return result.parseoutcomes().get("passed", 0)


def run_user_tests(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args, timeout=600)


EXPECTED = len(ORDERS) + 3 + 5


def test_user_tests_pass_serially(user_project):
    result = run_user_tests(user_project)
    assert result.ret == 0, result.stdout.str()
    assert _passed(result) == EXPECTED


def test_tmp_path_works_after_a_test_that_asked_for_aml_first(user_project):
    """The first test of the session takes ``aml`` before ``tmp_path``: later tests still get theirs."""
    result = run_user_tests(user_project, "test_tmp_path_after_aml.py")
    assert result.ret == 0, result.stdout.str()
    assert _passed(result) == 3


def test_user_tests_pass_in_reverse_order(user_project):
    """Files in the other order: the decorated and tmp_path tests run before the fixture-order tests."""
    files = ["test_tmp_path_after_aml.py", "test_decorated.py", "test_fixture_orders.py"]
    result = run_user_tests(user_project, *reversed(files))
    assert result.ret == 0, result.stdout.str()
    assert _passed(result) == EXPECTED


def test_user_tests_pass_under_xdist(user_project):
    result = run_user_tests(user_project, "-n", "2")
    assert result.ret == 0, result.stdout.str()
    assert _passed(result) == EXPECTED
