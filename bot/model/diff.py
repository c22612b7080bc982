"""The changed files of a PR and the lines each adds, against the merge-base."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass
class ChangedFile:
    """One file of the diff: its paths, status and the line numbers it adds."""

    path: str                      # path in HEAD ("" for a deletion: see old_path)
    old_path: str | None = None    # path in the base, when renamed or deleted
    status: str = "modified"       # added | modified | renamed | deleted
    added_lines: set[int] = field(default_factory=set)
    binary: bool = False


@dataclass
class Diff:
    """The changed files of a PR against its merge-base."""

    files: dict[str, ChangedFile] = field(default_factory=dict)   # keyed by HEAD path
    deleted: list[str] = field(default_factory=list)              # base paths of deleted files

    @property
    def renames(self) -> dict[str, str]:
        """HEAD path → base path for renamed files."""
        return {f.path: f.old_path for f in self.files.values() if f.old_path and f.status == "renamed"}

    @property
    def num_changed_lines(self) -> int:
        return sum(len(f.added_lines) for f in self.files.values())


def ranges(lines: Iterable[int]) -> list[tuple[int, int]]:
    """Contiguous runs of line numbers, sorted: [1,2,3,7] → [(1,3),(7,7)]."""
    out: list[tuple[int, int]] = []
    for n in sorted(set(lines)):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def range_text(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}-{end}"
