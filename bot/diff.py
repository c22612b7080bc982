"""Changed lines of a PR: parse ``git diff -U0`` into added line numbers per file.

One ``git diff`` call against the merge-base gives everything: new files, renames
(only the changed lines of a renamed file count), deletions, binary files (no lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.gitrepo import Git

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\\": "\\", '"': '"'}


@dataclass
class ChangedFile:
    path: str                      # path in HEAD ("" for a deletion: see old_path)
    old_path: str | None = None    # path in the base, when renamed or deleted
    status: str = "modified"       # added | modified | renamed | deleted
    added_lines: set[int] = field(default_factory=set)
    binary: bool = False


@dataclass
class Diff:
    files: dict[str, ChangedFile] = field(default_factory=dict)   # keyed by HEAD path
    deleted: list[str] = field(default_factory=list)              # base paths of deleted files

    @property
    def renames(self) -> dict[str, str]:
        """HEAD path → base path for renamed files."""
        return {f.path: f.old_path for f in self.files.values() if f.old_path and f.status == "renamed"}

    @property
    def num_changed_lines(self) -> int:
        return sum(len(f.added_lines) for f in self.files.values())


def unquote_path(raw: str) -> str:
    """Undo git's C-style quoting of a path (``"a/sp\\303\\251c ial"``)."""
    if not (len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"'):
        return raw
    body = raw[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 3 < len(body) + 1:
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
            out += _ESCAPES.get(nxt, nxt).encode()
            i += 2
            continue
        out += ch.encode("utf-8", "surrogateescape")
        i += 1
    return out.decode("utf-8", "surrogateescape")


def _strip_prefix(path: str, prefix: str) -> str:
    path = unquote_path(path.rstrip("\t"))
    return path[len(prefix):] if path.startswith(prefix) else path


def parse_diff(text: str) -> Diff:
    """Parse the output of ``git diff -U0 -M`` (a/ and b/ prefixes)."""
    diff = Diff()
    current: ChangedFile | None = None
    old_path: str | None = None
    new_line = 0
    remaining = 0        # added lines still to come in the current hunk
    removed = 0          # removed lines still to come: their text is content, never a header

    def finish() -> None:
        nonlocal current
        if current is None:
            return
        if current.status == "deleted":
            diff.deleted.append(current.old_path or current.path)
        elif current.path:
            diff.files[current.path] = current
        current = None

    for line in text.split("\n"):
        if remaining > 0 or removed > 0:
            # Inside a hunk: with -U0 only + and - lines (and "\ No newline") appear.
            if line.startswith("+") and remaining > 0:
                current.added_lines.add(new_line)
                new_line += 1
                remaining -= 1
                continue
            if line.startswith("-") and removed > 0:
                removed -= 1
                continue
            if line.startswith("\\"):
                continue
            remaining = removed = 0   # malformed count: fall through to the headers
        if line.startswith("diff --git "):
            finish()
            current = ChangedFile(path="")
            old_path = None
            # Paths are taken from ---/+++ or rename lines; this is a fallback for
            # pure renames, binary files and mode changes that have neither.
            rest = line[len("diff --git "):]
            a, b = _split_diff_git(rest)
            if b is not None:
                current.path = _strip_prefix(b, "b/")
                old_path = _strip_prefix(a, "a/")
            continue
        if current is None:
            continue
        if line.startswith("@@"):
            m = _HUNK.match(line)
            if m:
                removed = int(m.group(1)) if m.group(1) is not None else 1
                new_line = int(m.group(2))
                remaining = int(m.group(3)) if m.group(3) is not None else 1
            continue
        if line.startswith("new file mode"):
            current.status = "added"
        elif line.startswith("deleted file mode"):
            current.status = "deleted"
            current.old_path = old_path
        elif line.startswith("rename from "):
            current.old_path = unquote_path(line[len("rename from "):])
            current.status = "renamed"
        elif line.startswith("rename to "):
            current.path = unquote_path(line[len("rename to "):])
        elif line.startswith("--- "):
            src = line[4:]
            if src != "/dev/null":
                old_path = _strip_prefix(src, "a/")
                if current.status == "deleted":
                    current.old_path = old_path
        elif line.startswith("+++ "):
            dst = line[4:]
            if dst == "/dev/null":
                current.status = "deleted"
                current.old_path = old_path
            else:
                current.path = _strip_prefix(dst, "b/")
        elif line.startswith("Binary files "):
            current.binary = True
    finish()
    return diff


def _split_diff_git(rest: str) -> tuple[str, str | None]:
    """Split ``a/x b/x`` (possibly quoted) from a ``diff --git`` line."""
    if rest.startswith('"'):
        end = _closing_quote(rest)
        a = rest[:end + 1]
        b = rest[end + 2:]
        return a, b
    # Unquoted: both halves are equal for non-renames; split in the middle.
    if rest.endswith('"'):
        start = rest.rfind(' "')
        return rest[:start], rest[start + 1:]
    half = len(rest) // 2
    if rest[half] == " " and rest[:half][2:] == rest[half + 1:][2:]:
        return rest[:half], rest[half + 1:]
    idx = rest.find(" b/")
    if idx == -1:
        return rest, None
    return rest[:idx], rest[idx + 1:]


def _closing_quote(text: str) -> int:
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return len(text) - 1


def changed_lines(git: Git, merge_base: str, head: str | None = None) -> Diff:
    return parse_diff(git.diff_text(merge_base, head))


class DiffJob:
    """``changed_lines`` started: git computes the diff (into a temporary file) while the
    caller loads coverage; :meth:`result` waits for it and parses it."""

    def __init__(self, git: Git, merge_base: str, head: str | None = None):
        self._pending = git.start_diff(merge_base, head)

    def result(self) -> Diff:
        """The diff; raises what ``changed_lines`` raises (a GitError)."""
        return parse_diff(self._pending.result())
