"""Logs through MLflow only, with no set-up: it lands in the submitted run."""

import mlflow

mlflow.log_metric("loss", 0.5)
mlflow.log_metric("loss", 0.25, step=1)
mlflow.log_param("lr", "0.01")
mlflow.set_tag("stage", "train")
with open("outputs_note.txt", "w") as handle:
    handle.write("from mlflow")
mlflow.log_artifact("outputs_note.txt")
mlflow.end_run()
print("mlflow done")
