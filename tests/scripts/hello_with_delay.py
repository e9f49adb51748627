"""The seed's hello_with_delay.py: logs, prints, sleeps."""
import time

from azureml.core import Run

run = Run.get_context()
print("Hello. Start of script.", flush=True)
for step in range(3):
    print("step", step, flush=True)
    run.log("step", step)
    time.sleep(0.2)
time.sleep(float(__import__("os").environ.get("EXTRA_SLEEP", "0")))
run.log("last words", 1)
print("Goodbye. End of script.")
