"""Changed lines of a PR: parse ``git diff -U0`` into added line numbers per file.

One ``git diff`` call against the merge-base gives everything: new files, renames
(only the changed lines of a renamed file count), deletions, binary files (no lines).
"""

from __future__ import annotations

import re

from bot.model.diff import ChangedFile, Diff

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\\": "\\", '"': '"'}


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


_HUNKS = re.compile(r"\n@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def parse_diff(text: str) -> Diff:
    """Parse the output of ``git diff -U0 -M`` (a/ and b/ prefixes).

    A line of content in a hunk starts with ``+``, ``-`` or ``\\``, so a line that starts
    with ``diff --git `` or ``@@`` is always a header: each file's part is found by the
    first, its hunks by the second, and a hunk's added lines are the range its header
    gives (``+start,count``), taken whole instead of line by line. Only the few header
    lines of each file (before its first hunk, where ``---`` and ``+++`` are headers and
    not content) are read one by one.
    """
    diff = Diff()
    text = "\n" + text     # every header line now follows a newline
    find = text.find
    start = find("\ndiff --git ")
    while start != -1:
        end = find("\ndiff --git ", start + 1)
        stop = end if end != -1 else len(text)
        hunk = find("\n@@", start, stop)
        current = _parse_header(text[start + 1:hunk if hunk != -1 else stop].split("\n"))
        if hunk != -1:
            added = current.added_lines
            for first, count in _HUNKS.findall(text, hunk, stop):
                if count != "0":
                    first = int(first)
                    added.update(range(first, first + int(count or 1)))
        if current.status == "deleted":
            diff.deleted.append(current.old_path or current.path)
        elif current.path:
            diff.files[current.path] = current
        start = end
    return diff


def _parse_header(lines: list[str]) -> ChangedFile:
    """One file's header lines, from ``diff --git`` to its first hunk."""
    current = ChangedFile(path="")
    old_path: str | None = None
    # Paths are taken from ---/+++ or rename lines; the diff --git line is a fallback
    # for pure renames, binary files and mode changes that have neither.
    a, b = _split_diff_git(lines[0][len("diff --git "):])
    if b is not None:
        current.path = _strip_prefix(b, "b/")
        old_path = _strip_prefix(a, "a/")
    for line in lines[1:]:
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
    return current


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
