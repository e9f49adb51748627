"""``amlmock demo``: the seed walkthrough ("start, monitor and cancel training runs") against the fake."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator


HELLO_WITH_DELAY = """\
import time
print("Hello. Start of script.")
time.sleep(30)
print("Goodbye. End of script.")
"""

HELLO_WITH_CHILDREN = """\
from azureml.core import Run

run = Run.get_context()
print("Hello from the parent run", run.id)
for c, count in enumerate(range(5)):
    with run.child_run() as child:
        child.log(name="Hello from child run", value=c)
        print("child", c, "logged")
"""


def _write_scripts(directory: str) -> None:
    for name, text in (("hello_with_delay.py", HELLO_WITH_DELAY), ("hello_with_children.py", HELLO_WITH_CHILDREN)):
        with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
            handle.write(text)


@contextmanager
def _inside(directory: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


class _Steps:
    """Prints each step of the walkthrough as code, then its result."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.count = 0

    def section(self, title: str) -> None:
        if self.verbose:
            print(f"\n## {title}")

    def __call__(self, code: str, action: Callable[[], Any]) -> Any:
        self.count += 1
        result = action()
        if self.verbose:
            print(f">>> {code}")
            if result is not None:
                print(result)
        return result


def run_demo(verbose: bool = True) -> int:
    """Run the walkthrough through the real SDK; returns the process exit code."""
    started = time.perf_counter()
    from azureml.core import Experiment, Workspace

    from .mock import mock_aml

    with tempfile.TemporaryDirectory(prefix="amlmock-demo-") as directory, _inside(directory), mock_aml() as aml:
        step = _Steps(verbose)
        aml.write_config(directory, name="myworkspace", resource_group="myresourcegroup")
        step.section("Start a run and its logging process")
        ws = step("ws = Workspace.from_config()", Workspace.from_config)
        exp = step('exp = Experiment(workspace=ws, name="explore-runs")', lambda: Experiment(workspace=ws, name="explore-runs"))
        _start_and_monitor(step, exp)
        _write_scripts(directory)
        local_script_run, failing = _cancel_or_fail(step, exp)
        _child_runs(step, exp, verbose)
        _tag_and_find(step, exp, local_script_run)
        step.section("What the fake recorded (read through the amlmock handle)")
        step("[(r.run_id, r.status) for r in aml.runs()]", lambda: [(r.run_id[:20], r.status) for r in aml.runs()])
        step("aml.run(failing.id).status_history  # events after fail() are kept but ignored",
             lambda: _history_after_the_driver_started(aml, failing.id))
        total = len(aml.runs())
    print(f"\namlmock demo: {step.count} steps, {total} runs recorded, {time.perf_counter() - started:.1f} s")
    return 0


def _history_after_the_driver_started(aml: Any, run_id: str, seconds: float = 10.0) -> list[tuple[str, str, bool]]:
    """The run's status events once its script's driver has posted its Start (it may come after fail())."""
    deadline = time.monotonic() + seconds
    while True:
        history = [(e.name.rsplit(".", 1)[1], e.status_after, e.applied) for e in aml.run(run_id).status_history]
        if any(name == "Start" for name, _, _ in history) or time.monotonic() > deadline:
            return history
        time.sleep(0.05)


def _start_and_monitor(step: _Steps, exp: Any) -> None:
    """Log to a notebook run, watch its status, and end one with a ``with`` block."""
    run = step("notebook_run = exp.start_logging()", exp.start_logging)
    step('notebook_run.log(name="message", value="Hello from run!")', lambda: run.log(name="message", value="Hello from run!"))

    step.section("Monitor the status of a run")
    step("print(notebook_run.get_status())", run.get_status)
    step("print(notebook_run.get_details())", run.get_details)
    step("notebook_run.complete(); print(notebook_run.get_status())", lambda: (run.complete(), run.get_status())[1])

    def with_block() -> str:
        with exp.start_logging() as notebook_run:
            notebook_run.log(name="message", value="Hello from run!")
            inside = notebook_run.get_status()
        return f"inside the block: {inside}; after it: {notebook_run.get_status()}"

    step("with exp.start_logging() as notebook_run: ...", with_block)


