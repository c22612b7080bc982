"""Gate rules over report data: each rule reads numbers the report already holds."""

from bot.stages.diff_coverage import diff_coverage
from bot.model.config import Config
from bot.model.diff import Diff
from bot.stages.gate import evaluate
from bot.model.coverage import CoverageSet
from bot.model.report import Report


def _report(failures):
    return Report(head={}, base={}, totals={}, base_totals=None, delta=None,
                  diff=diff_coverage(CoverageSet(), Diff()), files=[],
                  tests={"total": 3, "passed": 3 - len(failures), "failed": len(failures), "errors": 0,
                         "skipped": 0, "flaky": 0, "pass_rate": 50.0, "failures": failures})


def test_failures_without_base_results_block():
    verdict = evaluate(_report([{"id": "t::a", "status": "unknown", "category": "production bug"}]),
                       Config(gate=("new-failures",)))
    assert not verdict.passed
    assert "no base results" in verdict.reasons[0].message


def test_pre_existing_and_flaky_failures_do_not_block():
    failures = [{"id": "t::a", "status": "pre-existing", "category": "production bug"},
                {"id": "t::b", "status": "unknown", "category": "flaky"}]
    verdict = evaluate(_report(failures), Config(gate=("new-failures",)))
    assert verdict.passed, verdict.reasons


def test_new_failure_blocks():
    verdict = evaluate(_report([{"id": "t::a", "status": "new", "category": "test bug"}]),
                       Config(gate=("new-failures",)))
    assert not verdict.passed
    assert verdict.reasons[0].message.startswith("1 test(s) fail that did not fail on the base")
