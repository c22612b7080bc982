"""Diff coverage: how much of the PR's changed executable lines its tests cover, with
diff-cover's definition (covered changed executable lines / changed executable lines),
and the branches on those lines. A diff with no measurable line is n/a, with the reason.
"""

from __future__ import annotations

from bot.model.coverage import CoverageSet
from bot.model.diff import Diff
from bot.model.numbers import rounded_percent
from bot.model.report import DiffCoverage, FileDiff


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
