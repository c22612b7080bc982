"""Plain-text rendering for a terminal."""

from __future__ import annotations

from bot.render.format import pct, range_text, ranges, signed
from bot.report import Report


def render_text(report: Report) -> str:
    v = report.verdict
    t = report.totals
    out = [f"covbot: gate {'PASSED' if v.passed else 'FAILED'}"]
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
        out.append(f"  tests {tt['passed']} passed, {tt['failed']} failed, {tt['errors']} errors, "
                   f"{tt['skipped']} skipped (pass rate {pct(tt.get('pass_rate'))})")
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
    for w in report.warnings:
        out.append(f"  warning: {w}")
    return "\n".join(out) + "\n"
