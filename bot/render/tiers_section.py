"""The comment section on tier targets: the PR's effect first, then goal, tiers, plan.

Only formats what ``bot.stages.tiers`` put in the report. Every path is escaped; a tier's file
table is collapsed unless something in that tier changed in this PR. A file's figure is
the one the rest of the comment shows (``percent_covered``, as ``coverage report``), and
the work left is counted in the goal's ``unit`` (statements, and branches with branch data).
"""

from __future__ import annotations

from bot.render import escape
from bot.render.format import count, pct, progress_bar, signed
from bot.render.section import Section
from bot.model.report import Report

#: Rows of one tier's table and entries of one change list shown in the comment.
MAX_ROWS = 15
MAX_CHANGES = 10


def _target(t) -> str:
    return "n/a" if t is None else f"{t:g}%"


def _path(p: str) -> str:
    return escape.code_span(p, limit=100)


def _n(x: int | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,}" if count(x) != "?" else "?"


def _size(tier: dict) -> str:
    lo, hi = tier["min_statements"], tier["max_statements"]
    if hi is None:
        return f"≥ {lo:,}"
    if tier["name"] == "small" and lo == 0:
        return f"< {hi + 1:,}"
    return f"{lo:,}–{hi:,}"


def _figure(e: dict, key: str = "percent_covered"):
    """A file's figure; reports written before targets used it carry statements only."""
    return e.get(key, e.get(key.replace("covered", "statements")))


def _unit(report: Report) -> str:
    return (report.goal or {}).get("unit") or "statements"


def _to_cover(report: Report, n: int | None) -> str:
    """``12 statements and branches to cover``, in the unit the goal counts."""
    return f"{_n(n)} {_unit(report)} to cover"


def _change_line(report: Report, e: dict, what: str, icon: str) -> str:
    crit = ", critical" if e.get("critical") else ""
    before = pct(_figure(e, "base_percent_covered"))
    return (f"- {icon} {what}: {_path(e['path'])} ({escape.inline(e['tier'])}{crit}, target "
            f"{_target(e['target'])}): {before} → {pct(_figure(e))}, {_to_cover(report, e['gap_statements'])}")


def _effect(report: Report) -> list[str]:
    ch = report.tier_changes or {}
    if not ch.get("baseline"):
        return ["_No baseline: what this PR does to the tier targets is unknown._", ""]
    lines: list[str] = []
    for key, what, icon in (("regressions", "**Tier regression**", "❌"),
                            ("dropped", "Below target and dropped", "⚠️"),
                            ("new_below_target", "New below target", "🆕")):
        items = ch.get(key) or []
        for e in items[:MAX_CHANGES]:
            if key == "new_below_target":
                crit = ", critical" if e.get("critical") else ""
                why = "new file" if e.get("reason") == "added" else "grew into the tier"
                lines.append(f"- {icon} {what} ({why}): {_path(e['path'])} ({escape.inline(e['tier'])}{crit}, "
                             f"target {_target(e['target'])}): {pct(_figure(e))}, "
                             f"{_to_cover(report, e['gap_statements'])}")
            else:
                lines.append(_change_line(report, e, what, icon))
        if len(items) > MAX_CHANGES:
            lines.append(f"- … and {len(items) - MAX_CHANGES} more ({key.replace('_', ' ')}) in report.json")
    reached = ch.get("reached") or []
    if reached:
        names = ", ".join(_path(e["path"]) for e in reached[:MAX_CHANGES])
        more = f" and {len(reached) - MAX_CHANGES} more" if len(reached) > MAX_CHANGES else ""
        lines.append(f"- 🎉 Reached the tier target thanks to this PR: {names}{more}")
    if not lines:
        lines.append("This PR moves no file across its tier target.")
    return lines + [""]


def _goal(report: Report) -> str:
    g = report.goal
    bar = progress_bar(g["current"], g["target"])
    base = ""
    if g.get("base_current") is not None:
        base = f" (base {pct(g['base_current'])}, {signed(g.get('delta'))} points)"
    if g.get("reached"):
        rest = "goal reached"
    else:
        rest = f"{_to_cover(report, g['gap_statements'])} to reach it"
    return f"**Goal {_target(g['target'])}** `{bar}` {pct(g['current'])} covered{base} · {rest}"


