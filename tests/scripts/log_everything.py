"""Every logging call of ``Run``; run in-process by the tests and as a submitted script."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ACCURACY_TABLE = {
    "schema_type": "accuracy_table",
    "schema_version": "1.0.1",
    "data": {
        "probability_tables": [[[82, 118, 0, 0], [75, 31, 87, 7], [66, 9, 109, 16], [0, 0, 118, 82]]],
        "percentile_tables": [[[82, 118, 0, 0], [74, 26, 92, 8], [0, 0, 118, 82]]],
        "class_labels": ["0", "1"],
        "probability_thresholds": [0.0, 0.25, 0.5, 0.75],
        "percentile_thresholds": [0.0, 0.01, 0.99],
    },
}
CONFUSION_MATRIX = {
    "schema_type": "confusion_matrix",
    "schema_version": "1.0.0",
    "data": {"class_labels": ["0", "1", "2"], "matrix": [[3, 0, 1], [0, 4, 0], [1, 0, 5]]},
}
PREDICTIONS = {
    "schema_type": "predictions",
    "schema_version": "1.0.0",
    "data": {"bin_averages": [0.25, 0.75], "bin_errors": [0.013, 0.042], "bin_counts": [56, 34], "bin_edges": [0.0, 0.5, 1.0]},
}
RESIDUALS = {
    "schema_type": "residuals",
    "schema_version": "1.0.0",
    "data": {"bin_edges": [50, 100, 200, 300, 350], "bin_counts": [0.88, 20, 30, 50.99]},
}
ROW_COLUMNS = [f"c{i}" for i in range(15)]  # the service's maximum: 15 columns


def log_everything(run):
    """Log one of each kind, write ./outputs and ./logs files; returns nothing (the tests read it back)."""
    run.log("accuracy", 0.9, description="validation accuracy")
    run.log("accuracy", 0.95)
    run.log("epochs", 10)
    run.log("note", "a string")
    run.log_list("from a generator", (i * i for i in range(5)), description="squares")
    run.log_list("from a list", [0.5, 0.25])
    for row in range(3):
        run.log_row("wide rows", description="15 columns, 3 rows", **{c: row * 100 + i for i, c in enumerate(ROW_COLUMNS)})
    run.log_table("table", {"x": [1, 2, 3], "label": ["a", "b", "c"]}, description="a table")
    plt.figure()
    plt.plot([-2, -1, 0, 1, 2], [-0.96, -0.76, 0.0, 0.76, 0.96])
    run.log_image(name="Hyperbolic Tangent", plot=plt, description="from a plot")
    plt.savefig("curve.png")
    run.log_image("curve from a path", path="curve.png")
    run.log_accuracy_table("accuracy table", ACCURACY_TABLE)
    run.log_confusion_matrix("confusion matrix", CONFUSION_MATRIX)
    run.log_predictions("predictions", PREDICTIONS)
    run.log_residuals("residuals", RESIDUALS)
    with open("curve.png", "rb") as handle:
        png = handle.read()
    os.makedirs("outputs/models", exist_ok=True)
    with open("outputs/models/model.bin", "wb") as handle:
        handle.write(png[::-1])
    os.makedirs("logs", exist_ok=True)
    with open("logs/training log.txt", "w", encoding="utf-8") as handle:
        handle.write("epoch 1: ok\n")


if __name__ == "__main__":
    from azureml.core import Run

    log_everything(Run.get_context())
