"""Plain data that flows between the stages: measured coverage of one run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter

from bot.model.contexts import TestContexts
from bot.model.numbers import Numbers


@dataclass(slots=True)
class FileCoverage:
    """Coverage of one source file, with repo-relative ``path``.

    ``statements`` and ``missing`` are sets of line numbers (``missing`` ⊆
    ``statements``). ``branch_lines`` maps a line that has branches to
    ``(branches, missing branches)``; it is empty without branch coverage.
    ``branches`` / ``missing_branches`` are the file's totals, kept separately because
    a source may give totals without per-line detail.
    """

    path: str
    statements: set[int]
    missing: set[int]
    branch_lines: dict[int, tuple[int, int]] = field(default_factory=dict)
    branches: int = 0
    missing_branches: int = 0

    @property
    def numbers(self) -> Numbers:
        return Numbers(len(self.statements), len(self.missing), self.branches, self.missing_branches)

    def lines_among(self, lines: set[int]) -> tuple[set[int], set[int]]:
        """Of ``lines``, those that are statements, and those that are missing."""
        return lines & self.statements, lines & self.missing

    def sorted_missing(self) -> list[int]:
        """The missing lines, in order."""
        return sorted(self.missing)

    def partial_lines(self) -> list[int]:
        """The lines with a missing branch, in order."""
        return sorted(line for line, (_, missed) in self.branch_lines.items() if missed)


def branch_lines_of(executed_arcs: list, missing_arcs: list) -> dict[int, tuple[int, int]]:
    """Per line with branches, ``(branches, missing branches)``, from coverage.py's arcs
    (``[from, to]`` pairs): counted and zipped in C."""
    if not executed_arcs and not missing_arcs:
        return {}
    total = Counter(map(_first, chain(executed_arcs, missing_arcs)))
    lost = Counter(map(_first, missing_arcs))
    return dict(zip(total, zip(total.values(), map(lost.get, total, repeat(0)))))


_first = itemgetter(0)


class CountedFileCoverage(FileCoverage):
    """A file read from coverage.json, counted at once and made into sets on first use.

    coverage.py writes each file's executed and missing lines sorted and disjoint, and
    its own counts in the file's summary; when the lists agree with those counts, the
    file's numbers are their lengths. Most files of a large report are only counted
    (totals, deltas, tiers), so their sets (``statements``, ``missing``,
    ``branch_lines``) are built only for the files a caller looks into, such as the
    changed ones.
    """

    __slots__ = ("_lists", "_counts")

    def __init__(self, path: str, executed: list[int], missing: list[int], executed_branches: list,
                 missing_branches: list, branches: int = 0, missing_branch_count: int = 0):
        self.path = path
        self.branches = branches
        self.missing_branches = missing_branch_count
        self._lists = (executed, missing, executed_branches, missing_branches)
        self._counts = [len(executed) + len(missing), len(missing)]   # statements, missing

    @property
    def numbers(self) -> Numbers:
        statements, missing = self._counts
        return Numbers(statements, missing, self.branches, self.missing_branches)

    def __eq__(self, other) -> bool:   # equal to the plain file with the same contents
        if not isinstance(other, FileCoverage):
            return NotImplemented
        return ((self.path, self.statements, self.missing, self.branch_lines, self.branches, self.missing_branches)
                == (other.path, other.statements, other.missing, other.branch_lines, other.branches,
                    other.missing_branches))

    __hash__ = None

    def lines_among(self, lines: set[int]) -> tuple[set[int], set[int]]:
        try:   # sets made or given since: they answer
            _STATEMENTS.__get__(self), _MISSING.__get__(self)
        except AttributeError:
            executed, missing = self._lists[0], self._lists[1]
            missed = lines.intersection(missing)          # no set of the file's lines is made
            return lines.intersection(executed) | missed, missed
        return super().lines_among(lines)

    def sorted_missing(self) -> list[int]:
        """The missing lines, in order (as coverage.py wrote them)."""
        return self._lists[1]

    def partial_lines(self) -> list[int]:
        return sorted({arc[0] for arc in self._lists[3]})

    def _made(self, slot, make):
        """The value in ``slot``, made and kept on first use."""
        try:
            return slot.__get__(self)
        except AttributeError:
            value = make()
            slot.__set__(self, value)
            return value

    def _statements(self) -> set[int]:
        return self._made(_STATEMENTS, lambda: set(self._lists[0]).union(self._lists[1]))

    def _missing(self) -> set[int]:
        return self._made(_MISSING, lambda: set(self._lists[1]))

    def _branch_lines(self) -> dict[int, tuple[int, int]]:
        return self._made(_BRANCH_LINES, lambda: branch_lines_of(self._lists[2], self._lists[3]))

    def _set_statements(self, value: set[int]) -> None:
        _STATEMENTS.__set__(self, value)
        self._counts[0] = len(value)

    def _set_missing(self, value: set[int]) -> None:
        _MISSING.__set__(self, value)
        self._counts[1] = len(value)

    statements = property(_statements, _set_statements)
    missing = property(_missing, _set_missing)
    branch_lines = property(_branch_lines, lambda self, value: _BRANCH_LINES.__set__(self, value))

    def __reduce__(self):   # pickled (to a forked reader's parent) as the plain file it stands for
        return (FileCoverage, (self.path, self.statements, self.missing, self.branch_lines, self.branches,
                               self.missing_branches))


_STATEMENTS, _MISSING, _BRANCH_LINES = FileCoverage.statements, FileCoverage.missing, FileCoverage.branch_lines


@dataclass
class CoverageSet:
    """All measured files of one run, keyed by repo-relative path."""

    files: dict[str, FileCoverage] = field(default_factory=dict)
    has_branches: bool = False
    sources: list[str] = field(default_factory=list)   # the files it was read from
    #: Recorded paths of measured files that are not counted: no file git tracks, and
    #: coverage.py could not report on them here (their source is elsewhere).
    unmapped: list[str] = field(default_factory=list)
    #: Paths in ``files`` that git does not track (a generated module, a file outside
    #: the checkout): counted in the totals as coverage.py counts them, never in the diff.
    untracked: set[str] = field(default_factory=set)
    #: Which tests ran each line (coverage.py's dynamic contexts), when the data has them.
    contexts: TestContexts | None = None

    def tracked_paths(self) -> list[str]:
        """The measured files git tracks."""
        return [p for p in self.files if p not in self.untracked]

    @property
    def totals(self) -> Numbers:
        """The files' counts summed (field by field: one Numbers made, not one a file)."""
        nums = [f.numbers for f in self.files.values()]
        return Numbers(sum([n.statements for n in nums]), sum([n.missing for n in nums]),
                       sum([n.branches for n in nums]), sum([n.missing_branches for n in nums]))


@dataclass(slots=True)
class FileNumbers:
    """A file known only by its counts (from a stored baseline or an earlier report)."""

    path: str
    numbers: Numbers


@dataclass
class TestOutcomes:
    """What the tests of one run did, in the compact form a baseline keeps."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failing_ids: set[str] = field(default_factory=set)   # failed or erroring test ids
    flaky_ids: set[str] = field(default_factory=set)


@dataclass
class Baseline:
    """The base side of a comparison, however it was obtained."""

    coverage: CoverageSet | None
    tests: TestOutcomes | None = None
    info: dict = field(default_factory=dict)   # mode, commit, distance, description, ...
