"""The page shell and small HTML builders shared by every page (standard library only)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, Iterable, Mapping, Sequence

from ..backend.models import Run

STYLE = """
body{font-family:system-ui,Segoe UI,sans-serif;margin:0;color:#201f1e;background:#faf9f8}
header{background:#0078d4;color:#fff;padding:10px 20px;font-size:18px}
header a{color:#fff;text-decoration:none}
nav.crumbs{padding:8px 20px;font-size:14px;background:#f3f2f1}
main{padding:12px 20px}
h1{font-size:22px;margin:8px 0}
h2{font-size:17px;margin:18px 0 6px;border-bottom:1px solid #e1dfdd}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border:1px solid #e1dfdd;padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.runs td:last-child .label{white-space:normal;overflow-wrap:anywhere}
table.runs{width:100%}table.runs td:first-child{min-width:240px}table.runs td:nth-child(n+2):nth-child(-n+5){white-space:nowrap;overflow-wrap:normal}
th{background:#f3f2f1}
.status{white-space:nowrap;overflow-wrap:normal;padding:1px 6px;border-radius:8px;font-size:12px;background:#e1dfdd}
.status.Completed{background:#dff6dd}.status.Failed{background:#fde7e9}
.status.Running,.status.Starting,.status.Queued,.status.Preparing,.status.Finalizing{background:#deecf9}
.status.Canceled,.status.CancelRequested{background:#fff4ce}
.label{display:inline-block;white-space:nowrap;margin-bottom:2px;font-family:monospace;font-size:12px;background:#edebe9;padding:0 4px;margin-right:4px;border-radius:3px}
pre.log{background:#1e1e1e;color:#d4d4d4;padding:8px;max-height:420px;overflow:auto;font-size:12px}
svg.chart .plot{fill:#fff;stroke:#c8c6c4}svg.chart .line{fill:none;stroke:#0078d4;stroke-width:1.5}
svg.chart .tick{font-size:10px;fill:#605e5c}svg.chart .name{font-size:12px;fill:#201f1e}
.charts{display:flex;flex-wrap:wrap;gap:10px}
ul.tree{margin:2px 0;padding-left:18px}
form.filter input,form.filter select{margin-right:8px}
.placeholder{color:#605e5c;font-style:italic}
.error{color:#a4262c}
img.metric{max-width:420px;border:1px solid #e1dfdd}
"""


def page(title: str, crumbs: Sequence[tuple[str, str | None]], body: str, refresh: int | None = None) -> str:
    """A whole HTML page: header, breadcrumbs (text, link or None), ``body``; reloads every ``refresh`` s."""
    trail = " › ".join(link(text, href) if href else escape(text) for text, href in crumbs)
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{meta}<title>{escape(title)} · amlmock</title>'
        f"<style>{STYLE}</style></head><body><header>amlmock · run browser</header>"
        f'<nav class="crumbs">{trail}</nav><main><h1>{escape(title)}</h1>{body}</main></body></html>'
    )


def link(text: str, href: str, css: str | None = None) -> str:
    """An ``<a>``."""
    attribute = f' class="{css}"' if css else ""
    return f'<a href="{escape(href)}"{attribute}>{escape(text)}</a>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table of ``rows`` of already-escaped HTML cells."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def status(value: str) -> str:
    """A run status as a coloured badge."""
    return f'<span class="status {escape(value)}">{escape(value)}</span>'


def labels(values: Mapping[str, Any]) -> str:
    """Tags or properties as ``key=value`` chips."""
    return "".join(
        f'<span class="label">{escape(key)}{"" if value is None else "=" + escape(str(value))}</span>'
        for key, value in values.items()
    )


def when(value: datetime | None) -> str:
    """A time to the second, in UTC (empty when unset)."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def run_title(run: Run) -> str:
    """What Studio calls a run: its display name, else its id."""
    return run.display_name or run.run_id


def cell(value: Any) -> str:
    """Any metric cell as escaped text."""
    return escape("" if value is None else str(value))
