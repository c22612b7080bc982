"""A failure's traceback as frames of the project: each entry mapped to a repository
path (whatever the machine that ran the tests called it) and marked as a test file,
a measured source file, or external (the standard library, site-packages)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.inputs.results import TestResult
from bot.inputs.tracebacks import text_entries


@dataclass
class Frame:
    """One traceback frame, mapped to the repository and classified."""

    path: str          # repo-relative for project files, as recorded otherwise
    line: int
    func: str
    kind: str          # source | test | project | external

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


_EXTERNAL_MARKERS = ("site-packages/", "dist-packages/", "/lib/python", "<frozen", "<string>")


_TEST_DIRS = {"tests", "test", "testing"}


@lru_cache(maxsize=8192)
def is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(part in _TEST_DIRS for part in path.split("/")[:-1])


class FrameMapper:
    """Maps recorded traceback paths to repo files and says what kind of file each is."""

    def __init__(self, root: Path | None, measured: set[str], known: set[str] = frozenset()):
        self.root = str(root).rstrip("/") + "/" if root else None
        self.measured = set(measured)
        self.known = known
        self._rel_cache: dict[str, str | None] = {}
        self._by_name: dict[str, list[str]] | None = None

    @property
    def by_name(self) -> dict[str, list[str]]:
        """Project files by base name (made when a path recorded elsewhere needs it)."""
        if self._by_name is None:
            self._by_name = {}
            for p in self.measured | set(self.known):
                self._by_name.setdefault(p.rsplit("/", 1)[-1], []).append(p)
        return self._by_name

    def rel(self, path: str) -> str | None:
        """Repo-relative path, or None for a file outside the project."""
        try:
            return self._rel_cache[path]
        except KeyError:
            rel = self._rel_cache[path] = self._rel(path)
            return rel

    def _rel(self, path: str) -> str | None:
        path = path.replace("\\", "/")
        if any(m in path for m in _EXTERNAL_MARKERS):
            return None
        if path.startswith("./"):
            path = path[2:]
        if not path.startswith("/") and not re.match(r"^[A-Za-z]:/", path):
            return path
        if self.root and path.startswith(self.root):
            return path[len(self.root):]
        # Recorded elsewhere (a container, another runner): the longest known suffix.
        best = None
        for cand in self.by_name.get(path.rsplit("/", 1)[-1], []):
            if path.endswith("/" + cand) and (best is None or len(cand) > len(best)):
                best = cand
        return best

    def frames(self, r: TestResult) -> list[Frame]:
        out = []
        for entry in r.entries:
            try:
                raw, line, msg = str(entry[0]), int(entry[1]), str(entry[2]) if len(entry) > 2 else ""
            except (TypeError, ValueError, IndexError):
                continue
            rel = self.rel(raw)
            if rel is None:
                kind, path = "external", raw
            elif rel in self.measured and not is_test_path(rel):
                kind, path = "source", rel
            elif is_test_path(rel):
                kind, path = "test", rel
            else:
                kind, path = "project", rel
            out.append(Frame(path, line, msg[3:] if msg.startswith("in ") else msg, kind))
        return out


def innermost_project(frames: list[Frame]) -> Frame | None:
    for f in reversed(frames):
        if f.kind != "external":
            return f
    return None


def project_traceback(r: TestResult, frames: list[Frame], limit: int = 4000) -> str:
    """The failure trimmed to project frames: ``path:line in func`` and the statement
    that was running there (from pytest's long report), then the error lines."""
    stmts = _frame_statements(r.text or "")
    lines = []
    for f in frames:
        if f.kind == "external":
            continue
        lines.append(f"{f.path}:{f.line} in {f.func}" if f.func and f.func != r.exc_type else f"{f.path}:{f.line}")
        stmt = next((st for (path, line, st) in stmts if line == f.line and path.replace("\\", "/").endswith(f.path)),
                    None)
        if stmt:
            lines.append(f"    > {stmt}")
    msg = (r.message or "").strip()
    if msg:
        lines.append(msg)
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame_statements(text: str) -> list[tuple[str, int, str]]:
    """(path, line, statement) per entry of pytest's long report: each entry's source
    lines, the running one marked ``>``, end with its ``path:line: ...`` line."""

    out = []
    current = None
    for line in text.splitlines():
        if line.startswith(">"):
            current = line[1:].strip()
            continue
        entry = text_entries(line) if line and not line.startswith((" ", "E ")) else []
        if entry:
            path, lineno, _ = entry[0]
            if current:
                out.append((path, lineno, current))
            current = None
    return out
