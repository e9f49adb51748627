"""Uploads one file per name in names.json (each holding the bytes of its name) from a submitted run."""

import json
import os

from azureml.core import Run

run = Run.get_context()
names = json.load(open("names.json", encoding="utf-8"))
for index, name in enumerate(names):
    local = f"payload_{index}.bin"
    with open(local, "wb") as handle:
        handle.write(name.encode("utf-8") + bytes(range(256)))
    run.upload_file(name, local)
os.makedirs("outputs/nested folder", exist_ok=True)
with open("outputs/nested folder/report (final).txt", "wb") as handle:
    handle.write(b"written to ./outputs")