def _cancel_or_fail(step: _Steps, exp: Any) -> tuple[Any, Any]:
    """Submit the script with a delay twice: cancel one run, fail the other; returns both."""
    from azureml.core import ScriptRunConfig

    step.section("Cancel or fail runs")
    run_config = ScriptRunConfig(source_directory=".", script="hello_with_delay.py")
    local_script_run = step("local_script_run = exp.submit(run_config)", lambda: exp.submit(run_config))
    step("print(local_script_run.get_status())", local_script_run.get_status)
    step("local_script_run.cancel(); print(local_script_run.get_status())",
         lambda: (local_script_run.cancel(), local_script_run.get_status())[1])
    failing = exp.submit(run_config)
    step("local_script_run = exp.submit(run_config); local_script_run.fail(); print(local_script_run.get_status())",
         lambda: (failing.fail(), failing.get_status())[1])
    return local_script_run, failing


def _child_runs(step: _Steps, exp: Any, verbose: bool) -> None:
    """Child runs made by a submitted script, then by a notebook run."""
    from azureml.core import ScriptRunConfig

    step.section("Create child runs")
    children_config = ScriptRunConfig(source_directory=".", script="hello_with_children.py")
    with_children = step("local_script_run = exp.submit(ScriptRunConfig(..., script='hello_with_children.py'))",
                         lambda: exp.submit(children_config))
    step("local_script_run.wait_for_completion(show_output=True)",
         lambda: with_children.wait_for_completion(show_output=verbose)["status"])
    step("print(local_script_run.get_children())", lambda: [(c.id, c.get_status()) for c in with_children.get_children()])

    def children() -> list[Any]:
        with exp.start_logging() as parent_run:
            for c, _ in enumerate(range(5)):
                with parent_run.child_run() as child:
                    child.log(name="Hello from child run", value=c)
        return [(c.id, c.get_status()) for c in parent_run.get_children()]

    step("with exp.start_logging() as parent_run: ... 5 x parent_run.child_run()", children)


def _tag_and_find(step: _Steps, exp: Any, tagged: Any) -> None:
    """Properties (immutable) and tags (overwritable) on ``tagged``, then the runs found by them."""
    step.section("Tag and find runs")
    step('run.add_properties({"author": "azureml-user"}); run.get_properties()',
         lambda: (tagged.add_properties({"author": "azureml-user"}), tagged.get_properties())[1])

    def overwrite_property() -> str:
        try:
            tagged.add_properties({"author": "different-user"})
        except Exception as error:  # the seed prints the service's error
            return str(error).splitlines()[2].strip()
        return "no error (unexpected)"

    step('run.add_properties({"author": "different-user"})  # properties are immutable', overwrite_property)
    step('run.tag("quality", "great run"); run.get_tags()', lambda: (tagged.tag("quality", "great run"), tagged.get_tags())[1])
    step('run.tag("quality", "fantastic run"); run.get_tags()', lambda: (tagged.tag("quality", "fantastic run"), tagged.get_tags())[1])
    step('run.tag("worth another look"); run.get_tags()', lambda: (tagged.tag("worth another look"), tagged.get_tags())[1])
    step('list(exp.get_runs(properties={"author":"azureml-user"}, tags={"quality":"fantastic run"}))',
         lambda: [r.id for r in exp.get_runs(properties={"author": "azureml-user"}, tags={"quality": "fantastic run"})])
    step('list(exp.get_runs(properties={"author":"azureml-user"}, tags="worth another look"))',
         lambda: [r.id for r in exp.get_runs(properties={"author": "azureml-user"}, tags="worth another look")])
