"""Echoes its arguments and an environment variable; writes an output file; tags its run."""
import os
import sys

from azureml.core import Run

run = Run.get_context()
run.tag("args", " ".join(sys.argv[1:]))
run.tag("env", os.environ.get("EXAMPLE_ENV_VAR", "missing"))
os.makedirs("outputs", exist_ok=True)
with open("outputs/result.txt", "w") as handle:
    handle.write("done")
print("args:", sys.argv[1:])
