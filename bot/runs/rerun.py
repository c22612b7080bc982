"""The flaky-detection pass: run the tests that failed once more, without coverage.

pytest's JUnit XML loses rerun attempts, and most suites do not use
pytest-rerunfailures, so after the head run covbot reruns just the failed tests (not
collection errors: a module that cannot be imported will not import on a second try)
in a separate pytest session, selected by node id through covbot's plugin
(``COVBOT_ONLY``), so it works whatever paths the test command names. A test that
passes there is flaky; one that fails again keeps its first failure's details.

The pass is on by default (``rerun-failures: false`` turns it off) and only runs when
covbot ran the suite itself: with ``--no-run`` covbot only reports on results that
earlier steps produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.model.errors import CovbotError
from bot.inputs.junit import load_results
from bot.inputs.results import Results, TestResult
from bot.runs.collect import LOCAL, run_tests
from bot.runs.joblog import JobLog

#: More failures than this is a broken build, not flakiness: do not spend time rerunning.
MAX_RERUN = 200
RERUN_BY = "covbot's rerun pass"


@dataclass
class RerunSummary:
    """What the rerun pass of failed tests did."""

    ran: bool
    rerun: int = 0
    passed: list[str] = field(default_factory=list)
    note: str = ""


def candidates(results: Results | list[TestResult]) -> list[str]:
    return [r.id for r in Results.of(results).notable()
            if r.outcome in ("failed", "error") and r.when != "collect" and "::" in r.id]


def rerun_failed(results: list[TestResult], *, command: str, root: Path, out_dir: Path,
                 timeout: float | None = None, pythonpath_first: list[Path] | None = None,
                 log: JobLog = LOCAL) -> RerunSummary:
    """Rerun the failed tests of ``results`` once and fold the outcomes into them."""
    ids = candidates(results)
    if not ids:
        return RerunSummary(ran=False, note="no failed tests to rerun")
    if len(ids) > MAX_RERUN:
        return RerunSummary(ran=False, note=f"{len(ids)} failed tests: more than {MAX_RERUN}, not rerun")
    out_dir.mkdir(parents=True, exist_ok=True)
    only = out_dir / "rerun-ids.txt"
    only.write_text("\n".join(ids) + "\n", encoding="utf-8")
    try:
        run = run_tests(command, root=root, out_dir=out_dir, timeout=timeout, measure=False,
                        pythonpath_first=pythonpath_first, extra_env={"COVBOT_ONLY": str(only)},
                        label=f"rerun of {len(ids)} failed test(s)", log=log)
        again = load_results(run.junit_files, run.results_file)
    except CovbotError as exc:
        log.message(f"covbot: the rerun pass failed, flaky tests are not detected: {exc.message}")
        return RerunSummary(ran=False, rerun=len(ids), note=f"the rerun pass failed: {exc.message}")
    return RerunSummary(ran=True, rerun=len(ids), passed=merge(results, again))


def merge(results: Results | list[TestResult], again: Results | list[TestResult]) -> list[str]:
    """Append the rerun's outcome to each test's attempts; return the ids that passed."""
    by_id = {r.id: r for r in again}
    passed = []
    for r in Results.of(results).notable():   # only failures are merged: never plain passes
        if r.outcome not in ("failed", "error") or r.when == "collect":
            continue
        rr = by_id.get(r.id)
        if rr is None or rr.outcome == "skipped":
            continue
        r.attempts = list(r.attempts) + list(rr.attempts or [rr.outcome])
        if rr.outcome == "passed":
            r.outcome = "passed"
            r.rerun_by = RERUN_BY
            passed.append(r.id)
    return passed
