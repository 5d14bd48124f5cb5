"""Inline SVG charts: no scripts, no fonts fetched, the same markup in the browser and the PDF."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

_W, _H = 640, 200
_L, _R, _T, _B = 44, 12, 14, 34
_SERIES = (("alarms", "#c62828", "unwaived alarms"), ("drift", "#ef8f00", "drifted resources"))


# Fewer points than this draw no line: two points make a slope, not a trend.
MIN_TREND_POINTS = 3


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def ticks(top: float, most: int = 5) -> list[int]:
    """Whole-number axis ticks from 0 to at least `top`: steps of 1, 2 or 5 × 10^k, at most
    `most` + 1 of them (counts of findings and resources have no halves)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if top <= step * m * most:
                s = step * m
                return [s * i for i in range(max(1, math.ceil(top / s)) + 1)]
        step *= 10


def _message(title: str, text: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_W}" height="40" '
        f'viewBox="0 0 {_W} 40" font-family="DejaVu Sans, Arial, sans-serif">'
        f"<title>{escape(title)}</title>"
        f'<text x="4" y="24" font-size="12" fill="#555">{escape(text)}</text></svg>'
    )


def trend_svg(points: Sequence[Mapping[str, Any]]) -> Markup:
    """A line chart of alarms and drift per scan (oldest left); gaps where not evaluated.
    Below MIN_TREND_POINTS scans it says so instead of drawing a line."""
    title = "Alarms and drift over the last scans"
    n = len(points)
    if n < MIN_TREND_POINTS:
        return _message(title, f"A trend needs three scans ({n} so far).")
    values = [p[k] for p in points for k, *_ in _SERIES if p.get(k) is not None]
    axis = ticks(float(max([1, *values])))
    top = float(axis[-1])
    pw, ph = _W - _L - _R, _H - _T - _B

    def x(i: int) -> float:
        return _L + (pw / 2 if n == 1 else pw * i / (n - 1))

    def y(v: float) -> float:
        return _T + ph - ph * v / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" font-family="DejaVu Sans, Arial, sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{_L}" y="{_T}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for t in axis:
        yy = _fmt(y(t))
        parts.append(
            f'<line x1="{_L}" y1="{yy}" x2="{_L + pw}" y2="{yy}" stroke="#e3e3e3"/>'
            f'<text x="{_L - 4}" y="{yy}" font-size="10" text-anchor="end" '
            f'dominant-baseline="middle" fill="#555">{t}</text>'
        )
    step = max(1, (n + 7) // 8)
    for i, p in enumerate(points):
        if i % step == 0 or i == n - 1:
            # An incomplete scan's label is marked, so a dip caused by missing data shows as such.
            mark = "*" if p.get("status") != "complete" else ""
            parts.append(
                f'<text x="{_fmt(x(i))}" y="{_H - _B + 14}" font-size="10" text-anchor="middle" '
                f'fill="#555">{escape(str(p["scan"]))}{mark}</text>'
            )
    for key, colour, _label in _SERIES:
        run: list[str] = []
        segments: list[list[str]] = []
        for i, p in enumerate(points):
            v = p.get(key)
            if v is None:
                if run:
                    segments.append(run)
                run = []
                continue
            run.append(f"{_fmt(x(i))},{_fmt(y(v))}")
        if run:
            segments.append(run)
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
            for pt in seg:
                cx, cy = pt.split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
    lx = _L
    for _key, colour, label in _SERIES:
        parts.append(
            f'<rect x="{lx}" y="{_H - 12}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{_H - 3}" font-size="10" fill="#333">{escape(label)}</text>'
        )
        lx += 150
    parts.append(
        f'<text x="{_L + pw}" y="{_H - 3}" font-size="10" text-anchor="end" fill="#555">'
        "scan id (* = incomplete)</text></svg>"
    )
    return Markup("".join(parts))
