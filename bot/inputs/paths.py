"""Map file paths recorded on another machine to repo-relative paths.

Coverage recorded in a container (``/github/workspace/src/x.py``), on a runner
(``/home/runner/work/r/r/src/x.py``), on Windows (``C:\\a\\src\\x.py``) or with
``relative_files`` on, is matched against the files git tracks: the longest suffix of
the recorded path that is a tracked file wins. A prefix found once is reused for every
other path that starts with it, so mapping is one dictionary lookup per file.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath


class PathMapper:
    def __init__(self, root: str | os.PathLike, tracked: list[str] | set[str]):
        self.root = os.path.realpath(str(root))
        self.tracked = set(tracked)
        self._prefixes: list[str] = []   # recorded prefixes known to map onto the root
        self._subdirs: list[str] = []    # repo folders that relative recorded paths start from
        self._by_name: dict[str, list[str]] | None = None

    def map(self, recorded: str) -> str | None:
        """Repo-relative POSIX path for ``recorded``, or ``None`` when it is not in the repo."""
        if "\\" in recorded:
            # A backslash is a Windows separator, or part of a POSIX file name: try the
            # name as it is first.
            exact = self._exact(recorded)
            if exact is not None:
                return exact
        path = recorded.replace("\\", "/")
        # Already relative and tracked (relative_files = true)?
        if not _is_absolute(path):
            if path in self.tracked:     # git's names are already normalised
                return path
            norm = str(PurePosixPath(path))
            if norm.startswith("./"):
                norm = norm[2:]
            if norm in self.tracked:
                return norm
            inside = self._in_subdir(norm)
            if inside is not None:
                return inside
        else:
            real_root = self.root.replace("\\", "/")
            if path.startswith(real_root + "/"):
                rel = path[len(real_root) + 1:]
                if rel in self.tracked or not self.tracked:
                    return rel
            for prefix in self._prefixes:
                if path.startswith(prefix):
                    rel = path[len(prefix):]
                    if rel in self.tracked:
                        return rel
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

    def _in_subdir(self, rel: str) -> str | None:
        """``rel`` recorded relative to a folder of the repository (coverage run in a
        monorepo package with ``relative_files``): the one tracked file ending with it."""
        if rel.startswith("../"):
            return None
        for sub in self._subdirs:
            if sub + rel in self.tracked:
                return sub + rel
        if self._by_name is None:
            self._by_name = {}
            for t in self.tracked:
                self._by_name.setdefault(t.rsplit("/", 1)[-1], []).append(t)
        matches = [t for t in self._by_name.get(rel.rsplit("/", 1)[-1], ()) if t.endswith("/" + rel)]
        if len(matches) != 1:
            return None
        self._subdirs.append(matches[0][: len(matches[0]) - len(rel)])
        return matches[0]


def _is_absolute(path: str) -> bool:
    return path.startswith("/") or (len(path) > 2 and path[1] == ":" and path[2] == "/")
