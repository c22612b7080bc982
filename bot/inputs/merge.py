"""Combining coverage from several files: a line is covered when any file covers it; and
the check each file's part passes before it is combined (:func:`checked`)."""

from __future__ import annotations

from bot.model.contexts import merge_contexts
from bot.model.coverage import CoverageSet, FileCoverage
from bot.model.errors import InputError


def add_file(result: CoverageSet, fc: FileCoverage) -> None:
    existing = result.files.get(fc.path)
    result.files[fc.path] = fc if existing is None else merge_file(existing, fc)


def merge_file(a: FileCoverage, b: FileCoverage) -> FileCoverage:
    """A line is covered if any input covered it (diff-cover's rule for several reports)."""
    statements = a.statements | b.statements
    covered = (a.statements - a.missing) | (b.statements - b.missing)
    branch_lines = dict(a.branch_lines)
    for line, (total, missing) in b.branch_lines.items():
        if line in branch_lines:
            t0, m0 = branch_lines[line]
            branch_lines[line] = (max(t0, total), min(m0, missing))
        else:
            branch_lines[line] = (total, missing)
    fc = FileCoverage(a.path, statements, statements - covered, branch_lines)
    fc.branches = sum(t for t, _ in branch_lines.values())
    fc.missing_branches = sum(m for _, m in branch_lines.values())
    return fc


def merge(parts: list[CoverageSet]) -> CoverageSet:
    if len(parts) == 1:
        return parts[0]
    result = CoverageSet()
    for part in parts:
        result.has_branches |= part.has_branches
        result.unmapped.extend(p for p in part.unmapped if p not in result.unmapped)
        result.untracked |= part.untracked
        for fc in part.files.values():
            add_file(result, fc)
    result.contexts = merge_contexts([part.contexts for part in parts])
    return result


def checked(part: CoverageSet, source: str) -> CoverageSet:
    """``part``, read from ``source``, when it is a measurement: it measures at least one
    file (of this repository or another), and every file's counts are possible (so every
    percentage is within [0, 100]). Otherwise an input error naming the file and entry."""
    if not part.files and not part.unmapped:
        raise InputError(f"coverage file {source} measures no files: it is empty of measurements, "
                         "not 100% covered",
                         "check that the tests ran under coverage, and `source`/`include` in the "
                         "coverage configuration")
    for path, fc in part.files.items():
        problem = fc.numbers.impossible()
        if problem is not None:
            raise InputError(f"{source}: the entry for {path!r} has impossible counts ({problem})",
                             "the file was damaged or edited; regenerate it with coverage.py")
    return part
