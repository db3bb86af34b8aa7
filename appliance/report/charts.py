"""Bar charts as SVG text, for the Informe Turnero and the coordinators' page.

Why SVG written here rather than PNG from Pillow (or matplotlib, far too heavy for a Pi): an SVG is a few
kilobytes of text that goes inline in a self-contained HTML file (no base64, no side files); the browser
draws its labels with its own fonts, so accents come out right and nothing blurs when the page is zoomed or
printed; and a test can read the bars back from the markup. A PNG would need a font file and a fixed
resolution, and would be an opaque blob in the report.

Only presentation attributes are used (no `style=`), so the page's Content-Security-Policy needs no
'unsafe-inline'.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from html import escape

BLUE, ORANGE, GREEN, RED, AMBER = "#2b6cb0", "#c05621", "#2f855a", "#c53030", "#b7791f"
_INK, _GRID, _MUTED = "#1a202c", "#e2e8f0", "#4a5568"
_FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 34, 52   # the top margin holds the target's legend
_CHAR_W = 7.2            # the width of a digit or letter at font-size 12 (DejaVu Sans), for what fits where
_Y_TITLE_W = 28          # the rotated y title and the space after it


def number(value: float, decimals: int = 1) -> str:
    """12.5 -> '12,5'; 3.0 -> '3'; 12345.6 -> '12.345,6': a decimal comma and thousands in groups, as read in
    Colombia, rounded half up as a spreadsheet rounds (2.5 -> '3', where Python would say '2')."""
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _text_width(text: str, size: float = 12) -> float:
    return len(text) * _CHAR_W * size / 12


def _label_step(widths: list[float], slot: float, gap: float = 6) -> int:
    """Every label where neighbours leave room, else every second, third...: a long day's hours never run
    together, and eight wait ranges all keep theirs."""
    for step in range(1, len(widths) + 1):
        if all((widths[i] + widths[i + step]) / 2 + gap <= step * slot for i in range(0, len(widths) - step, step)):
            return step
    return max(len(widths), 1)


def _scale(peak: float, integer: bool) -> tuple[float, float]:
    """A round top for the axis and the step between its ticks (1, 2 or 5 times a power of ten)."""
    if peak <= 0:
        return 1.0, 1.0
    raw = peak / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    return math.ceil(peak / step) * step, step


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, x_title: str, y_title: str,
              integer: bool = False, colours: Sequence[str] | None = None, target: float | None = None,
              target_label: str = "", width: int = 640, height: int = 270) -> str:
    """One bar per label, a y axis with round ticks, the value above each bar, and an optional dashed line
    (a target). `colours` gives each bar its own colour; blue otherwise."""
    top, step = _scale(max([*values, target or 0, 0]), integer)
    tick_labels = [number(i * step, 0 if step >= 1 else 1) for i in range(round(top / step) + 1)]
    # The axis moves right as its numbers grow, so that they never run into the y title.
    left = max(_LEFT, _Y_TITLE_W + 6 + max(_text_width(t) for t in tick_labels))
    plot_w, plot_h = width - left - _RIGHT, height - _TOP - _BOTTOM
    y = lambda v: _TOP + plot_h - v / top * plot_h  # noqa: E731
    decimals = 0 if integer else 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" class="chart" {_FONT} font-size="12" fill="{_INK}">',
             f"<title>{escape(title)}</title>"]
    for i, tick in enumerate(tick_labels):
        value = i * step
        parts.append(f'<line x1="{left}" x2="{width - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="{_GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="{_MUTED}">{tick}</text>')
    slot = plot_w / max(len(labels), 1)
    bar_w = min(slot * 0.7, 56)
    every = _label_step([_text_width(label) for label in labels], slot)
    for i, (label, value) in enumerate(zip(labels, values)):
        centre = left + slot * (i + 0.5)
        colour = colours[i] if colours else BLUE
        parts.append(f'<rect x="{centre - bar_w / 2:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" '
                     f'height="{_TOP + plot_h - y(value):.1f}" fill="{colour}" data-label="{escape(label)}" '
                     f'data-value="{value:g}"/>')
        shown = number(value, decimals)
        size = next((s for s in (12, 10) if _text_width(shown, s) <= slot - 2), None)
        if value and size:   # a value that fits nowhere is left to the bar's height and the table below
            parts.append(f'<text x="{centre:.1f}" y="{y(value) - 5:.1f}" text-anchor="middle" font-size="{size}">'
                         f"{shown}</text>")
        if i % every == 0:
            parts.append(f'<text x="{centre:.1f}" y="{_TOP + plot_h + 16}" text-anchor="middle" fill="{_MUTED}">'
                         f"{escape(label)}</text>")
    if target is not None:
        dashes = f'stroke="{RED}" stroke-width="1.5" stroke-dasharray="6 4"'
        parts.append(f'<line x1="{left}" x2="{width - _RIGHT}" y1="{y(target):.1f}" y2="{y(target):.1f}" {dashes}/>')
        parts.append(f'<line x1="{width - _RIGHT - 150}" x2="{width - _RIGHT - 126}" y1="10" y2="10" {dashes}/>')
        parts.append(f'<text x="{width - _RIGHT - 120}" y="14" fill="{RED}">{escape(target_label)}</text>')
    if not any(values):
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{_TOP + plot_h / 2:.1f}" text-anchor="middle" '
                     f'fill="{_MUTED}" font-size="14">Sin datos en el periodo</text>')
    parts.append(f'<line x1="{left}" x2="{width - _RIGHT}" y1="{_TOP + plot_h}" y2="{_TOP + plot_h}" '
                 f'stroke="{_MUTED}"/>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                 f"{escape(x_title)}</text>")
    parts.append(f'<text transform="translate(16 {_TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
                 f"{escape(y_title)}</text>")
    parts.append("</svg>")
    return "\n".join(parts)
