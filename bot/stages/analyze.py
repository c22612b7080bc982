"""Analysis: the pure function from measurements to numbers.

Inputs are plain data (coverage of head and base, the parsed diff, settings); the
output is a :class:`~bot.model.report.Report` without verdict. No I/O happens here.
"""

from __future__ import annotations

from bot.model.config import Config
from bot.inputs.diff import Diff
from bot.model.coverage import CoverageSet, FileCoverage
from bot.model.numbers import delta as pct_delta
from bot.model.numbers import rounded_percent
from bot.model.report import DiffCoverage, FileDiff, FileRow, Report


def diff_coverage(head: CoverageSet, diff: Diff) -> DiffCoverage:
    """Diff coverage with diff-cover's definition.

    A changed line counts when it is a statement of the file in the coverage data;
    it is a violation when that statement was not executed. Files absent from the
    coverage data contribute nothing. Unlike diff-cover, nothing measurable is ``None``.
    """
    result = DiffCoverage(num_changed_lines=diff.num_changed_lines)
    for path, changed in diff.files.items():
        fc = head.files.get(path)
        if fc is None or not changed.added_lines:
            continue
        measured, missed = fc.lines_among(changed.added_lines)
        if not measured:
            continue
        missing = sorted(missed)
        branches = missing_branches = 0
        if fc.branch_lines:
            for line in measured:
                b = fc.branch_lines.get(line)
                if b:
                    branches += b[0]
                    missing_branches += b[1]
        result.files[path] = FileDiff(
            changed_lines=len(measured), missing_lines=missing,
            percent_covered=rounded_percent(len(measured) - len(missing), len(measured)),
            branches=branches, missing_branches=missing_branches)
        result.num_lines += len(measured)
        result.num_violations += len(missing)
        result.num_branches += branches
        result.num_covered_branches += branches - missing_branches
    result.num_covered = result.num_lines - result.num_violations
    result.percent_covered = rounded_percent(result.num_covered, result.num_lines)
    if result.percent_covered is None:
        result.note = _why_no_lines(head, diff)
    return result


def _why_no_lines(head: CoverageSet, diff: Diff) -> str:
    if not diff.files and not diff.deleted:
        return "the PR changes no files against the base"
    if diff.num_changed_lines == 0:
        return "the PR only deletes or renames lines; no added lines to measure"
    changed_py = [p for p in diff.files if p.endswith(".py")]
    measured = [p for p in changed_py if p in head.files]
    if changed_py and not measured:
        sample = ", ".join(sorted(changed_py)[:3])
        return (f"none of the changed Python files ({sample}) is in the coverage data: "
                "check `source`/`omit` and that coverage paths match the repository "
                "(`relative_files = true` helps)")
    if not changed_py:
        return "no changed Python source file; nothing to measure"
    return "no changed line is an executable statement (comments, docstrings, blank lines)"


def build_report(*, head: CoverageSet, base: CoverageSet | None, diff: Diff, config: Config,
                 head_info: dict, base_info: dict, baseline_info: dict) -> Report:
    dcov = diff_coverage(head, diff)
    renames = diff.renames
    changed_paths = {p for p, f in diff.files.items() if f.added_lines or f.status in ("added", "renamed")}
    rows: list[FileRow] = []
    for path in sorted(head.files):
        fc = head.files[path]
        n = fc.numbers
        row = FileRow(path=path, statements=n.statements, missing=n.missing, branches=n.branches,
                      missing_branches=n.missing_branches, percent_covered=n.percent_covered)
        base_fc: FileCoverage | None = None
        if base is not None:
            base_path = renames.get(path, path)
            base_fc = base.files.get(base_path)
            if base_path != path:
                row.base_path = base_path
        if base_fc is not None:
            bn = base_fc.numbers
            row.base_percent_covered = bn.percent_covered
            row.base_missing = bn.missing
            row.delta = pct_delta(n.pc_covered, bn.pc_covered)
        if path in changed_paths:
            row.changed = True
            row.status = diff.files[path].status
        elif base_fc is not None and (row.delta not in (None, 0.0) or bn.missing != n.missing
                                      or bn.statements != n.statements):
            # Coverage moved in a file the PR did not touch: an indirect change.
            row.indirect = True
        rows.append(row)

    totals = head.totals
    base_totals = base.totals if base is not None else None
    report = Report(
        head=head_info,
        base=base_info,
        baseline=baseline_info,
        totals=totals.to_dict(),
        base_totals=base_totals.to_dict() if base_totals is not None else None,
        delta=pct_delta(totals.pc_covered, base_totals.pc_covered) if base_totals is not None else None,
        diff=dcov,
        files=rows,
        deleted_files=sorted(diff.deleted),
    )
    if head.unmapped:
        sample = ", ".join(head.unmapped[:3])
        report.warnings.append(
            f"{len(head.unmapped)} measured file(s) are not tracked by git and were left out "
            f"(e.g. {sample})")
    return report
