"""Line charts as inline SVG: no script, no font, nothing fetched.

A chart is drawn from plain series of ``(x, y)`` points, where x is a ``datetime`` (the
commit dates of the programme) and y a number; ``None`` leaves a gap.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from bot.render.markup import Markup, el, join, raw

WIDTH, HEIGHT = 900, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 16, 12, 26
#: Above this many points a series is a line only (no dots): the page stays small.
_DOTS = 80


def _ts(x) -> float:
    return x.timestamp() if isinstance(x, datetime) else float(x)


def nice_ticks(lo: float, hi: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values covering ``lo``..``hi`` (whole numbers only with ``integer``)."""
    if hi <= lo:
        hi = lo + 1
    raw_step = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw_step))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw_step)
    if integer:
        step = max(1, math.ceil(step))
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = start
    while v <= hi + 1e-9:
        ticks.append(round(v, 6))
        v += step
    return ticks


def y_range(values: list[float], *, floor: float = 0.0, ceiling: float = 100.0,
            pad: float = 2.0) -> tuple[float, float]:
    """A y range around ``values`` (kept within floor..ceiling), at least ``2 * pad`` tall."""
    vals = [v for v in values if v is not None]
    if not vals:
        return floor, ceiling
    lo, hi = min(vals) - pad, max(vals) + pad
    lo, hi = max(floor, math.floor(lo)), min(ceiling, math.ceil(hi))
    if hi - lo < 2 * pad:
        hi = min(ceiling, lo + 2 * pad)
        lo = max(floor, hi - 2 * pad)
    return lo, hi


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def line_chart(series: list[dict], *, y_lo: float, y_hi: float, hlines: list[dict] = (),
               label: str, unit: str = "%", width: int = WIDTH, height: int = HEIGHT) -> Markup:
    """``series``: ``{"name", "points": [(x, y)], "cls", "dashed"}``; ``hlines``:
    ``{"y", "label", "cls"}``. ``label`` is the chart's accessible name."""
    xs = [_ts(x) for s in series for x, _ in s["points"]]
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 43200, x_hi + 43200
    pw, ph = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM

    def sx(x) -> float:
        return _LEFT + (_ts(x) - x_lo) / (x_hi - x_lo) * pw

    def sy(y: float) -> float:
        return _TOP + (1 - (y - y_lo) / (y_hi - y_lo or 1)) * ph

    parts: list = []
    for t in nice_ticks(y_lo, y_hi, integer=not unit):
        y = sy(t)
        parts.append(raw(f'<line class="grid" x1="{_LEFT}" x2="{width - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'))
        parts.append(el("text", f"{_fmt(t)}{unit}", x=_LEFT - 6, y=f"{y + 4:.1f}", text_anchor="end"))
    parts.append(raw(f'<line class="axis" x1="{_LEFT}" x2="{width - _RIGHT}" y1="{_TOP + ph}" y2="{_TOP + ph}"/>'))
    for t in _date_ticks(x_lo, x_hi):
        parts.append(el("text", datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d"),
                        x=f"{sx(t):.1f}", y=height - 8, text_anchor="middle"))
    for h in hlines:
        y = sy(h["y"])
        parts.append(raw(f'<line class="{h.get("cls", "goal")}" x1="{_LEFT}" x2="{width - _RIGHT}" '
                         f'y1="{y:.1f}" y2="{y:.1f}"/>'))
        parts.append(el("text", h["label"], x=width - _RIGHT - 4, y=f"{y - 5:.1f}", text_anchor="end"))
    for s in series:
        parts.append(_series(s, sx, sy))
    return el("svg", el("title", label), parts, role="img", viewBox=f"0 0 {width} {height}",
              width="100%", preserveAspectRatio="xMidYMid meet", class_="chart",
              style=f"max-width:{width}px")


def _series(s: dict, sx, sy) -> Markup:
    path, pen_down, dots = [], False, []
    for x, y in s["points"]:
        if y is None:
            pen_down = False
            continue
        px, py = sx(x), sy(y)
        path.append(f"{'L' if pen_down else 'M'}{px:.1f} {py:.1f}")
        pen_down = True
        dots.append((px, py))
    cls = s.get("cls", "s0") + (" dashed" if s.get("dashed") else "")
    out = [el("path", d="".join(path), class_=cls)] if path else []
    if len(dots) <= _DOTS and not s.get("dashed"):
        out += [raw(f'<circle class="{s.get("cls", "s0")}" cx="{px:.1f}" cy="{py:.1f}" r="2.5"/>')
                for px, py in dots]
    return join(out)


def _date_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    day = 86400.0
    span_days = (hi - lo) / day
    step_days = next((d for d in (1, 2, 7, 14, 28, 56, 91, 182, 364) if span_days / d <= count), 728)
    start = math.ceil(lo / (step_days * day)) * step_days * day
    ticks, t = [], start
    while t <= hi:
        ticks.append(t)
        t += step_days * day
    return ticks


def legend(items: list[tuple[str, str]]) -> Markup:
    """``[(name, css class)]`` as a legend line under a chart."""
    colours = {"s0": "#0969da", "s1": "#8250df", "s2": "#bf8700", "s3": "#1a7f37", "goal": "#1a7f37",
               "fit": "#cf222e"}
    return el("div", [el("span", el("i", style=f"background:{colours.get(cls, '#59636e')}"), name)
                      for name, cls in items], class_="legend")
