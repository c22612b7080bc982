"""Map file paths recorded on another machine, or in an installed copy, to repo-relative paths.

Coverage recorded in a container (``/github/workspace/src/x.py``), on a runner
(``/home/runner/work/r/r/src/x.py``), on Windows (``C:\\a\\src\\x.py``) or with
``relative_files`` on, is matched against the files git tracks, in this order:

1. the path names a tracked file (relative to the checkout, or under it);
2. the project's coverage ``[paths]`` (coverage.py's own aliases, as ``coverage
   combine`` applies them) lead to a tracked file;
3. an installed copy: tox and non-editable installs measure
   ``site-packages/<pkg>/…`` (also ``dist-packages``, ``.tox/*/lib/python*/site-packages``,
   ``build/lib``); what follows that folder is matched against the end of the tracked
   paths (``pkg/calc.py`` is ``src/pkg/calc.py``), the shortest such path winning;
4. the longest suffix of the recorded path that is a tracked file.

A prefix found once is reused for every other path that starts with it, so mapping is
one dictionary lookup per file. A measured file that maps to no tracked file still
counts (coverage.py's totals are over every measured file): :meth:`PathMapper.place`
names it by its path in the checkout when it is one (a generated ``_version.py``), else
by the path recorded.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from typing import Callable

#: The folder an installed copy of a project's packages lies in.
_INSTALLED = re.compile(r"/(?:site-packages|dist-packages|build/lib(?:\.[^/]*)?)/")


class PathMapper:
    def __init__(self, root: str | os.PathLike, tracked: list[str] | set[str],
                 aliases: Callable[[], object | None] | None = None):
        """``aliases``: makes the project's coverage ``[paths]`` aliases (an object with
        coverage.py's ``PathAliases.map``), or None; called at the first path that
        needs them."""
        self.root = os.path.realpath(str(root))
        self.tracked = set(tracked)
        self._prefixes: list[str] = []   # recorded prefixes known to map onto the root
        self._subdirs: list[str] = []    # repo folders that relative recorded paths start from
        self._by_name: dict[str, list[str]] | None = None
        self._installed: dict[str, str] = {}   # installed package folder → its tracked folder
        self._make_aliases = aliases
        self._aliases: list = []         # [] not made yet; [None] none configured

    def map(self, recorded: str) -> str | None:
        """Repo-relative POSIX path of the tracked file ``recorded`` is, or ``None``."""
        found = self._direct(recorded)
        if found is not None:
            return found or None
        path = recorded.replace("\\", "/")
        return self._aliased(recorded) or self._installed_copy(path) or self._longest_suffix(path)

    def place(self, recorded: str) -> tuple[str, bool]:
        """``(path, tracked)``: the tracked file ``recorded`` maps to, or else the name it
        is counted under: its path relative to the checkout when it lies in it (or its
        installed package maps there), else the recorded path."""
        rel = self.map(recorded)
        if rel is not None:
            return rel, True
        path = recorded.replace("\\", "/") if not os.path.exists(recorded) else recorded
        if not _is_absolute(path):
            norm = str(PurePosixPath(path))
            return (norm[2:] if norm.startswith("./") else norm), False
        if path.startswith(self.root + "/"):
            inside = path[len(self.root) + 1:]
            m = _last_installed(inside)
            if m is None:
                return inside, False
        m = _last_installed(path)
        if m is not None:
            tail = path[m.end():]
            folder = self._installed.get(path[:m.end()] + tail.split("/", 1)[0])
            if folder is not None and os.path.isfile(os.path.join(self.root, folder + tail)):
                return folder + tail, False
            if path.startswith(self.root + "/"):
                return path[len(self.root) + 1:], False
        return recorded, False

    # -- the steps -------------------------------------------------------------------

    def _direct(self, recorded: str) -> str | None:
        """The tracked file ``recorded`` names directly, ``""`` when it is a file of the
        checkout git does not track (no other step applies), ``None`` otherwise."""
        if "\\" in recorded:
            # A backslash is a Windows separator, or part of a POSIX file name: try the
            # name as it is first.
            exact = self._exact(recorded)
            if exact is not None:
                return exact
        path = recorded.replace("\\", "/")
        if not _is_absolute(path):    # relative_files = true
            if path in self.tracked:     # git's names are already normalised
                return path
            norm = str(PurePosixPath(path))
            if norm.startswith("./"):
                norm = norm[2:]
            if norm in self.tracked:
                return norm
            if os.path.isfile(os.path.join(self.root, norm)) and _last_installed("/" + norm) is None:
                return ""    # an untracked file of this checkout, named as it is
            return self._in_subdir(norm)
        real_root = self.root.replace("\\", "/")
        if path.startswith(real_root + "/"):
            rel = path[len(real_root) + 1:]
            if rel in self.tracked or not self.tracked:
                return rel
            if _last_installed("/" + rel) is None and os.path.isfile(path):
                return ""    # an untracked file of this checkout (a generated module)
        for prefix in self._prefixes:
            if path.startswith(prefix):
                rel = path[len(prefix):]
                if rel in self.tracked:
                    return rel
        return None

    def _aliased(self, recorded: str) -> str | None:
        """The tracked file the project's coverage ``[paths]`` map ``recorded`` to."""
        if not self._aliases:
            self._aliases.append(self._make_aliases() if self._make_aliases is not None else None)
        aliases = self._aliases[0]
        if aliases is None:
            return None
        mapped = aliases.map(recorded, exists=lambda new: bool(self._direct(new)))
        return self._direct(mapped) or None if mapped != recorded else None

    def _installed_copy(self, path: str) -> str | None:
        """``…/site-packages/pkg/calc.py`` → the shortest tracked path ending in ``pkg/calc.py``."""
        m = _last_installed(path)
        if m is None:
            return None
        tail = path[m.end():]
        key = path[:m.end()] + tail.split("/", 1)[0]
        folder = self._installed.get(key)
        if folder is not None and folder + tail in self.tracked:
            return folder + tail
        matches = [t for t in self._names().get(tail.rsplit("/", 1)[-1], ()) if t == tail or t.endswith("/" + tail)]
        if not matches:
            return None
        depth = min(t.count("/") for t in matches)
        best = [t for t in matches if t.count("/") == depth]
        if len(best) != 1:
            return None    # two tracked copies as near: not a guess to make
        self._installed.setdefault(key, best[0][: len(best[0]) - len(tail)])
        return best[0]

    def _longest_suffix(self, path: str) -> str | None:
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if parts and len(parts[0]) == 2 and parts[0][1] == ":":   # drive letter
            parts = parts[1:]
        for i in range(len(parts)):
            candidate = "/".join(parts[i:])
            if candidate in self.tracked:
                if _is_absolute(path):
                    prefix = path[: len(path) - len(candidate)]
                    if prefix not in self._prefixes:
                        self._prefixes.append(prefix)
                return candidate
        return None

    def _exact(self, recorded: str) -> str | None:
        if recorded.startswith("/"):
            if recorded.startswith(self.root + "/") and recorded[len(self.root) + 1:] in self.tracked:
                return recorded[len(self.root) + 1:]
            return None
        rel = recorded[2:] if recorded.startswith("./") else recorded
        return rel if rel in self.tracked else None

    def _names(self) -> dict[str, list[str]]:
        if self._by_name is None:
            self._by_name = {}
            for t in self.tracked:
                self._by_name.setdefault(t.rsplit("/", 1)[-1], []).append(t)
        return self._by_name

    def _in_subdir(self, rel: str) -> str | None:
        """``rel`` recorded relative to a folder of the repository (coverage run in a
        monorepo package with ``relative_files``): the one tracked file ending with it."""
        if rel.startswith("../"):
            return None
        for sub in self._subdirs:
            if sub + rel in self.tracked:
                return sub + rel
        matches = [t for t in self._names().get(rel.rsplit("/", 1)[-1], ()) if t.endswith("/" + rel)]
        if len(matches) != 1:
            return None
        self._subdirs.append(matches[0][: len(matches[0]) - len(rel)])
        return matches[0]


def _last_installed(path: str):
    """The last installed-packages folder in ``path`` (a match), or None."""
    last = None
    for last in _INSTALLED.finditer(path):
        pass
    return last


def _is_absolute(path: str) -> bool:
    return path.startswith("/") or (len(path) > 2 and path[1] == ":" and path[2] == "/")
