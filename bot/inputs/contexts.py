"""Reading which tests ran each line: coverage.py's dynamic contexts, from a combined data
file or from a coverage.json written with ``coverage json --show-contexts``.

A data file is queried per file and only when asked (``CoverageData.contexts_by_lineno``
of the changed files), never for the whole project; data without named contexts gives no
reader at all, so a run without contexts makes no query for them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import weakref
from pathlib import Path

from bot.inputs.paths import PathMapper
from bot.model.contexts import TestContexts, node_ids

#: The bytes of coverage.json that hold its ``meta`` object (written first by coverage.py).
_META_BYTES = 4096


class DataFileContexts(TestContexts):
    """Contexts of a combined coverage.py data file that covbot wrote and keeps (in a
    folder of its own, removed when the reader goes or the process ends)."""

    def __init__(self, data_file: Path, names: dict[str, str]):
        self.data_file = data_file
        self.names = names            # repository path → the file's name in the data
        self._data = None
        folder = str(data_file.parent)
        self._cleanup = weakref.finalize(self, _remove, folder, os.getpid())

    @classmethod
    def keep(cls, data_file: str, names: dict[str, str]) -> "DataFileContexts":
        """A reader of ``data_file`` (about to be removed with its folder): moved to a
        folder of its own first."""
        folder = Path(tempfile.mkdtemp(prefix="covbot-contexts-"))
        kept = folder / "combined"
        shutil.move(data_file, kept)
        return cls(kept, names)

    def by_line(self, path: str) -> dict[int, list[str]] | None:
        name = self.names.get(path)
        if name is None:
            return None
        if self._data is None:
            import coverage   # start-up time: only a report with contexts reads them

            self._data = coverage.CoverageData(basename=str(self.data_file), no_disk=False)
            self._data.read()
        found = self._data.contexts_by_lineno(name)
        return {line: ids for line, ctxs in found.items() if (ids := node_ids(ctxs))} if found else {}

    def close(self) -> None:
        self._data = None
        self._cleanup()


def _remove(folder: str, pid: int) -> None:
    if os.getpid() == pid:   # a forked child leaves its parent's files alone
        shutil.rmtree(folder, ignore_errors=True)


class JsonContexts(TestContexts):
    """Contexts that ``coverage json --show-contexts`` wrote per executed line."""

    def __init__(self, files: dict[str, dict[int, list[str]]]):
        self.files = files

    def by_line(self, path: str) -> dict[int, list[str]] | None:
        return self.files.get(path)


def json_contexts(path: Path, mapper: PathMapper) -> JsonContexts | None:
    """The contexts of a coverage.json, or None when it was written without them (its
    ``meta.show_contexts`` is not true: then only its first bytes are read)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_META_BYTES)
        if b'"show_contexts": true' not in head and b'"show_contexts":true' not in head:
            return None
        with open(path, "rb") as fh:
            doc = json.load(fh)
    except (OSError, ValueError, RecursionError):
        return None   # the coverage reader reports what is wrong with the file
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or not (doc.get("meta") or {}).get("show_contexts"):
        return None
    out: dict[str, dict[int, list[str]]] = {}
    for recorded, entry in files.items():
        per_line = entry.get("contexts") if isinstance(entry, dict) else None
        if not isinstance(per_line, dict):
            continue
        lines = {}
        for line, ctxs in per_line.items():
            if isinstance(line, str) and line.isdigit() and isinstance(ctxs, list):
                ids = node_ids(c for c in ctxs if isinstance(c, str))
                if ids:
                    lines[int(line)] = ids
        key, _ = mapper.place(recorded)
        out.setdefault(key, {}).update(lines)
    return JsonContexts(out)
