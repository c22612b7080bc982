"""The baseline summary: a compact record of one commit's coverage and test outcomes.

``covbot baseline save`` stores it on the data branch (:mod:`bot.baseline.data_branch`);
``covbot report`` writes the same record as ``baseline.json`` next to report.json, so a
push job can store it without running the tests again. Per file it keeps the counts and
the missing and partial lines as compact ranges (``"1-3,7"``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from bot.model.coverage import Baseline, CoverageSet, FileCoverage, FileNumbers, TestOutcomes
from bot.model.errors import InputError
from bot.model.numbers import Numbers
from bot.runs.git import Git
from bot.runs.outfiles import write_files
from bot.stages.triage import outcomes

FORMAT = 1
BASELINE_FILE = "baseline.json"
_FILE_COLUMNS = ["path", "statements", "missing", "branches", "missing_branches", "partial"]


# -- line ranges ------------------------------------------------------------------------

def encode_ranges(lines) -> str:
    """Sorted line numbers as compact ranges: ``[1, 2, 3, 7, 9, 10]`` → ``"1-3,7,9-10"``."""
    return _encode_sorted(sorted(set(lines)))


def _encode_sorted(a: list[int]) -> str:
    """:func:`encode_ranges` of numbers already sorted and distinct (one plain loop: about
    twice as fast as slicing and zipping the list, for the tens of thousands of lines of a
    large project)."""
    if not a:
        return ""
    out = []
    start = prev = a[0]
    for x in a:
        if x != prev + 1 and x != start:
            out.append(str(start) if start == prev else f"{start}-{prev}")
            start = x
        prev = x
    out.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(out)


def decode_ranges(text: str) -> list[int]:
    """The inverse of :func:`encode_ranges`; a malformed text raises ``ValueError``."""
    lines: list[int] = []
    if not text:
        return lines
    for part in text.split(","):
        a, sep, b = part.partition("-")
        lo = int(a)
        hi = int(b) if sep else lo
        if hi < lo or lo < 0:
            raise ValueError(f"bad line range {part!r}")
        lines.extend(range(lo, hi + 1))
    return lines


# -- summaries ----------------------------------------------------------------------------

def summarize(cov: CoverageSet, tests: TestOutcomes | None, *, commit: str, ref: str | None,
              committed: str | None, saved: str) -> dict:
    """The compact summary of one run that a baseline keeps (``saved``: when, ISO 8601 UTC)."""
    doc = {
        "format": FORMAT,
        "commit": commit,
        "ref": ref,
        "committed": committed,
        "saved": saved,
        "branch_coverage": bool(cov.has_branches),
        "totals": _totals(cov.totals),
        "file_columns": list(_FILE_COLUMNS),
        "files": file_rows(cov),
        "tests": None,
    }
    if tests is not None:
        doc["tests"] = tests_summary(tests)
    return doc


def file_rows(cov: CoverageSet) -> list[list]:
    """One row per file, in the order of ``_FILE_COLUMNS``, sorted by path."""
    files = []
    for path in sorted(cov.files):
        fc = cov.files[path]
        n = fc.numbers
        missing = partial = ""     # a file known by its counts only (FileNumbers) has no lines
        if isinstance(fc, FileCoverage):
            missing, partial = _encode_sorted(fc.sorted_missing()), _encode_sorted(fc.partial_lines())
        files.append([path, n.statements, missing, n.branches, n.missing_branches, partial])
    return files


def tests_summary(tests: TestOutcomes) -> dict:
    return {"total": tests.total, "passed": tests.passed, "failed": tests.failed,
            "errors": tests.errors, "skipped": tests.skipped,
            "failing": sorted(tests.failing_ids), "flaky": sorted(tests.flaky_ids)}


def _totals(n: Numbers) -> dict:
    return {"statements": n.statements, "missing": n.missing, "branches": n.branches,
            "missing_branches": n.missing_branches, "percent_covered": n.percent_covered}


def dump_summary(doc: dict) -> bytes:
    """Summary JSON with one file a line: readable, and successive versions delta well."""
    return _dump(doc, dump_rows(doc["files"]))


def dump_rows(rows: list[list]) -> bytes:
    return ",\n".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in rows).encode("utf-8")


def _dump(doc: dict, rows: bytes) -> bytes:
    head = {k: v for k, v in doc.items() if k != "files"}
    return (json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1].encode("utf-8")
            + b',"files":[\n' + rows + b"\n]}\n")


def baseline_from_summary(doc, source: str) -> Baseline:
    """A :class:`Baseline` (per-file numbers, test outcomes) from a stored summary."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"{source}: not a covbot baseline summary of format {FORMAT} (got {got!r})",
                         "the data branch was written by an incompatible covbot; save the baseline again")
    cov = CoverageSet(has_branches=bool(doc.get("branch_coverage")), sources=[source])
    try:
        cols = doc.get("file_columns") or _FILE_COLUMNS
        idx = {name: cols.index(name) for name in ("path", "statements", "missing", "branches",
                                                   "missing_branches")}
        for row in doc["files"]:
            path = row[idx["path"]]
            missing = len(decode_ranges(row[idx["missing"]]))
            n = Numbers(int(row[idx["statements"]]), missing, int(row[idx["branches"]]),
                        int(row[idx["missing_branches"]]))
            cov.files[path] = FileNumbers(path, n)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise InputError(f"{source}: malformed files entry in the baseline summary ({exc})",
                         "save the baseline again (`covbot baseline save`)") from None
    tests = None
    t = doc.get("tests")
    if isinstance(t, dict):
        tests = TestOutcomes(total=int(t.get("total", 0)), passed=int(t.get("passed", 0)),
                             failed=int(t.get("failed", 0)), errors=int(t.get("errors", 0)),
                             skipped=int(t.get("skipped", 0)), failing_ids=set(t.get("failing", [])),
                             flaky_ids=set(t.get("flaky", [])))
    return Baseline(coverage=cov, tests=tests)


