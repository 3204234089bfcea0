"""Small inline SVG charts, drawn here so the report needs no library, script or network.

Each function takes labels and counts and returns one `<svg>` element as text; every label is
escaped. Colours come from one fixed palette so a flag keeps its colour across charts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

Format = Callable[[float], str]


def _plain(value: float) -> str:
    return f"{value:g}"

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf",
)
FONT = 'font-family="sans-serif" font-size="11"'
SMALL_FONT = 'font-family="sans-serif" font-size="9"'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def legend(series: Sequence[str], x: float, y: float, first_colour: int = 0) -> str:
    items = []
    for i, name in enumerate(series):
        yy = y + i * 16
        colour = PALETTE[(first_colour + i) % len(PALETTE)]
        items.append(f'<rect x="{x}" y="{yy}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{yy + 9}" {FONT}>{escape(name)}</text>')
    return "".join(items)


def stacked_bars(labels: Sequence[str], series: Sequence[str], values: Sequence[Sequence[int]],
                 title: str, width: int = 820, fmt: Format = _plain) -> str:
    """Horizontal bars, one per label, split into series (values[label][series]); `fmt` writes the
    numbers. The legend goes below the bars, in two columns, so long Indonesian names fit."""
    left, right, bar, gap = 200, 60, 14, 6
    axis_y = 30 + len(labels) * (bar + gap)
    legend_rows = (len(series) + 1) // 2
    full = axis_y + 30 + legend_rows * 16
    totals = [sum(v) for v in values]
    scale_max = _nice_max(max(totals, default=0))
    plot = width - left - right
    parts = [f'<svg width="{width}" height="{full}" viewBox="0 0 {width} {full}" '
             f'role="img" aria-label="{escape(title)}">',
             f'<text x="4" y="16" {FONT} font-weight="bold">{escape(title)}</text>']
    for i, (label, row) in enumerate(zip(labels, values, strict=True)):
        y = 30 + i * (bar + gap)
        parts.append(f'<text x="{left - 6}" y="{y + bar - 3}" {FONT} text-anchor="end">{escape(label)}</text>')
        x = float(left)
        for j, v in enumerate(row):
            w = plot * v / scale_max
            if v:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                             f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(series[j])}: {fmt(v)}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar - 3}" {FONT}>{fmt(sum(row))}</text>')
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot}" y2="{axis_y}" stroke="#999"/>')
    parts.append(f'<text x="{left + plot}" y="{axis_y + 14}" {FONT} text-anchor="end">{fmt(scale_max)}</text>')
    half = (width - 8) / 2
    parts.append(legend(series[:legend_rows], 8, axis_y + 24))
    parts.append(legend(series[legend_rows:], 8 + half, axis_y + 24, first_colour=legend_rows))
    parts.append("</svg>")
    return "".join(parts)


def grouped_columns(groups: Sequence[str], series: Sequence[str], values: Sequence[Sequence[int]],
                    title: str, width: int = 820, height: int = 300, fmt: Format = _plain) -> str:
    """Vertical columns: for each group, one column per series (values[group][series])."""
    left, bottom, top, right = 50, 40, 30, 230
    plot_w, plot_h = width - left - right, height - top - bottom
    scale_max = _nice_max(max((v for row in values for v in row), default=0))
    slot = plot_w / max(len(groups), 1)
    col = max(min(slot * 0.8 / max(len(series), 1), 40), 2)
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="4" y="16" {FONT} font-weight="bold">{escape(title)}</text>']
    for k in range(5):
        value = scale_max * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" {FONT} text-anchor="end">{fmt(value)}</text>')
    for i, (group, row) in enumerate(zip(groups, values, strict=True)):
        x0 = left + i * slot + (slot - col * len(series)) / 2
        for j, v in enumerate(row):
            h = plot_h * v / scale_max
            x, y = x0 + j * col, top + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{col - 1:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(group)}, {escape(series[j])}: {fmt(v)}'
                         f'</title></rect>')
            if v:
                parts.append(f'<text x="{x + col / 2:.1f}" y="{y - 2:.1f}" {SMALL_FONT} '
                             f'text-anchor="middle">{fmt(v)}</text>')
        parts.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 14}" {FONT} '
                     f'text-anchor="middle">{escape(group)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>')
    if len(series) > 1:
        parts.append(legend(series, left + plot_w + 20, top))
    parts.append("</svg>")
    return "".join(parts)


def lines(x_labels: Sequence[str], series: Sequence[str], values: Sequence[Sequence[float | None]],
          title: str, fmt: Format = _plain, width: int = 820, height: int = 240,
          low: float = 0.0, high: float = 1.0) -> str:
    """One line per series over x (values[series][x]); None leaves a gap. The y axis runs low..high."""
    left, bottom, top, right = 60, 40, 30, 250
    plot_w, plot_h = width - left - right, height - top - bottom
    span = (high - low) or 1.0
    step = plot_w / max(len(x_labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - plot_h * (v - low) / span

    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="4" y="16" {FONT} font-weight="bold">{escape(title)}</text>']
    for k in range(5):
        value = low + span * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" {FONT} text-anchor="end">{escape(fmt(value))}</text>')
    for i, label in enumerate(x_labels):
        parts.append(f'<text x="{left + i * step:.1f}" y="{top + plot_h + 14}" {SMALL_FONT} '
                     f'text-anchor="middle">{escape(label)}</text>')
    for j, row in enumerate(values):
        colour = PALETTE[j % len(PALETTE)]
        points = [(i, v) for i, v in enumerate(row) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in points:
            x, y = xy(i, v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(series[j])}, {escape(x_labels[i])}: {escape(fmt(v))}</title></circle>')
    parts.append(legend(series, left + plot_w + 20, top))
    parts.append("</svg>")
    return "".join(parts)
