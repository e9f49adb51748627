"""Line charts as inline SVG, drawn on the server (no script, nothing fetched)."""

from __future__ import annotations

from html import escape
from typing import Sequence

WIDTH, HEIGHT, MARGIN = 480, 200, 40
MAX_POINTS = 2000  # longer series are thinned evenly: a chart this wide shows no more


def line_chart(title: str, ys: Sequence[float], xs: Sequence[float] | None = None) -> str:
    """An SVG line chart of ``ys`` over ``xs`` (the index when None), with min/max labels on both axes."""
    xs = list(xs) if xs is not None else list(range(len(ys)))
    points = list(zip(xs, ys))
    if len(points) > MAX_POINTS:
        stride = len(points) / MAX_POINTS
        points = [points[int(i * stride)] for i in range(MAX_POINTS)] + [points[-1]]
    x_low, x_high = _bounds([p[0] for p in points])
    y_low, y_high = _bounds([p[1] for p in points])

    def place(x: float, y: float) -> str:
        px = MARGIN + (x - x_low) / (x_high - x_low) * (WIDTH - 2 * MARGIN)
        py = HEIGHT - MARGIN - (y - y_low) / (y_high - y_low) * (HEIGHT - 2 * MARGIN)
        return f"{px:.1f},{py:.1f}"

    path = " ".join(place(x, y) for x, y in points)
    bottom, right = HEIGHT - MARGIN, WIDTH - MARGIN
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{WIDTH - 2 * MARGIN}" height="{HEIGHT - 2 * MARGIN}" class="plot"/>'
        f'<polyline points="{path}" class="line"/>'
        f'<text x="{MARGIN - 4}" y="{bottom}" class="tick" text-anchor="end">{_label(y_low)}</text>'
        f'<text x="{MARGIN - 4}" y="{MARGIN + 8}" class="tick" text-anchor="end">{_label(y_high)}</text>'
        f'<text x="{MARGIN}" y="{bottom + 14}" class="tick">{_label(x_low)}</text>'
        f'<text x="{right}" y="{bottom + 14}" class="tick" text-anchor="end">{_label(x_high)}</text>'
        f'<text x="{WIDTH / 2}" y="{MARGIN - 12}" class="name" text-anchor="middle">{escape(title)}</text>'
        "</svg>"
    )


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    return (low - 0.5, high + 0.5) if low == high else (low, high)


def _label(value: float) -> str:
    return f"{value:.4g}"
