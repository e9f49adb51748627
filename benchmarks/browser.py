"""Benchmark 7: the run browser's first page of an experiment of 10k runs, rendered on the server side.

Runs (each with 5 tags and 2 properties; one in ten a child) are seeded straight into the backend; each sample is one
GET of the run list through the WSGI app (routing, the browser token's check, the query, the HTML), no socket.
"""

from __future__ import annotations

import uuid

from werkzeug.test import Client

from amlmock.api import create_app
from amlmock.backend.service import Backend
from amlmock.backend.values import RunFields
from amlmock.web.access import browser_url, new_token

from .measure import Figure, Settings, alternate, median_cpu, median_wall, timed

NAME = "7 browser"
EXPERIMENT = "browser-scaling"
GOAL_SECONDS = 0.200


def seeded_client(runs: int) -> tuple[Client, str]:
    """A client of an app whose experiment holds ``runs`` runs, and the run list's URL with the browser token."""
    backend = Backend()
    workspace = backend.create_workspace("sub", "rg", "ws")
    experiment = backend.create_experiment(workspace, EXPERIMENT)
    parents: list[str] = []
    batch = []
    for index in range(runs):
        run_id = str(uuid.uuid4())
        parent = parents[-1] if index % 10 == 9 and parents else None
        if parent is None:
            parents.append(run_id)
        fields = RunFields(
            tags={f"tag{k}": f"value-{index % (k + 7)}" for k in range(5)},
            properties={"bucket": str(index % 100), "cohort": str(index // 1000)},
            parent_run_id=parent,
        )
        batch.append((run_id, fields))
    backend.create_runs(workspace, experiment, batch)
    app = create_app(backend)
    app.browser_token = new_token()
    url = browser_url(f"/browse/sub/rg/ws/experiments/{EXPERIMENT}", app.browser_token).replace("/?", "?")
    return Client(app), url


def run(settings: Settings) -> list[Figure]:
    """The median wall time of the first page, and of the first page filtered by a tag."""
    runs = settings.pick(10_000, 200)
    client, url = seeded_client(runs)

    def first_page(query: str = "") -> None:
        reply = client.get(url + query)
        assert reply.status_code == 200 and b'class="run"' in reply.data, reply.status_code

    samples = alternate(
        {"first": lambda: timed(first_page), "tag": lambda: timed(lambda: first_page("&tag=tag0%3Dvalue-3"))},
        settings,
    )
    return [
        Figure(NAME, f"run list, first page of {runs:,} runs", median_wall(samples["first"]), "s", GOAL_SECONDS,
               {"cpu": median_cpu(samples["first"])}),
        Figure(NAME, f"run list filtered by a tag, {runs:,} runs", median_wall(samples["tag"]), "s", GOAL_SECONDS,
               {"cpu": median_cpu(samples["tag"])}),
    ]

