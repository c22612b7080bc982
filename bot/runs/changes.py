"""The PR's changed lines: one ``git diff -U0 -M`` against the merge-base, parsed by
:mod:`bot.inputs.git_diff`; started in the background while the coverage loads."""

from __future__ import annotations

from bot.inputs.git_diff import parse_diff
from bot.model.diff import Diff
from bot.runs.git import Git


def changed_lines(git: Git, merge_base: str, head: str | None = None) -> Diff:
    """The changed lines of HEAD (or ``head``) against ``merge_base``; raises GitError."""
    return parse_diff(git.diff_text(merge_base, head))


class DiffJob:
    """``changed_lines`` started: git computes the diff (into a temporary file) while the
    caller loads coverage; :meth:`result` waits for it and parses it."""

    def __init__(self, git: Git, merge_base: str, head: str | None = None):
        self._args = (git, merge_base, head)
        try:
            self._pending = git.start_diff(merge_base, head)
        except OSError:   # no temporary file (a read-only /tmp): run it when asked instead
            self._pending = None

    def result(self) -> Diff:
        """The diff; raises what ``changed_lines`` raises (a GitError)."""
        if self._pending is None:
            return changed_lines(*self._args)
        return parse_diff(self._pending.result())
