"""Horizontal bar charts as inline SVG, drawn on the server (long labels such as employer names or
adverse-action reasons read better beside the bars than under them)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

ROW, LABEL_WIDTH, WIDTH, PAD = 26, 260, 640, 8


def horizontal_bars(
    title: str, items: Sequence[tuple[str, int | Decimal]], css_class: str = "series-1"
) -> Markup:
    """One bar per (label, value), longest first as given; values are written at the bar's end."""
    height = PAD * 2 + ROW * max(len(items), 1)
    top = max([1.0, *(float(value) for _label, value in items)])
    usable = WIDTH - LABEL_WIDTH - 60
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(items):
        y = PAD + index * ROW
        width = max(float(value) / top * usable, 1.0)
        short = label if len(label) <= 42 else label[:40] + "…"
        parts.append(
            f'<text class="axis" x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="{escape(css_class)}" x="{LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" height="{ROW - 8}"/>'
            f'<text class="legend" x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 16}">{escape(str(value))}</text>'
        )
    if not items:
        parts.append(f'<text class="axis" x="{LABEL_WIDTH}" y="{PAD + 16}">No data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
