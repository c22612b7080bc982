"""Plain data that flows between the stages: measured coverage of one run."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.numbers import Numbers


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


@dataclass
class CoverageSet:
    """All measured files of one run, keyed by repo-relative path."""

    files: dict[str, FileCoverage] = field(default_factory=dict)
    has_branches: bool = False
    sources: list[str] = field(default_factory=list)   # the files it was read from
    #: Totals as the producing tool reported them, when it did (coverage.json's totals);
    #: used to check that covbot's sum agrees with coverage.py.
    unmapped: list[str] = field(default_factory=list)  # recorded paths outside the repo

    @property
    def totals(self) -> Numbers:
        total = Numbers()
        for f in self.files.values():
            total = total + f.numbers
        return total


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
