"""The gate: policy over a report, giving a verdict with human-readable reasons.

Each rule looks at numbers already in the report; it never computes coverage itself.
"""

from __future__ import annotations

from bot.model.config import Config
from bot.model.report import Report, RuleResult, Verdict


def _fmt(pc: float | None) -> str:
    return "n/a" if pc is None else f"{pc:.2f}%"


def rule_diff(report: Report, config: Config) -> RuleResult:
    d = report.diff
    if d.percent_covered is None:
        return RuleResult("diff", "skipped", f"diff coverage n/a: {d.note}")
    if d.num_lines < config.min_lines:
        return RuleResult("diff", "skipped",
                          f"diff coverage {_fmt(d.percent_covered)} of {d.num_lines} changed executable "
                          f"lines; the rule applies from {config.min_lines} lines")
    if d.percent_covered < config.diff_threshold:
        return RuleResult("diff", "failed",
                          f"diff coverage {_fmt(d.percent_covered)} is below the {config.diff_threshold:g}% "
                          f"target ({d.num_violations} of {d.num_lines} changed lines not covered)")
    return RuleResult("diff", "passed",
                      f"diff coverage {_fmt(d.percent_covered)} meets the {config.diff_threshold:g}% target")


def rule_total_drop(report: Report, config: Config) -> RuleResult:
    if report.delta is None:
        return RuleResult("total-drop", "skipped", "no baseline: total coverage change unknown")
    drop = -report.delta
    if drop > config.total_drop:
        return RuleResult("total-drop", "failed",
                          f"total coverage dropped {drop:.2f} points "
                          f"({_fmt(report.base_totals['percent_covered'])} → {_fmt(report.totals['percent_covered'])}), "
                          f"more than the {config.total_drop:g} allowed")
    return RuleResult("total-drop", "passed",
                      f"total coverage {_fmt(report.totals['percent_covered'])} ({report.delta:+.2f} points)")


def rule_new_failures(report: Report, config: Config) -> RuleResult:
    tests = report.tests
    if not tests:
        return RuleResult("new-failures", "skipped", "no test results")
    # A flaky test (passed on a rerun, or known flaky on the base) is reported, not blocking.
    blocking = [f for f in tests.get("failures", [])
                if f.get("category") != "flaky" and f.get("outcome") != "flaky"]
    new = [f for f in blocking if f.get("status") == "new"]
    if new:
        return RuleResult("new-failures", "failed",
                          f"{len(new)} test(s) fail that did not fail on the base")
    # Without base results nobody can tell new from pre-existing: a red suite must not
    # pass silently, so every (non-flaky) failure counts, and the reason says why.
    unknown = [f for f in blocking if f.get("status") == "unknown"]
    if unknown:
        return RuleResult("new-failures", "failed",
                          f"{len(unknown)} test(s) fail and there are no base results to tell new "
                          "failures from pre-existing ones (baseline: none)")
    return RuleResult("new-failures", "passed", "no new failing tests")


def rule_pass_rate(report: Report, config: Config) -> RuleResult:
    tests = report.tests
    if not tests or tests.get("pass_rate") is None:
        return RuleResult("pass-rate", "skipped", "no test results")
    rate = tests["pass_rate"]
    if rate < config.pass_rate:
        return RuleResult("pass-rate", "failed",
                          f"pass rate {rate:.2f}% is below the {config.pass_rate:g}% target")
    return RuleResult("pass-rate", "passed", f"pass rate {rate:.2f}%")


def rule_tier_regression(report: Report, config: Config) -> RuleResult:
    regressions = report.tier_changes.get("regressions") if report.tier_changes else None
    if regressions is None:
        return RuleResult("tier-regression", "skipped", "no baseline: tier changes unknown")
    if regressions:
        names = ", ".join(r["path"] for r in regressions[:3])
        more = f" and {len(regressions) - 3} more" if len(regressions) > 3 else ""
        return RuleResult("tier-regression", "failed",
                          f"{len(regressions)} file(s) fell below their tier target: {names}{more}")
    return RuleResult("tier-regression", "passed", "no file fell below its tier target")


RULES = {
    "diff": rule_diff,
    "total-drop": rule_total_drop,
    "new-failures": rule_new_failures,
    "pass-rate": rule_pass_rate,
    "tier-regression": rule_tier_regression,
}


def rule_inputs(report: Report, config: Config) -> RuleResult:
    if report.input_errors:
        return RuleResult("inputs", "failed",
                          f"an input could not be used, the numbers are incomplete: {report.input_errors[0]}")
    return RuleResult("inputs", "passed", "every input was used")


#: Rules that judge figures an incomplete input makes partial: not judged then (a
#: killed run's coverage "drop" is no regression); a new failure seen is still one.
PARTIAL_SENSITIVE = ("diff", "total-drop", "pass-rate", "tier-regression")


def evaluate(report: Report, config: Config) -> Verdict:
    reasons = []
    for name in config.gate:
        if report.input_errors and name in PARTIAL_SENSITIVE:
            reasons.append(RuleResult(name, "skipped", "not judged: an input is incomplete, so these numbers "
                                                       "are partial"))
        else:
            reasons.append(RULES[name](report, config))
    # Always on, whatever the configured rules: numbers from incomplete inputs must not
    # turn the check green.
    if report.input_errors:
        reasons.append(rule_inputs(report, config))
    return Verdict(passed=not any(r.failed for r in reasons), reasons=reasons)
