"""Charts drawn on the server as SVG: no chart library, no script, nothing from another origin.

Amounts arrive as Decimal; converting them to float here only places pixels, it never feeds a figure
that is stored or shown as money (labels are formatted from the Decimals themselves).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup, escape

Number = Decimal | int | float


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number | None]
    css_class: str = "series-1"


@dataclass(frozen=True)
class Band:
    """A shaded range between two lines (e.g. the 5th to 95th percentile of a projection)."""

    label: str
    low: Sequence[Number]
    high: Sequence[Number]
    css_class: str = "band-1"


@dataclass(frozen=True)
class Chart:
    title: str
    x_labels: Sequence[str]
    series: Sequence[Series] = ()
    bands: Sequence[Band] = ()
    y_format: Callable[[Decimal], str] = lambda v: f"{v:,.0f}"
    width: int = 640
    height: int = 260
    bars: bool = False
    notes: Sequence[str] = field(default_factory=tuple)


_LEFT, _RIGHT, _TOP, _BOTTOM = 72, 12, 28, 40
_FONT = 13  # px in the chart's own units (app.css sets the same): about 11 px on a phone, more on a desk
_CHAR = 0.6 * _FONT  # an average character's width, to keep labels apart


def x_label_indices(labels: Sequence[str], plot_width: float) -> list[int]:
    """Which x labels to print so none overlap: evenly spaced, the last one always, and the regular one
    just before the last dropped when the two would touch."""
    n = len(labels)
    if n == 0:
        return []
    widest = max(len(label) for label in labels) * _CHAR + _FONT
    every = max(1, -(-int(widest * n) // max(int(plot_width), 1)))
    chosen = list(range(0, n, every))
    if chosen[-1] != n - 1:
        if (n - 1 - chosen[-1]) * plot_width / n < widest:
            chosen.pop()
        chosen.append(n - 1)
    return chosen


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _legend_positions(labels: Sequence[str], width: int) -> list[tuple[int, int]]:
    """(x, row) of each legend entry: as many to a row as fit, the rest on the next rows."""
    positions, x, row = [], _LEFT, 0
    for label in labels:
        size = 24 + int(_CHAR * len(label))
        if x > _LEFT and x + size > width - _RIGHT:
            x, row = _LEFT, row + 1
        positions.append((x, row))
        x += size
    return positions


def render(chart: Chart) -> Markup:
    """The chart as an accessible inline SVG (role img, title, and a text summary per series)."""
    values = [float(v) for s in chart.series for v in s.values if v is not None]
    values += [float(v) for b in chart.bands for v in (*b.low, *b.high)]
    low = min([0.0, *values])
    high = _nice_ceiling(max([1.0, *values]))
    n = max(len(chart.x_labels), 1)
    plot_w = chart.width - _LEFT - _RIGHT
    legend = _legend_positions([item.label for item in [*chart.bands, *chart.series]], chart.width)
    plot_top = _TOP + 18 * (max((row for _, row in legend), default=0))
    plot_h = chart.height - plot_top - _BOTTOM

    def x_at(i: int) -> float:
        return _LEFT + (plot_w * (i + 0.5) / n if chart.bars else (plot_w * i / max(n - 1, 1)))

    def y_at(v: float) -> float:
        return plot_top + plot_h * (1 - (v - low) / ((high - low) or 1))

    parts = [
        f'<svg class="chart" viewBox="0 0 {chart.width} {chart.height}" role="img" '
        f'aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(chart.title)}</title>",
    ]
    for k in range(5):
        v = low + (high - low) * k / 4
        y = y_at(v)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{chart.width - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        label = chart.y_format(Decimal(str(round(v, 2))))
        parts.append(
            f'<text class="axis" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    for i in x_label_indices(chart.x_labels, plot_w):
        label = chart.x_labels[i]
        half = len(label) * _CHAR / 2
        # A label that would run past either edge is anchored to that edge so it shows whole.
        x, anchor = x_at(i), "middle"
        if x + half > chart.width - 2:
            x, anchor = chart.width - 2.0, "end"
        elif x - half < 2:
            x, anchor = 2.0, "start"
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{chart.height - _BOTTOM + 18}" '
            f'text-anchor="{anchor}">{escape(label)}</text>'
        )
    for band in chart.bands:
        upper = " ".join(f"{x_at(i):.1f},{y_at(float(v)):.1f}" for i, v in enumerate(band.high))
        lower = " ".join(
            f"{x_at(i):.1f},{y_at(float(v)):.1f}" for i, v in reversed(list(enumerate(band.low)))
        )
        parts.append(f'<polygon class="{escape(band.css_class)}" points="{upper} {lower}"/>')
    for s_index, series in enumerate(chart.series):
        if chart.bars:
            width = plot_w / n / (len(chart.series) + 0.5)
            for i, v in enumerate(series.values):
                if v is None:
                    continue
                x = x_at(i) - width * len(chart.series) / 2 + width * s_index
                top, base = y_at(max(float(v), 0.0)), y_at(min(float(v), 0.0))
                parts.append(
                    f'<rect class="{escape(series.css_class)}" x="{x:.1f}" y="{top:.1f}" '
                    f'width="{width:.1f}" height="{max(base - top, 0.5):.1f}"/>'
                )
        else:
            points = " ".join(
                f"{x_at(i):.1f},{y_at(float(v)):.1f}" for i, v in enumerate(series.values) if v is not None
            )
            parts.append(f'<polyline class="{escape(series.css_class)}" fill="none" points="{points}"/>')
    for item, (legend_x, row) in zip([*chart.bands, *chart.series], legend, strict=True):
        parts.append(
            f'<rect class="{escape(item.css_class)}" x="{legend_x}" y="{8 + 18 * row}" width="12" height="12"/>'
            f'<text class="legend" x="{legend_x + 16}" y="{19 + 18 * row}">{escape(item.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