def _summary_table(report: Report) -> list[str]:
    lines = ["| Tier | Statements per file | Files meeting target | Coverage | To cover |",
             "|---|---|---:|---:|---:|"]
    for t in report.tiers:
        if t["name"] == "small" and t["target"] is None:
            if not t["files"]:
                continue
            meet = f"{_n(t['files'])} file(s), not targeted"
            if t["targeted"]:
                meet += f"; critical {count(t['meeting'])}/{count(t['targeted'])}"
            gap = _n(t["gap_statements"]) if t["targeted"] else "—"
        elif not t["files"]:
            meet, gap = "no files", "—"
        else:
            meet = f"{count(t['meeting'])}/{count(t['targeted'])} at {_target(t['target'])}"
            if t.get("critical"):
                meet += f" (critical {t['critical_target']:g}%)"
            base = t.get("base")
            if base is not None and base["meeting"] != t["meeting"]:
                meet += f" ({t['meeting'] - base['meeting']:+d} vs base)"
            gap = _n(t["gap_statements"])
        if t.get("removed"):
            meet += f"; {count(t['removed'])} removed in this PR"
        lines.append(f"| {escape.inline(t['name'])} | {_size(t)} | {meet} | {pct(_figure(t))} | {gap} |")
    return lines


def _plan(report: Report) -> list[str]:
    p = report.plan
    if not p or not p.get("goal_gap_statements"):
        return []
    files = p["files"]
    if not files:
        return ["**Next plan**: no targeted file is below its target; the rest of the gap is in "
                "small files or above the tier targets.", ""]
    names = ", ".join(f"{_path(f['path'])} +{f['gain']:,}" for f in files[:MAX_ROWS])
    more = f", … {len(files) - MAX_ROWS} more" if len(files) > MAX_ROWS else ""
    if p["feasible"]:
        head = (f"**Next plan**: raise {len(files)} file(s) to their targets to close "
                f"{p['share']:g}% of the gap ({_n(p['statements'])} of {_n(p['goal_gap_statements'])} "
                f"{_unit(report)}): ")
    else:
        head = (f"**Next plan**: raising all {len(files)} file(s) below target to their targets closes "
                f"{pct(p['percent_of_gap'])} of the gap ({_n(p['statements'])} of "
                f"{_n(p['goal_gap_statements'])} {_unit(report)}), short of {p['share']:g}%: ")
    return [head + names + more, ""]


def _tier_table(t: dict) -> list[str]:
    members = t.get("members") or []
    if not members or (t["name"] == "small" and not t["targeted"]):
        return []
    if t["name"] == "small":
        members = [m for m in members if m["target"] is not None]
    # Files this PR touched first, then the largest gaps.
    ordered = sorted(members, key=lambda m: (not m["changed"], -m["gap_statements"], -m["uncovered"], m["path"]))
    opened = " open" if t["changed"] else ""
    summary = (f"{escape.html_text(t['name'])}: {count(t['meeting'])}/{count(t['targeted'])} file(s) meet the target"
               + (", changed in this PR" if t["changed"] else ""))
    lines = [f"<details{opened}>", f"<summary>{summary}</summary>", "",
             "| File | Statements | Coverage | Δ | Target | To cover |", "|---|---:|---:|---:|---:|---:|"]
    for m in ordered[:MAX_ROWS]:
        icon = "✅" if m["meets_target"] else "⬜"
        crit = " (critical)" if m["critical"] else ""
        change = m.get("delta", m["delta_statements"])
        delta = signed(change) if change is not None else ""
        lines.append(f"| {icon} {_path(m['path'])}{crit} | {m['statements']:,} | {pct(_figure(m))} | "
                     f"{delta} | {_target(m['target'])} | {_n(m['gap_statements'])} |")
    if len(ordered) > MAX_ROWS:
        lines.append(f"\n_{len(ordered) - MAX_ROWS} more file(s) of {escape.inline(t['name'])} in report.json._")
    return lines + ["", "</details>", ""]


def _high_impact(report: Report) -> list[str]:
    hi = report.high_impact
    if not hi:
        return []
    lines = ["<details>", "<summary>High-impact files: most uncovered statements</summary>", "",
             "| # | File | Tier | Statements | Uncovered statements | Coverage |", "|---:|---|---|---:|---:|---:|"]
    for i, h in enumerate(hi, 1):
        lines.append(f"| {i} | {_path(h['path'])} | {escape.inline(h['tier'])} | {h['statements']:,} | "
                     f"{h['uncovered']:,} | {pct(h['percent_covered'])} |")
    return lines + ["", "</details>", ""]


def tiers_section(report: Report) -> Section | None:
    if not report.tiers or not report.goal:
        return None
    title = "#### 🎯 Tier targets"
    effect = _effect(report)
    goal = [_goal(report), ""]
    note = [f"<sub>Targets and the goal are judged on the figure shown for each file; “to cover” counts "
            f"{escape.html_text(_unit(report))}.</sub>", ""]
    summary = _summary_table(report) + [""]
    body = [title, ""] + effect + goal + summary + _plan(report)
    details = []
    for t in report.tiers:
        details += _tier_table(t)
    details += _high_impact(report)
    full = "\n".join(body + details + note)
    compact = "\n".join(body + ["_Per-tier tables and the high-impact list are in report.json._", ""])
    return Section("tiers", full, priority=60, compact=compact)
