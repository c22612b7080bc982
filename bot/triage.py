"""Failing-test triage: pass rate, failures grouped and classified, new vs pre-existing."""

from __future__ import annotations

from pathlib import Path

from bot.junit import TestResult, load_results
from bot.model import TestOutcomes
from bot.numbers import rounded_percent


def outcomes(results: list[TestResult]) -> TestOutcomes:
    o = TestOutcomes()
    for r in results:
        o.total += 1
        if r.outcome == "passed":
            o.passed += 1
            if r.flaky:
                o.flaky_ids.add(r.id)
        elif r.outcome == "failed":
            o.failed += 1
            o.failing_ids.add(r.id)
        elif r.outcome == "error":
            o.errors += 1
            o.failing_ids.add(r.id)
        else:
            o.skipped += 1
    return o


def outcomes_from_run(run) -> TestOutcomes | None:
    results = load_results(run.junit_files, run.results_file)
    return outcomes(results) if results else None


def build_tests(results: list[TestResult], *, base: TestOutcomes | None, measured: set[str],
                root: Path | None = None, config=None) -> dict:
    o = outcomes(results)
    executed = o.total - o.skipped
    failures = []
    base_failing = base.failing_ids if base is not None else None
    for r in results:
        if r.outcome not in ("failed", "error"):
            continue
        status = "unknown" if base_failing is None else ("pre-existing" if r.id in base_failing else "new")
        failures.append({
            "id": r.id, "file": r.file, "category": "unclassified", "reason": "",
            "status": status, "signature": f"{r.exc_type or r.outcome}: {r.message.splitlines()[0] if r.message else ''}",
            "message": r.message, "location": None, "outcome": r.outcome,
        })
    fixed = []
    if base_failing is not None:
        now = {r.id: r.outcome for r in results}
        fixed = sorted(i for i in base_failing if now.get(i) == "passed")
    return {
        "total": o.total, "passed": o.passed, "failed": o.failed, "errors": o.errors,
        "skipped": o.skipped, "flaky": len(o.flaky_ids),
        "pass_rate": rounded_percent(o.passed, executed),
        "failures": failures, "groups": [], "fixed": [{"id": i} for i in fixed],
    }
