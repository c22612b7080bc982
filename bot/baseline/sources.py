"""The base side: how covbot gets coverage (and test results) of the PR's base.

Modes: ``rerun`` runs the same suite on the merge-base in a temporary worktree;
``none`` compares with nothing; a path reads an earlier ``report.json`` or
``coverage.json``; ``auto`` reads the stored baseline of the data branch (:mod:`bot.baseline.stored`).
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.inputs.junit import load_results
from bot.inputs.coverage import load_coverage, sniff
from bot.inputs.coverage_data import load_data_files, project_aliases
from bot.inputs.coverage_json import load_json_numbers, report_document
from bot.inputs.paths import PathMapper
from bot.model.errors import InputError
from bot.model.coverage import Baseline, CoverageSet, FileNumbers, TestOutcomes
from bot.model.numbers import Numbers
from bot.runs.collect import LOCAL, run_tests
from bot.runs.git import Git
from bot.stages.triage import outcomes


def from_file(path: Path, *, root: Path, tracked: list[str]) -> Baseline:
    if not path.is_file():
        raise InputError(f"baseline file {path} does not exist",
                         "pass an earlier report.json or coverage.json, or use --baseline rerun|none")
    kind = sniff(path)
    if kind == "json":
        try:
            doc = report_document(path)   # None for coverage.json, decoded once below
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"baseline file {path} is not valid JSON ({exc})") from None
        if doc is not None:
            return from_report_dict(doc, str(path))
        # A base is compared by per-file counts: coverage.json's summaries are enough.
        cov = load_json_numbers(path, PathMapper(root, tracked, aliases=lambda: project_aliases(root)))
        cov.sources = [str(path)]
        return Baseline(coverage=cov, info={"mode": "file", "description": f"file {path.name}"})
    cov = load_coverage([path], root=root, tracked=tracked)
    return Baseline(coverage=cov, info={"mode": "file", "description": f"file {path.name}"})


def from_report_dict(doc: dict, source: str) -> Baseline:
    """The base's per-file numbers and test outcomes from an earlier report.json: only its
    ``files`` and ``tests`` are read (a report of another covbot version, or one cut
    down to them, still serves as a baseline)."""
    if doc.get("schema_version") != 1:
        raise InputError(f"{source}: report schema_version {doc.get('schema_version')!r} is not supported (expected 1)")
    cov = CoverageSet()
    try:
        for f in doc["files"]:
            n = Numbers(int(f["statements"]), int(f["missing"]), int(f.get("branches", 0)),
                        int(f.get("missing_branches", 0)))
            cov.files[f["path"]] = FileNumbers(f["path"], n)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{source}: malformed files entry in report ({exc!r})") from None
    tests = None
    t = doc.get("tests")
    if isinstance(t, dict):
        failures = [x for x in t.get("failures", []) if isinstance(x, dict) and "id" in x]
        tests = TestOutcomes(total=t.get("total", 0), passed=t.get("passed", 0), failed=t.get("failed", 0),
                             errors=t.get("errors", 0), skipped=t.get("skipped", 0),
                             failing_ids={x["id"] for x in failures if x.get("outcome") != "flaky"},
                             flaky_ids={x["id"] for x in failures if x.get("outcome") == "flaky"})
    sha = (doc.get("head") or {}).get("sha") if isinstance(doc.get("head"), dict) else None
    return Baseline(coverage=cov, tests=tests,
                    info={"mode": "file", "commit": sha,
                          "description": f"report {Path(source).name}" + (f" of {sha[:7]}" if sha else "")})


def rerun(git, *, merge_base: str, config, root: Path, out_dir: Path, log=LOCAL) -> Baseline:
    """Run the suite on the merge-base in a temporary worktree and measure it.

    The base's own code must be imported, not the checkout's (an editable install
    points at the checkout): the worktree's source roots go first on PYTHONPATH, and
    every measured file must lie inside the worktree, or the run is refused.
    """
    with git.worktree(merge_base) as wt:
        wt = Path(os.path.realpath(wt))
        first = [wt / "src"] if (wt / "src").is_dir() else []
        first.append(wt)
        run = run_tests(config.test_command, root=wt, out_dir=out_dir / "base-run",
                        timeout=config.timeout, pythonpath_first=first, label=f"base tests at {merge_base[:7]}",
                        log=log)
        leaked = _files_outside(run.data_files, wt, Path(os.path.realpath(root)))
        if leaked:
            raise InputError(
                f"the base run on {merge_base[:7]} measured the checkout's files instead of the base's "
                f"(e.g. {leaked[0]}): the project is imported from the checkout",
                "install the project non-editable, or make its source importable from PYTHONPATH "
                "(a src/ layout is put first automatically)")
        wt_git = Git(wt)
        tracked = wt_git.tracked_files()
        cov = load_data_files(run.data_files, root=wt,
                              mapper=PathMapper(wt, tracked, aliases=lambda: project_aliases(wt)))
        results = load_results(run.junit_files, run.results_file)
        tests = outcomes(results) if results else None
    return Baseline(coverage=cov, tests=tests,
                    info={"mode": "rerun", "commit": merge_base, "distance": 0,
                          "description": f"tests rerun on merge-base {merge_base[:7]}"})


def _files_outside(data_files: list[Path], inside: Path, checkout: Path) -> list[str]:
    import coverage   # start-up time: only a base rerun needs coverage.py's data API

    bad = []
    inside_s, checkout_s = str(inside) + os.sep, str(checkout) + os.sep
    for p in data_files:
        data = coverage.CoverageData(basename=str(p))
        data.read()
        for f in data.measured_files():
            if not os.path.isabs(f):
                continue   # relative_files: relative to the run's directory, the worktree
            real = os.path.realpath(f)
            if real.startswith(checkout_s) and not real.startswith(inside_s):
                bad.append(f)
    return sorted(bad)
