"""Child runs: created one by one or in a batch, listed, filtered and walked recursively."""

from __future__ import annotations

from azureml.core import Run


def test_child_runs_complete_at_the_end_of_their_block(aml, aml_experiment):
    with aml_experiment.start_logging(snapshot_directory=None) as parent:
        for count in range(5):
            with parent.child_run() as child:
                child.log(name="Hello from child run", value=count)
        assert aml.run(child.id).status == "Completed"
    children = list(parent.get_children())
    assert len(children) == 5
    assert {c.get_status() for c in children} == {"Completed"}
    assert {aml.run(c.id).parent_run_id for c in children} == {parent.id}
    assert sorted(c.get_metrics()["Hello from child run"] for c in children) == [0, 1, 2, 3, 4]


def test_child_knows_its_parent_and_root(aml, aml_experiment):
    parent = aml_experiment.start_logging(snapshot_directory=None)
    child = parent.child_run(name="stage")
    grandchild = child.child_run()
    assert Run(aml_experiment, grandchild.id).parent.id == child.id
    assert child.parent.id == parent.id
    assert parent.parent is None
    assert aml.run(grandchild.id).root_run_id == parent.id
    assert aml.run(child.id).children == [grandchild.id]
    for run in (grandchild, child, parent):
        run.complete()


def test_create_children_in_one_batch(aml, aml_experiment):
    parent = aml_experiment.start_logging(snapshot_directory=None)
    children = parent.create_children(count=5)
    assert len(children) == 5
    assert {aml.run(c.id).status for c in children} == {"Running"}
    assert sorted(aml.run(c.id).tags["azureml.batch_child_number"] for c in children) == ["0", "1", "2", "3", "4"]
    tagged = parent.create_children(tag_key="lr", tag_values=["0.1", "0.01"])
    assert sorted(c.get_tags()["lr"] for c in tagged) == ["0.01", "0.1"]
    for child in children + tagged:
        child.complete()
    parent.complete()
    assert len(list(parent.get_children())) == 7


def test_get_children_recursive_includes_grandchildren(aml_experiment):
    with aml_experiment.start_logging(snapshot_directory=None) as parent:
        with parent.child_run() as child:
            with child.child_run() as grandchild:
                grandchild.tag("depth", "2")
    direct = [c.id for c in parent.get_children()]
    everything = {c.id for c in parent.get_children(recursive=True)}
    assert direct == [child.id]
    assert everything == {child.id, grandchild.id}
    assert [c.id for c in parent.get_children(recursive=True, tags={"depth": "2"})] == [grandchild.id]
    assert {c.id for c in child.get_children(recursive=True)} == {grandchild.id}


def test_get_children_filters(aml_experiment):
    parent = aml_experiment.start_logging(snapshot_directory=None)
    done = parent.child_run()
    done.tag("kind", "good")
    done.add_properties({"stage": "train"})
    done.complete()
    failed = parent.child_run()
    failed.fail()
    assert [c.id for c in parent.get_children(tags={"kind": "good"})] == [done.id]
    assert [c.id for c in parent.get_children(properties={"stage": "train"})] == [done.id]
    assert [c.id for c in parent.get_children(status="Failed")] == [failed.id]
    assert [c.id for c in parent.get_children(recursive=True, status="Completed")] == [done.id]
    parent.complete()


def test_parent_status_is_independent_of_its_children(aml, aml_experiment):
    with aml_experiment.start_logging(snapshot_directory=None) as parent:
        child = parent.child_run()
        child.fail()
    assert aml.run(parent.id).status == "Completed"
    assert aml.run(child.id).status == "Failed"
