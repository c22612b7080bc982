"""Plain-text rendering for a terminal."""

from __future__ import annotations

from bot.render.format import pct, range_text, ranges, signed
from bot.model.report import Report
from bot.render.tests_section import counts_text, first_line
from bot.render.to_pass import to_pass


def render_text(report: Report) -> str:
    v = report.verdict
    t = report.totals
    out = [f"covbot: gate {'PASSED' if v.passed else 'FAILED'}"]
    if report.input_errors:
        out.append(f"  incomplete: {report.input_errors[0]}")
        unrun = (report.tests or {}).get("not_run")
        if unrun:
            out.append(f"  {unrun} of {unrun + report.tests['total']} tests did not run")
    line = f"  total coverage {pct(t['percent_covered'])}"
    if report.delta is not None:
        line += f" ({signed(report.delta)} points vs base {pct(report.base_totals['percent_covered'])})"
    out.append(line)
    d = report.diff
    if d.percent_covered is None:
        out.append(f"  diff coverage n/a: {d.note}")
    else:
        out.append(f"  diff coverage {pct(d.percent_covered)} ({d.num_covered}/{d.num_lines} changed executable lines)")
    if report.tests and report.tests.get("total"):
        tt = report.tests
        out.append(f"  tests {counts_text(tt, skipped=True, fmt=str)} (pass rate {pct(tt.get('pass_rate'))})")
    if not v.passed:
        out.append(_to_pass(report))
    for r in v.reasons:
        mark = {"failed": "FAIL", "passed": "ok  ", "skipped": "skip"}[r.status]
        out.append(f"  [{mark}] {r.rule}: {r.message}")
    if report.changed_files:
        out.append("")
        out.append("  changed files:")
        width = max(len(f.path) for f in report.changed_files)
        for f in report.changed_files:
            fd = report.diff.files.get(f.path)
            miss = ", ".join(range_text(a, b) for a, b in ranges(fd.missing_lines)) if fd else ""
            dcov = pct(fd.percent_covered) if fd else "n/a"
            out.append(f"    {f.path:<{width}}  {pct(f.percent_covered):>8} {signed(f.delta):>7}  diff {dcov:>8}  {miss}")
    if report.indirect_files:
        out.append("")
        out.append("  indirect changes:")
        for f in report.indirect_files:
            out.append(f"    {f.path}  {pct(f.base_percent_covered)} -> {pct(f.percent_covered)} ({signed(f.delta)})")
    out += _failures(report.tests)
    out += _tiers(report)
    for w in report.warnings:
        out.append(f"  warning: {w}")
    return "\n".join(out) + "\n"


_SHOWN = 10   # of each list; report.json has them all


def _to_pass(report: Report) -> str:
    tp = to_pass(report)
    bits = []
    if tp.lines:
        where = "; ".join(f"{p} {', '.join(range_text(a, b) for a, b in ranges(ls))}" for p, ls in tp.lines)
        bits.append(f"cover {tp.lines_needed} more changed line(s) ({where})")
    if tp.failures:
        more = f" and {len(tp.failures) - _SHOWN} more" if len(tp.failures) > _SHOWN else ""
        bits.append(f"fix {len(tp.failures)} failing test(s) ({', '.join(tp.failures[:_SHOWN])}{more})")
    if tp.other_rules:
        bits.append("resolve " + ", ".join(tp.other_rules))
    return "  to pass: " + "; ".join(bits)


def _failures(tests: dict | None) -> list[str]:
    """Failure groups, new ones first (the order of the comment)."""
    if not tests or not tests.get("groups"):
        return []
    # A flaky test passed on a retry: listed apart, never counted as a failure.
    groups = [g for g in tests["groups"] if g.get("category") != "flaky"]
    flaky = [f for f in tests.get("failures") or [] if f.get("outcome") == "flaky" or f.get("category") == "flaky"]
    out: list[str] = []
    if groups:
        failures = sum(g["count"] for g in groups)
        new = sum(g["new"] for g in groups)
        head = f"  failures: {failures} test(s) in {len(groups)} group(s)"
        head += f", {new} new" if tests.get("base_compared") else " (no base results to compare with)"
        out += ["", head + ":"]
    for g in groups[:_SHOWN]:
        status = "new" if g["new"] else ("pre-existing" if g["pre_existing"] else "")
        out.append(f"    [{g['category']}] {first_line(g)} ({g['count']} test(s){', ' + status if status else ''})")
        out.append(f"      {g['reason']}")
    if len(groups) > _SHOWN:
        out.append(f"    ... {len(groups) - _SHOWN} more group(s) in report.json")
    if flaky:
        out += ["", f"  flaky (passed on a retry, not blocking): {len(flaky)} test(s):"]
        out += [f"    {f['id']}: {f['reason']}" for f in flaky[:_SHOWN]]
    return out


def _tiers(report: Report) -> list[str]:
    """The goal, each tier's state, and the files this PR moved across their target."""
    out: list[str] = []
    goal = report.goal
    unit = (goal or {}).get("unit") or "statements"
    if goal:
        line = f"  goal {goal['target']:g}%: {pct(goal['current'])} covered"
        if goal.get("base_current") is not None:
            line += f" (base {pct(goal['base_current'])}, {signed(goal['delta'])} points)"
        line += ", reached" if goal["reached"] else f", {goal['gap_statements']:,} {unit} to cover"
        out += ["", line]
    for t in report.tiers or []:
        if t.get("target") is None:
            out.append(f"    {t['name']}: {t['files']} file(s), not targeted, {pct(t.get('percent_covered'))} covered")
            continue
        size = (f"{t['min_statements']}-{t['max_statements']}" if t.get("max_statements") is not None
                else f"at least {t['min_statements']}")
        out.append(f"    {t['name']} ({size} statements, target {t['target']:g}%): "
                   f"{t['meeting']}/{t['targeted']} file(s) meet it, {pct(t.get('percent_covered'))} covered, "
                   f"{t['gap_statements']:,} {unit} to cover" + (f", {t['removed']} removed" if t.get("removed") else ""))
    changes = report.tier_changes or {}
    for key, label in (("regressions", "fell below its tier target"), ("new_below_target", "new below target"),
                       ("reached", "reached its tier target")):
        entries = changes.get(key) or []
        for e in entries[:_SHOWN]:
            out.append(f"    {label}: {e['path']} ({e['tier']}, target {e['target']:g}%): "
                       f"{pct(e.get('base_percent_covered'))} -> {pct(e.get('percent_covered'))}")
        if len(entries) > _SHOWN:
            out.append(f"    ... {len(entries) - _SHOWN} more ({key.replace('_', ' ')}) in report.json")
    return out


def render_error_text(errors: list, tests: dict | None = None) -> str:
    """The terminal output of a run that could not compute coverage: each error with what
    to do, and the test results that could still be read."""
    out = ["covbot: could not compute coverage"]
    for e in errors:
        out.append(f"  error: {e.message}")
        if e.hint:
            out.append(f"    what to do: {e.hint}")
    if tests and tests.get("total"):
        out.append(f"  tests {counts_text(tests, skipped=True, fmt=str)} (details in report.json)")
        out += _failures(tests)
    return "\n".join(out) + "\n"
