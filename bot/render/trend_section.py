"""The coverage trend in the comment: a Mermaid ``xychart-beta`` block.

Total coverage of the last saved baselines (oldest first), the PR's projected total as
the last point, and the long-term goal as a flat second line. GitHub renders Mermaid
in comments, so no image is hosted anywhere; elsewhere the block reads as text, and a
one-line summary under it carries the same numbers.
"""

from __future__ import annotations

import math

from bot.render import escape
from bot.render.format import pct, short_sha, signed
from bot.render.section import Section
from bot.model.report import Report
from bot.model.numbers import delta


#: The series' colours (GitHub's blue and red, readable on light and dark themes) and
#: their names in the caption, which is the chart's legend (xychart has none).
COVERAGE_COLOUR, COVERAGE_NAME = "#0969da", "blue"
GOAL_COLOUR, GOAL_NAME = "#cf222e", "red"
_THEME = ('%%{init: {"theme": "base", "themeVariables": {"xyChart": {"plotColorPalette": "'
          f'{COVERAGE_COLOUR}, {GOAL_COLOUR}"}}}}}}}}%%')


def _goal(report: Report) -> float | None:
    goal = (report.goal or {}).get("target")
    if goal is None:
        goal = (report.settings or {}).get("goal")
    return float(goal) if goal is not None else None


def _axis(values: list[float]) -> tuple[int, int]:
    """A y range that shows small moves but keeps a sense of scale: multiples of 5."""
    lo, hi = min(values), max(values)
    lo = max(0, int(math.floor((lo - 2) / 5.0) * 5))
    hi = min(100, int(math.ceil((hi + 2) / 5.0) * 5))
    if hi - lo < 10:
        hi = min(100, lo + 10)
        lo = max(0, hi - 10)
    return lo, hi


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def trend_section(report: Report) -> Section | None:
    points = [p for p in (report.trend or []) if isinstance(p.get("percent_covered"), (int, float))]
    if not points:
        return None
    head = report.totals.get("percent_covered") if report.totals else None
    labels = [escape.mermaid_label(short_sha(p.get("commit"))) for p in points]
    values = [float(p["percent_covered"]) for p in points]
    if head is not None:
        labels.append("PR")
        values.append(float(head))
    goal = _goal(report)
    lo, hi = _axis(values + ([goal] if goal is not None else []))
    n = len(points)
    lines = [
        "<details>",
        f"<summary>Coverage trend: last {n} saved baseline{'s' if n != 1 else ''}"
        + (" and this PR" if head is not None else "") + "</summary>",
        "",
        "```mermaid",
        # explicit colours: the default palette draws the first line a faint lavender
        _THEME,
        "xychart-beta",
        '    title "Total coverage (%)"',
        "    x-axis [" + ", ".join(f'"{label}"' for label in labels) + "]",
        f'    y-axis "Coverage %" {lo} --> {hi}',
        "    line [" + ", ".join(_num(v) for v in values) + "]",
    ]
    if goal is not None:
        lines.append("    line [" + ", ".join(_num(goal) for _ in values) + "]")
    lines += ["```", ""]
    summary = [f"{short_sha(points[0].get('commit'))} {pct(values[0])}"]
    if n > 1:
        summary.append(f"{short_sha(points[-1].get('commit'))} {pct(float(points[-1]['percent_covered']))}")
    text = escape.inline(" → ".join(summary))
    if head is not None:
        move = delta(float(head), float(points[-1]["percent_covered"]))   # the headline's rule
        text += f" → this PR {pct(float(head))} ({signed(move)} against the last saved baseline)"
    text = f"{COVERAGE_NAME} line: total coverage · " + text
    if goal is not None:
        text += f" · {GOAL_NAME} flat line: the goal, {pct(goal)}"
    lines += [f"_{text}_", "", "</details>", ""]
    compact = f"_Coverage trend: {text}._\n"
    return Section("trend", "\n".join(lines), priority=30, compact=compact)
