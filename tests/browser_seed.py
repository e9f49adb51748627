"""A workspace with something to look at, seeded through the real SDK (the run browser's tests and docs use it)."""

from __future__ import annotations

import shutil
from pathlib import Path

from azureml.core import Experiment, ScriptRunConfig

SCRIPTS = Path(__file__).parent / "scripts"


def seed_workspace(workspace, source: Path) -> dict[str, str]:
    """Runs with tags, a parent with children, every kind of metric, and a submitted run with a driver log.

    Returns the ids: ``parent``, ``children`` (comma-separated), ``plain``, ``submitted``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    experiment = Experiment(workspace, "browser-demo")
    parent = experiment.start_logging(snapshot_directory=None, display_name="train-resnet")
    parent.set_tags({"model": "resnet", "team": "vision"})
    parent.add_properties({"dataset": "cifar10"})
    parent.log("learning_rate", 0.01)
    parent.log_list("loss", [1.0 / (1 + step) + 0.05 * (step % 3) for step in range(40)])
    parent.log_table("per_class", {"class": ["cat", "dog", "bird"], "precision": [0.91, 0.88, 0.79]})
    parent.log_row("epochs", epoch=1, accuracy=0.71)
    parent.log_row("epochs", epoch=2, accuracy=0.83)
    figure = pyplot.figure(figsize=(3, 2))
    pyplot.plot([0, 1, 2], [2, 1, 3])
    parent.log_image("predictions", plot=figure)
    parent.upload_file("outputs/notes.txt", _file(source, "notes.txt", "trained for 40 steps\n"))
    children = [parent.child_run() for _ in range(3)]
    for i, child in enumerate(children):
        child.display_name = f"fold-{i}"
        child.log("accuracy", 0.8 + i / 100)
        child.complete()
    parent.complete()
    plain = experiment.start_logging(snapshot_directory=None)
    plain.tag("model", "linear")
    plain.fail(error_details="diverged")
    project = source / "project"
    shutil.copytree(SCRIPTS, project, dirs_exist_ok=True)
    submitted = experiment.submit(ScriptRunConfig(source_directory=str(project), script="hello_with_children.py"))
    submitted.wait_for_completion()
    return {
        "parent": parent.id,
        "children": ",".join(c.id for c in children),
        "plain": plain.id,
        "submitted": submitted.id,
    }


def _file(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)
