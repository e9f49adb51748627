"""A training script's last lines: save the model, upload it, register it, read it back by name."""
import os

from azureml.core import Model, Run

run = Run.get_context()
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as handle:
    handle.write(b"weights from the script")
run.upload_file(name="outputs/model.pkl", path_or_stream="outputs/model.pkl")
model = run.register_model(model_name="script-model", model_path="outputs/model.pkl", tags={"trained by": "script"})
path = Model.get_model_path("script-model")  # inside a run: downloaded from the registry
with open(path, "rb") as handle:
    run.tag("read back", handle.read().decode())
run.tag("registered", model.id)
