"""Path globs of the settings (critical paths): ``*`` and ``?`` within one directory,
``**`` across any number of them, matched against repository-relative paths."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern:
    """Compile a path glob: ``*`` and ``?`` stay within one directory, ``**`` spans any."""
    pat = pattern.strip().lstrip("/")
    if pat.startswith("./"):
        pat = pat[2:]
    out = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pat.find("]", i + 2 if pat[i + 1:i + 2] in ("!", "]") else i + 1)
            if j == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pat[i + 1:j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


def is_critical(path: str, patterns: Iterable[str]) -> bool:
    """Whether the repo-relative ``path`` matches one of the critical globs.

    A glob matches the whole path: ``src/pkg/core/*.py`` matches files directly in
    ``core/``, ``src/pkg/core/**/*.py`` also those below it, ``**/settings.py`` any
    ``settings.py``.
    """
    return any(glob_regex(p).match(path) for p in patterns)
