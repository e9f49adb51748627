"""A run's metrics as Studio shows them: scalars as values, series as line charts, tables, images."""

from __future__ import annotations

from html import escape
from typing import Any

from ..backend.metric_series import MetricSeries
from ..backend.models import Run, Workspace
from ..backend.service import Backend
from .charts import line_chart
from .layout import cell, table
from .links import Links

IMAGE_TYPES = ("azureml.v1.image", "azureml.v2.image")  # the SDK's old and new image metric types
ARTIFACT_URL = "aml://artifactId/"
MAX_TABLE_ROWS = 500


def metrics_section(backend: Backend, links: Links, workspace: Workspace, run: Run) -> str:
    """Scalars in one table, then a chart per numeric series, a table per table metric, each image."""
    scalars, charts, tables, images = [], [], [], []
    for name in backend.metric_names(run):
        series = backend.get_metric(run, name)
        rows = [value.data for value in series.read(0, None)]
        if series.ux_metric_type in IMAGE_TYPES:
            images.append(_images(links, workspace, run, name, rows))
        elif not _single_column(series, rows):
            tables.append(f"<h3>{escape(name)}</h3>" + _table(rows))
        elif len(rows) == 1 or not all(_is_number(row[name]) for row in rows):
            scalars.append((escape(name), ", ".join(cell(row[name]) for row in rows)))
        else:
            charts.append(line_chart(name, [float(row[name]) for row in rows]))
    if not (scalars or charts or tables or images):
        return "<h2>Metrics</h2><p>No metrics.</p>"
    parts = [table(("Metric", "Value"), scalars, "scalars")] if scalars else []
    if charts:
        parts.append(f'<div class="charts">{"".join(charts)}</div>')
    return "<h2>Metrics</h2>" + "".join(parts + tables + images)


def _single_column(series: MetricSeries, rows: list[dict[str, Any]]) -> bool:
    return all(len(row) == 1 and series.name in row and not isinstance(row[series.name], (dict, list)) for row in rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _table(rows: list[dict[str, Any]]) -> str:
    """Rows (or a table logged column-wise: one row of lists) as one HTML table."""
    if len(rows) == 1 and rows[0] and all(isinstance(v, list) for v in rows[0].values()):
        columns = rows[0]
        length = max(len(v) for v in columns.values())
        rows = [{k: v[i] if i < len(v) else None for k, v in columns.items()} for i in range(length)]
    headers = list(dict.fromkeys(key for row in rows for key in row))
    body = [[cell(row.get(h)) for h in headers] for row in rows[:MAX_TABLE_ROWS]]
    return table(headers, body, "metric-table")


def _images(links: Links, workspace: Workspace, run: Run, name: str, rows: list[dict[str, Any]]) -> str:
    """Each logged image of the run's own files; other URLs are shown as text."""
    own = f"{ARTIFACT_URL}ExperimentRun/{run.data_container_id}/"
    shown = []
    for row in rows:
        url = str(row.get("url") or next(iter(row.values()), ""))
        if url.startswith(own):
            src = links.file(workspace, run.run_id, url[len(own):])
            shown.append(f'<img class="metric" alt="{escape(name)}" src="{escape(src)}">')
        else:
            shown.append(f"<p>{escape(url)}</p>")
    return f"<h3>{escape(name)}</h3>" + "".join(shown)
