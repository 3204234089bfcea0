"""Small inline SVG charts, drawn here so the report needs no library, script or network.

Each function takes labels and counts and returns one `<svg>` element as text; every label is
escaped. Colours come from one fixed palette so a flag keeps its colour across charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

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


def legend(series: Sequence[str], x: float, y: float) -> str:
    items = []
    for i, name in enumerate(series):
        yy = y + i * 16
        items.append(f'<rect x="{x}" y="{yy}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{yy + 9}" {FONT}>{escape(name)}</text>')
    return "".join(items)


def stacked_bars(labels: Sequence[str], series: Sequence[str], values: Sequence[Sequence[int]],
                 title: str, width: int = 820) -> str:
    """Horizontal bars, one per label, split into series (values[label][series])."""
    left, right, bar, gap = 170, 240, 14, 6
    height = 40 + len(labels) * (bar + gap) + 20
    totals = [sum(v) for v in values]
    scale_max = _nice_max(max(totals, default=0))
    plot = width - left - right
    parts = [f'<svg width="{width}" height="{max(height, 60 + 16 * len(series))}" '
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
                             f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(series[j])}: {v}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar - 3}" {FONT}>{sum(row)}</text>')
    axis_y = 30 + len(labels) * (bar + gap)
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot}" y2="{axis_y}" stroke="#999"/>')
    parts.append(f'<text x="{left + plot}" y="{axis_y + 14}" {FONT} text-anchor="end">{scale_max:g}</text>')
    parts.append(legend(series, left + plot + 40, 30))
    parts.append("</svg>")
    return "".join(parts)


def grouped_columns(groups: Sequence[str], series: Sequence[str], values: Sequence[Sequence[int]],
                    title: str, width: int = 820, height: int = 300) -> str:
    """Vertical columns: for each group, one column per series (values[group][series])."""
    left, bottom, top, right = 50, 40, 30, 230
    plot_w, plot_h = width - left - right, height - top - bottom
    scale_max = _nice_max(max((v for row in values for v in row), default=0))
    slot = plot_w / max(len(groups), 1)
    col = max(min(slot * 0.8 / max(len(series), 1), 40), 2)
    parts = [f'<svg width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="4" y="16" {FONT} font-weight="bold">{escape(title)}</text>']
    for k in range(5):
        value = scale_max * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" {FONT} text-anchor="end">{value:g}</text>')
    for i, (group, row) in enumerate(zip(groups, values, strict=True)):
        x0 = left + i * slot + (slot - col * len(series)) / 2
        for j, v in enumerate(row):
            h = plot_h * v / scale_max
            x, y = x0 + j * col, top + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{col - 1:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(group)}, {escape(series[j])}: {v}'
                         f'</title></rect>')
            if v:
                parts.append(f'<text x="{x + col / 2:.1f}" y="{y - 2:.1f}" {SMALL_FONT} '
                             f'text-anchor="middle">{v}</text>')
        parts.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 14}" {FONT} '
                     f'text-anchor="middle">{escape(group)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>')
    if len(series) > 1:
        parts.append(legend(series, left + plot_w + 20, top))
    parts.append("</svg>")
    return "".join(parts)
