"""The arithmetic of coverage: counts in, percentages out.

Every percentage covbot shows or writes is computed here, so the rounding rule is
decided in one place. The rule is coverage.py's own (``coverage.results.display_covered``):
round to the precision, except that a value that is not exactly 0 or 100 never rounds
to 0 or 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRECISION = 2

#: The largest count or line number a measurement can hold: more lines than any source
#: file has, more statements than any project. Past it a number is not a measurement
#: (and would overflow the float of a percentage).
MAX_COUNT = 2**31 - 1


def display_percent(pc: float, precision: int = PRECISION) -> float:
    """Round a percentage like coverage.py does for display."""
    near0 = 1.0 / 10**precision
    if 0 < pc < near0:
        pc = near0
    elif (100.0 - near0) < pc < 100.0:
        pc = 100.0 - near0
    else:
        pc = round(pc, precision)
    return float(f"{pc:.{precision}f}")


def percent(numerator: int, denominator: int) -> float | None:
    """Unrounded percentage, or ``None`` when there is nothing to measure."""
    if denominator <= 0:
        return None
    return 100.0 * numerator / denominator


def rounded_percent(numerator: int, denominator: int) -> float | None:
    pc = percent(numerator, denominator)
    return None if pc is None else display_percent(pc)


def delta(head: float | None, base: float | None) -> float | None:
    """The change from ``base`` to ``head`` percent, in points: the difference of the two
    figures as displayed (each rounded by :func:`display_percent`), so that every change
    covbot shows is the subtraction a reader does with the figures next to it, and a
    change computed from stored (displayed) figures, such as the trend's, is the same.
    """
    if head is None or base is None:
        return None
    return round(display_percent(head) - display_percent(base), PRECISION) + 0.0  # + 0.0: no -0.0


@dataclass(frozen=True, slots=True)
class Numbers:
    """Statement and branch counts of one file or of a whole report.

    Percentages follow coverage.py: ``percent_covered`` combines statements and
    branches, ``(covered statements + covered branches) / (statements + branches)``;
    a file with nothing to measure is 100% covered (coverage.py's convention for
    totals and files; diff coverage of nothing is ``None`` instead, see analyze).
    """

    statements: int = 0
    missing: int = 0
    branches: int = 0
    missing_branches: int = 0

    @property
    def covered_statements(self) -> int:
        return self.statements - self.missing

    @property
    def covered_branches(self) -> int:
        return self.branches - self.missing_branches

    @property
    def pc_covered(self) -> float:
        """Unrounded combined percentage (coverage.py's ``Numbers.pc_covered``)."""
        den = self.statements + self.branches
        if den == 0:
            return 100.0
        return 100.0 * (self.covered_statements + self.covered_branches) / den

    @property
    def pc_statements(self) -> float:
        if self.statements == 0:
            return 100.0
        return 100.0 * self.covered_statements / self.statements

    @property
    def percent_covered(self) -> float:
        return display_percent(self.pc_covered)

    @property
    def percent_statements(self) -> float:
        return display_percent(self.pc_statements)

    def impossible(self) -> str | None:
        """What makes these counts impossible, or ``None``: a count that is not a whole
        number from 0 to :data:`MAX_COUNT`, or more missing than there are. Valid counts
        give percentages within [0, 100]."""
        named = (("statements", self.statements), ("missing statements", self.missing),
                 ("branches", self.branches), ("missing branches", self.missing_branches))
        for name, value in named:
            if type(value) is not int or not 0 <= value <= MAX_COUNT:
                return f"{name} is {value!r}, not a count from 0 to {MAX_COUNT}"
        if self.missing > self.statements:
            return f"{self.missing} missing statements of {self.statements}"
        if self.missing_branches > self.branches:
            return f"{self.missing_branches} missing branches of {self.branches}"
        return None

    @property
    def uncovered(self) -> int:
        """Statements not yet covered: the unit of "work left" in tier plans."""
        return self.missing

    def __add__(self, other: "Numbers") -> "Numbers":
        return Numbers(
            self.statements + other.statements,
            self.missing + other.missing,
            self.branches + other.branches,
            self.missing_branches + other.missing_branches,
        )

    def to_dict(self) -> dict:
        return {
            "statements": self.statements,
            "covered_statements": self.covered_statements,
            "missing_statements": self.missing,
            "branches": self.branches,
            "covered_branches": self.covered_branches,
            "percent_covered": self.percent_covered,
            "percent_statements": self.percent_statements,
        }


def to_reach(target: float, numbers: Numbers) -> int:
    """Statements and branches still to cover for ``numbers``' combined figure (coverage.py's,
    :attr:`Numbers.pc_covered`) to reach ``target`` percent: the smallest k with
    (covered statements + covered branches + k) / (statements + branches) >= target.
    Without branch data this is :func:`statements_to_reach`. Zero exactly when the
    unrounded figure reaches the target, so "meets its target" is "nothing to cover"."""
    den = numbers.statements + numbers.branches
    if den == 0:
        return 0
    needed = math.ceil(target * den / 100.0 - 1e-9)
    return max(0, needed - numbers.covered_statements - numbers.covered_branches)


def statements_to_reach(target: float, numbers: Numbers) -> int:
    """Statements still to cover for ``numbers`` to reach ``target`` percent of statements.

    Targets are about statements (what a team can count and plan), so this uses
    statement coverage: the smallest k with (covered + k) / statements >= target.
    """
    if numbers.statements == 0:
        return 0
    # Integer arithmetic avoids float edge cases: need covered*100 >= target*statements.
    needed = math.ceil(target * numbers.statements / 100.0 - 1e-9)
    return max(0, needed - numbers.covered_statements)
