"""Every kind of request body ``requests`` accepts reaches the fake whole, in-process (``responses``) and over loopback."""

from __future__ import annotations

import io
import json

import pytest
from azureml.core import Experiment

from tests.helpers import RH, raw, workspace_path

TAGS = {"kind": "body", "text": "naïve ✓"}
BODY = json.dumps({"runId": "body_run", "tags": TAGS}, ensure_ascii=False)


def _chunks(text: str) -> list[bytes]:
    data = text.encode("utf-8")
    return [data[i : i + 7] for i in range(0, len(data), 7)]


BODIES = {
    "bytes": lambda: BODY.encode("utf-8"),
    "text": lambda: BODY,
    "file": lambda: io.BytesIO(BODY.encode("utf-8")),
    "generator of bytes": lambda: (chunk for chunk in _chunks(BODY)),
    "generator of text": lambda: (part for part in (BODY[: len(BODY) // 2], BODY[len(BODY) // 2 :])),
}


@pytest.fixture(params=["responses", "loopback"])
def experiment_url(request, aml):
    """The history URL of an experiment "bodies", reached in-process or over loopback."""
    Experiment(aml.workspace(), "bodies")
    base = RH if request.param == "responses" else aml.server_url + "/history/v1.0"
    return f"{base}{workspace_path(aml)}/experiments/bodies"


@pytest.mark.parametrize("kind", list(BODIES))
def test_a_run_created_from_any_body_kind_keeps_every_byte(aml, experiment_url, kind):
    answer = raw("PATCH", f"{experiment_url}/runs/body_run", data=BODIES[kind](), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert aml.run("body_run").tags == TAGS


def test_no_body_is_an_empty_one(experiment_url):
    answer = raw("POST", f"{experiment_url}/runs:query")
    assert answer.status_code == 200, answer.text
    assert answer.json()["value"] == []