def write_baseline_file(out_dir: Path, cov: CoverageSet, results: list, *, git: Git, sha: str,
                        ref: str | None, part: tuple | None = None, root: Path | None = None) -> Path:
    """Write the summary a save would store next to report.json (``baseline.json``).

    ``covbot report`` writes it on every run, so a push job that already ran the
    report stores it with :func:`save_from_report` instead of running the tests again.
    ``part`` is :func:`coverage_part` of ``cov`` when it was computed already. Inside
    ``root`` (the checkout) no link is followed (:mod:`bot.runs.outfiles`).
    """
    committed, rows = part if part is not None else coverage_part(cov, git=git, sha=sha)
    doc = summarize(CoverageSet(has_branches=cov.has_branches), None, commit=sha, ref=ref, committed=committed,
                    saved=utc_now())
    doc["totals"] = _totals(cov.totals)
    if results:
        doc["tests"] = tests_summary(outcomes(results))
    return write_files(out_dir, {BASELINE_FILE: _dump(doc, rows)}, root=root)[BASELINE_FILE]


def coverage_part(cov: CoverageSet, *, git: Git, sha: str) -> tuple[str | None, bytes]:
    """What baseline.json says of the coverage (the commit time, the file rows, dumped):
    the costly part, which does not depend on the test results."""
    return commit_time(git, sha), dump_rows(file_rows(cov))


def commit_time(git: Git, sha: str) -> str | None:
    """Committer time of ``sha`` in UTC (ISO 8601, ``Z``), comparable as text."""
    out = git.run(["show", "-s", "--format=%ct", sha], check=False).strip()
    if not out.isdigit():
        return None
    return datetime.fromtimestamp(int(out), timezone.utc).isoformat().replace("+00:00", "Z")


def utc_now() -> str:
    """Now, in UTC, to the second (ISO 8601 with ``Z``): when a summary is saved."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
