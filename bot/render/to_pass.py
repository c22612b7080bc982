"""What a failing PR must do to pass: the changed lines to cover, per file, to reach the
diff threshold, and the failing tests to fix. Computed from the report's numbers and
the gate's verdict only; the comment and the terminal output render it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.model.numbers import rounded_percent
from bot.model.report import Report


@dataclass
class ToPass:
    lines_needed: int = 0
    #: (path, the changed lines to cover there), in the order of the changed-files table
    lines: list[tuple[str, list[int]]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)      # test ids
    other_rules: list[str] = field(default_factory=list)   # failed rules without a recipe

    @property
    def empty(self) -> bool:
        return not (self.lines or self.failures or self.other_rules)


def lines_to_cover(report: Report) -> tuple[int, list[tuple[str, list[int]]]]:
    """The fewest changed lines to cover for diff coverage to reach the threshold, taken
    from the files with the most uncovered changed lines first."""
    d = report.diff
    threshold = (report.settings or {}).get("diff_threshold")
    if threshold is None or not d.num_lines:
        return 0, []
    needed = 0
    while needed < d.num_lines - d.num_covered and \
            (rounded_percent(d.num_covered + needed, d.num_lines) or 0) < threshold:
        needed += 1
    order = sorted(d.files.items(), key=lambda kv: (-len(kv[1].missing_lines), kv[0]))
    picked, left = [], needed
    for path, fd in order:
        if left <= 0:
            break
        take = sorted(fd.missing_lines)[:left]
        if take:
            picked.append((path, take))
            left -= len(take)
    return needed, picked


def to_pass(report: Report) -> ToPass:
    out = ToPass()
    for r in report.verdict.reasons:
        if not r.failed:
            continue
        if r.rule == "diff":
            out.lines_needed, out.lines = lines_to_cover(report)
        elif r.rule in ("new-failures", "pass-rate") and report.tests:
            out.failures += [f["id"] for f in report.tests.get("failures") or []
                            if f.get("category") != "flaky" and f.get("outcome") != "flaky"
                            and (r.rule == "pass-rate" or f.get("status") in ("new", "unknown"))]
            if not report.tests.get("failures"):
                out.other_rules.append(r.rule)
        else:
            out.other_rules.append(r.rule)
    out.failures = list(dict.fromkeys(out.failures))
    return out
