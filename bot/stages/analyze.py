"""Analysis: the pure function from measurements to the report's numbers — totals and
their delta against the base, diff coverage (:mod:`bot.stages.diff_coverage`), per-file
rows with deltas, renames and indirect changes.

Inputs are plain data (coverage of head and base, the parsed diff, settings); the
output is a :class:`~bot.model.report.Report` without verdict. No I/O happens here.
"""

from __future__ import annotations

from bot.model.config import Config
from bot.model.diff import Diff
from bot.model.coverage import CoverageSet, FileCoverage
from bot.model.numbers import delta as pct_delta
from bot.model.report import FileRow, Report
from bot.stages.diff_coverage import diff_coverage


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
        elif base_fc is not None and row.delta not in (None, 0.0):
            # Coverage moved in a file the PR did not touch: an indirect change. Counts
            # that moved alone (a new exclusion rule) leave its coverage where it was.
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
    report.warnings.extend(measured_file_notes(head))
    return report


def measured_file_notes(head: CoverageSet) -> list[str]:
    """What the report says of measured files that are not tracked files of the checkout,
    counted and named as the coverage data has them."""
    notes = []
    if head.untracked:
        names = sorted(head.untracked)
        notes.append(f"{len(names)} measured file(s) are not tracked by git: counted in the totals, as "
                     f"coverage.py counts them, and in no diff (e.g. {', '.join(names[:3])})")
    if head.unmapped:
        names = sorted(head.unmapped)
        notes.append(f"{len(names)} measured file(s) match no file of this checkout and have no source here: "
                     f"not counted (e.g. {', '.join(names[:3])}); map them with the coverage `[paths]` setting")
    return notes
