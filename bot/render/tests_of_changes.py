"""The comment section "Tests of the changed lines": per changed file, how many of its
changed lines each test runs (the top few tests, the rest counted), and for the changed
lines no test covers, the test files to extend.

Only formats ``report.diff.files[path].tests`` / ``suggested_tests`` (built by
:mod:`bot.stages.who_tests`); nothing when the report has no contexts. Paths and test
ids come from the PR: each is a code span. A huge PR lists the first files and counts
the rest; the compact form (when the comment is over its budget) keeps one test a file.
"""

from __future__ import annotations

from collections import Counter

from bot.model.report import Report
from bot.render import escape
from bot.render.format import count, range_text, ranges
from bot.render.section import Section

#: Tests named per file, files listed (full and compact form).
MAX_TESTS, MAX_TESTS_COMPACT = 3, 1
MAX_FILES, MAX_FILES_COMPACT = 25, 8
#: Uncovered line ranges shown per file.
MAX_RANGES = 6


def files_with_tests(report: Report) -> list[tuple[str, dict]]:
    """The changed files whose lines have contexts, in path order."""
    return [(p, f) for p, f in sorted(report.diff.files.items()) if f.tests is not None]


def summary_text(report: Report) -> str:
    """The section's one line: how many changed lines which tests run."""
    files = files_with_tests(report)
    lines = sum(len(f.tests) for _, f in files)
    tests = {t for _, f in files for ids in f.tests.values() for t in ids}
    return (f"Tests of the changed lines: {count(len(tests))} test{'s' if len(tests) != 1 else ''} "
            f"run {count(lines)} covered changed line{'s' if lines != 1 else ''}")


def _tests_cell(tests: dict[str, list[str]], limit: int) -> str:
    per_test = Counter(t for ids in tests.values() for t in ids)
    if not per_test:
        return "no test (run outside tests, e.g. at import)" if tests else "—"
    ranked = sorted(per_test.items(), key=lambda kv: (-kv[1], kv[0]))
    cells = [f"{escape.code_span(t, limit=150)} ({count(n)})" for t, n in ranked[:limit]]
    if len(ranked) > limit:
        cells.append(f"+{len(ranked) - limit} more")
    return ", ".join(cells)


def _uncovered_cell(missing: list[int], suggested: list[str] | None, limit: int) -> str:
    if not missing:
        return "—"
    rs = ranges(missing)
    text = ", ".join(range_text(a, b) for a, b in rs[:MAX_RANGES]) + (f", +{len(rs) - MAX_RANGES} more"
                                                                      if len(rs) > MAX_RANGES else "")
    if suggested:
        text += ": extend " + " or ".join(escape.code_span(s, limit=150) for s in suggested[:limit])
    else:
        text += ": no test runs this file's code yet"
    return text


def _render(report: Report, *, compact: bool) -> str:
    files = files_with_tests(report)
    max_files, max_tests = (MAX_FILES_COMPACT, MAX_TESTS_COMPACT) if compact else (MAX_FILES, MAX_TESTS)
    lines = ["#### Tests of the changed lines", "",
             "_Each test with the number of this PR's covered changed lines it runs; for the changed "
             "lines no test runs, the test files whose tests run the most of the same function (else file)._",
             "", "| changed file | tests (changed lines each runs) | not covered |", "|---|---|---|"]
    for path, f in files[:max_files]:
        lines.append(f"| {escape.code_span(path, limit=120)} | {_tests_cell(f.tests, max_tests)} | "
                     f"{_uncovered_cell(f.missing_lines, f.suggested_tests, max_tests)} |")
    if len(files) > max_files:
        lines += ["", f"_{count(len(files) - max_files)} more file(s) in report.json "
                      "(`diff.files[path].tests`), or locally: `covbot tests-for PATH`._"]
    return "\n".join(lines) + "\n"


def tests_of_changes_section(report: Report) -> Section | None:
    """The section, or None when the report has no contexts for any changed file."""
    if not files_with_tests(report):
        return None
    return Section("who-tests", _render(report, compact=False), priority=35,
                   compact=_render(report, compact=True))
