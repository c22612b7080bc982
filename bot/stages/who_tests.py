"""Who tests what: the tests behind every changed line, from coverage.py's dynamic contexts.

For each changed file of the diff coverage, ``diff.files[path].tests`` maps every covered
changed executable line to the node ids of the tests that ran it, and
``suggested_tests`` names up to three test files to extend for its uncovered changed
lines: the test files whose tests run the most lines of the same function (else of the
same file). Per failing test, the changed lines it ran (``changed_lines_run``), which
the triage weighs (:func:`weigh`). Only the changed files' contexts are read.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from typing import Callable

from bot.model.coverage import CoverageSet
from bot.model.diff import Diff, range_text, ranges
from bot.model.report import Report

#: Test files suggested per file.
MAX_SUGGESTED = 3
#: Reasons of a "test bug" that name no evidence against the test itself: a failure that
#: ran lines this PR changed is then counted as the PR's production bug.
_WEAK_TEST_BUG = ("assertion failed in ", "no project frame")

#: Reasons whose evidence is a changed line on the traceback: stronger than the contexts
#: (code a test runs in a subprocess is recorded under no test).
_TRACEBACK_ON_CHANGED = ("the traceback passes through ",)
#: The triage's note that the function an assertion checks changed (bot.stages.triage).
_FUNCTION_CHANGED = re.compile(r"; [\w.]+\(\) changed in this PR")

Ran = dict[str, dict[str, list[int]]]   # node id → {path: changed lines it ran}


def files_to_record(diff: Diff, root: Path, on: bool = True) -> list[Path] | None:
    """The files whose lines a test run records per test: the changed files with added
    lines (nothing else is asked of the contexts); None when off or none changed."""
    files = [root / path for path, f in sorted(diff.files.items()) if f.added_lines]
    return files if on and files else None


def apply(report: Report, *, head: CoverageSet, diff: Diff,
          read_source: Callable[[str], str | None]) -> Ran | None:
    """Fill ``tests`` and ``suggested_tests`` of every changed file of ``report.diff``;
    the changed lines each test ran. None (and the keys left null) without contexts."""
    if head.contexts is None:
        return None
    ran: Ran = {}
    for path, fd in report.diff.files.items():
        fc, changed = head.files.get(path), diff.files.get(path)
        if fc is None or changed is None:
            continue
        measured, missed = fc.lines_among(changed.added_lines)
        by_line = head.contexts.by_line(path) or {}
        covered = sorted(measured - missed)
        fd.tests = {str(line): by_line.get(line, []) for line in covered}
        for line in covered:
            for test in by_line.get(line, ()):
                ran.setdefault(test, {}).setdefault(path, []).append(line)
        fd.suggested_tests = suggest(sorted(missed), by_line, read_source(path)) if missed else []
    return ran


def suggest(missed: list[int], by_line: dict[int, list[str]], source: str | None) -> list[str]:
    """Up to :data:`MAX_SUGGESTED` test files, best first: those whose tests run the most
    lines of the functions holding the ``missed`` lines, else of the whole file."""
    bodies = function_bodies(source)
    wanted: set[int] = set()
    for line in missed:
        inner = [b for b in bodies if b[0] <= line <= b[1]]
        if inner:
            start, end = min(inner, key=lambda b: b[1] - b[0])
            wanted.update(range(start, end + 1))
    ranked = _rank({line: ids for line, ids in by_line.items() if line in wanted})
    return ranked or _rank(by_line)


def _rank(by_line: dict[int, list[str]]) -> list[str]:
    """Test files by the number of distinct lines their tests run, most first."""
    lines_of: Counter[str] = Counter()
    for ids in by_line.values():
        for test_file in {i.split("::", 1)[0] for i in ids}:
            lines_of[test_file] += 1
    return [f for f, _ in sorted(lines_of.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_SUGGESTED]]


def function_bodies(source: str | None) -> list[tuple[int, int]]:
    """``(first, last)`` line of every function's body in ``source`` (its header and
    decorators run at import, not in a test); [] when it does not parse."""
    if not source:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    return [(node.body[0].lineno, node.end_lineno or node.body[-1].lineno) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body]


def lines_text(lines_run: dict[str, list[int]], limit: int = 3) -> str:
    """``src/pkg/calc.py 12-14, 20``: the lines per file, the first few files."""
    parts = []
    for path in sorted(lines_run)[:limit]:
        parts.append(f"{path} {', '.join(range_text(a, b) for a, b in ranges(lines_run[path]))}")
    more = len(lines_run) - limit
    return "; ".join(parts) + (f"; {more} more file(s)" if more > 0 else "")


def weigh(category: str, reason: str, lines_run: dict[str, list[int]] | None, *,
          test_changed: bool, any_changed: bool) -> tuple[str, str]:
    """The triage's class and reason with what the failing test ran: the changed lines it
    ran count towards a production bug of this PR (unless the test itself changed); a
    test that ran none of them is not blamed on the PR's code changes (``any_changed``:
    whether that is worth saying: the PR changed lines, and the traceback passes through
    no file it changed)."""
    if lines_run is None or category in ("flaky", "environment"):
        return category, reason
    if lines_run:
        n = sum(len(v) for v in lines_run.values())
        note = f"runs {n} line{'s' if n != 1 else ''} this PR changed: {lines_text(lines_run)}"
        weak = reason.startswith(_WEAK_TEST_BUG) or (reason.startswith("raised in ")
                                                     and reason.endswith(", a test file"))
        if category == "test bug" and weak and not test_changed:
            return "production bug", f"{note}; {reason}"
        return category, f"{reason}; {note}"
    on_traceback = reason.startswith(_TRACEBACK_ON_CHANGED) or (
        reason.startswith("raised in ") and reason.endswith(", changed in this PR"))
    if not any_changed or on_traceback:
        return category, reason   # the traceback itself shows a changed line ran (in a subprocess?)
    # the file or the function changed, not the lines the test ran
    reason = _FUNCTION_CHANGED.sub("", reason.replace(", changed in this PR", ""))
    return category, f"{reason}; it ran none of the lines this PR changed"
