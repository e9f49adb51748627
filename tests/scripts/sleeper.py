"""Runs for a long time unless stopped; writes its pid first."""
import os
import time

from azureml.core import Run

run = Run.get_context()
with open(os.environ["PID_FILE"], "w") as handle:
    handle.write(str(os.getpid()))
run.log("before cancel", 1)
print("sleeping", flush=True)
time.sleep(120)
