"""The project's source files, read for the stages that look into them (where a name is
defined, what a test module imports)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def source_reader(root: Path | None) -> Callable[[str], str | None]:
    """``read(path)``: the text of the repository file ``path`` under ``root`` (undecodable
    bytes replaced), None when it cannot be read; each file is read once, however many
    stages ask for it."""
    texts: dict[str, str | None] = {}

    def read(path: str) -> str | None:
        if root is None:
            return None
        if path not in texts:
            try:
                texts[path] = (root / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                texts[path] = None
        return texts[path]
    return read
