"""The arithmetic agrees with coverage.py's own ``coverage.results`` on every count."""

from __future__ import annotations

import coverage.results as cr
import pytest

from bot.model.numbers import Numbers, delta, display_percent, percent, rounded_percent, statements_to_reach, to_reach


def _coverage_numbers(n: Numbers) -> cr.Numbers:
    return cr.Numbers(precision=2, n_files=1, n_statements=n.statements, n_missing=n.missing,
                      n_branches=n.branches, n_missing_branches=n.missing_branches)


@pytest.mark.parametrize("counts", [
    (10, 3, 4, 1), (3, 0, 0, 0), (7, 7, 2, 2), (0, 0, 0, 0), (1, 0, 0, 0), (100000, 1, 0, 0),
    (100000, 99999, 0, 0), (57828, 44736, 0, 0), (64, 21, 24, 13), (3, 1, 0, 0), (6, 5, 2, 1),
])
def test_numbers_match_coverage_results(counts):
    n = Numbers(*counts)
    ref = _coverage_numbers(n)
    assert n.pc_covered == pytest.approx(ref.pc_covered, abs=1e-12)
    assert f"{n.percent_covered:.2f}" == ref.pc_covered_str


@pytest.mark.parametrize("pc", [0, 0.001, 0.004999, 0.005, 0.0051, 12.344999, 12.345, 12.3451, 66.665,
                                99.99, 99.994, 99.995, 99.999, 99.9999999, 100])
def test_display_percent_is_coverage_display_covered(pc):
    assert f"{display_percent(pc):.2f}" == cr.display_covered(pc, 2)


def test_never_zero_or_hundred_unless_exact():
    assert display_percent(1e-9) == 0.01
    assert display_percent(100 - 1e-9) == 99.99
    assert display_percent(0.0) == 0.0 and display_percent(100.0) == 100.0


def test_nothing_to_measure():
    assert percent(0, 0) is None and rounded_percent(0, 0) is None     # diff coverage: n/a
    assert Numbers().percent_covered == 100.0                          # coverage.py's convention


def test_delta_is_the_difference_of_the_displayed_figures_and_never_minus_zero():
    # 2/3 and 1/3 displayed are 66.67 and 33.33: the change a reader works out from them
    # is 33.34 (the real values differ by 33.333...)
    assert delta(200 / 3, 100 / 3) == 33.34 == round(display_percent(200 / 3) - display_percent(100 / 3), 2)
    assert delta(50.0, 50.0) == 0.0 and str(delta(50.0, 50.000000001)) == "0.0"
    assert delta(None, 10.0) is None and delta(10.0, None) is None


def test_addition_is_countwise():
    assert Numbers(10, 3, 4, 1) + Numbers(5, 5, 2, 0) == Numbers(15, 8, 6, 1)


@pytest.mark.parametrize("target, statements, missing, expected", [
    (50, 100, 60, 10), (50, 100, 50, 0), (50, 100, 10, 0), (80, 57828, 44736, 33171), (70, 3, 3, 3),
    (33.3, 1000, 1000, 333),
])
def test_statements_to_reach(target, statements, missing, expected):
    got = statements_to_reach(target, Numbers(statements, missing))
    assert got == expected
    covered = statements - missing
    # smallest k such that (covered + k) / statements >= target
    assert 100 * (covered + got) >= target * statements - 1e-9
    assert got == 0 or 100 * (covered + got - 1) < target * statements


@pytest.mark.parametrize("target, counts, expected", [
    (50, (10, 6, 0, 0), 1),      # no branches: statements, as statements_to_reach
    (50, (10, 6, 10, 10), 6),    # 4 + 0 of 20 covered: 6 more statements or branches for 10
    (50, (10, 0, 10, 10), 0),    # 10 of 20: exactly 50%
    (80, (0, 0, 0, 0), 0),       # nothing to cover
    (100, (3, 1, 2, 1), 2),
])
def test_to_reach_counts_statements_and_branches(target, counts, expected):
    n = Numbers(*counts)
    assert to_reach(target, n) == expected
    # covering that many reaches the target, one fewer does not
    den, covered = n.statements + n.branches, n.covered_statements + n.covered_branches
    if den:
        assert 100 * (covered + expected) >= target * den
        assert expected == 0 or 100 * (covered + expected - 1) < target * den
