"""The seed's hello_with_children.py: child runs created from inside a submitted run."""
from azureml.core import Run

run = Run.get_context()
for c in range(5):
    with run.child_run() as child:
        child.log(name="Hello from child run", value=c)
batch = run.create_children(count=2)
for child in batch:
    child.log("batch", 1)
    child.complete()
run.log("children", len(list(run.get_children())))
print("made", len(list(run.get_children())), "children")
