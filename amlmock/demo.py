"""``amlmock demo``: the seed walkthrough ("start, monitor and cancel training runs") against the fake."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator


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

        step.section("Cancel or fail runs")
        cancelled = exp.start_logging()
        step("run.cancel(); print(run.get_status())", lambda: (cancelled.cancel(), cancelled.get_status())[1])
        failed = exp.start_logging()
        step("run.fail(); print(run.get_status())", lambda: (failed.fail(), failed.get_status())[1])

        step.section("Create child runs")

        def children() -> list[Any]:
            with exp.start_logging() as parent_run:
                for c, _ in enumerate(range(5)):
                    with parent_run.child_run() as child:
                        child.log(name="Hello from child run", value=c)
            return [(c.id, c.get_status()) for c in parent_run.get_children()]

        step("with exp.start_logging() as parent_run: ... 5 x parent_run.child_run()", children)

        step.section("Tag and find runs")
        tagged = exp.start_logging()
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
        tagged.complete()
        step('list(exp.get_runs(properties={"author":"azureml-user"}, tags={"quality":"fantastic run"}))',
             lambda: [r.id for r in exp.get_runs(properties={"author": "azureml-user"}, tags={"quality": "fantastic run"})])
        step('list(exp.get_runs(properties={"author":"azureml-user"}, tags="worth another look"))',
             lambda: [r.id for r in exp.get_runs(properties={"author": "azureml-user"}, tags="worth another look")])

        step.section("What the fake recorded (read through the amlmock handle)")
        step("[(r.run_id, r.status) for r in aml.runs()]", lambda: len(aml.runs()))
        step("aml.run(failed.id).status_history", lambda: [(e.name.rsplit(".", 1)[1], e.status_after, e.applied) for e in aml.run(failed.id).status_history])
        total = len(aml.runs())
    print(f"\namlmock demo: {step.count} steps, {total} runs recorded, {time.perf_counter() - started:.1f} s")
    return 0
