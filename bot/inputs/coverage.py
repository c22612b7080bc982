"""Load coverage measurements: coverage.py data files, coverage.json, Cobertura XML.

Whatever the input, the result is a :class:`~bot.model.coverage.CoverageSet` with repo-relative
paths. Data files (``.coverage``, ``.coverage.*`` shards from parallel runs and
pytest-xdist) are combined with coverage.py itself and reported with coverage.py's own
JSON reporter, honouring the project's coverage configuration (``omit``, ``include``,
exclusions), so totals are coverage.py's numbers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from bot.inputs.paths import PathMapper
from bot.model.coverage import CoverageSet
from bot.model.errors import InputError
from bot.inputs.contexts import json_contexts
from bot.inputs.coverage_data import load_data_files, project_aliases
from bot.inputs.coverage_json import load_json
from bot.inputs.merge import checked, merge
from bot.inputs.coverage_xml import load_xml

_SQLITE_MAGIC = b"SQLite format 3\x00"


def sniff(path: Path) -> str:
    """``data`` | ``json`` | ``xml`` from a file's first bytes; a clear error otherwise."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except FileNotFoundError:
        raise InputError(f"coverage file {path} does not exist",
                         "check the path, or run the tests first (coverage run / pytest --cov)") from None
    except IsADirectoryError:
        raise InputError(f"coverage file {path} is a directory, not a file") from None
    if not head:
        raise InputError(f"coverage file {path} is empty",
                         "the test run that should have written it probably failed or was killed")
    if head.startswith(_SQLITE_MAGIC):
        return "data"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "json"
    if stripped.startswith(b"<"):
        return "xml"
    if head.startswith(b"!coverage.py"):
        raise InputError(f"{path} is a coverage.py data file of the pre-5.0 format",
                         "regenerate it with a current coverage.py")
    raise InputError(
        f"{path} is not a coverage file covbot can read (expected a coverage.py data file, "
        "coverage.json or Cobertura coverage.xml)",
        "point --coverage-file at the file `coverage run`, `coverage json` or `coverage xml` wrote")


def discover(root: Path) -> list[Path]:
    """Coverage files an earlier step left in ``root``: data files first."""
    data = sorted(p for p in root.glob(".coverage*") if p.is_file()
                  and (p.name == ".coverage" or p.name.startswith(".coverage.")))
    data = [p for p in data if not p.name.endswith((".lock", "-journal"))]
    if data:
        return data
    for name in ("coverage.json", "coverage.xml"):
        if (root / name).is_file():
            return [root / name]
    return []


def load_coverage(paths: Iterable[str | os.PathLike], *, root: Path, tracked: list[str],
                  coverage_config: str | bool = True, timeout: float | None = None,
                  contexts: bool = False) -> CoverageSet:
    """Load and combine coverage files, mapping paths onto ``root``. Reading data files
    takes at most ``timeout`` seconds (default :data:`~bot.inputs.coverage_data.LOAD_SECONDS`).
    With ``contexts``, which tests ran each line is kept when the files record it."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no coverage file given or found",
                         "pass --coverage-file, or let covbot run the tests (drop --no-run)")
    mapper = PathMapper(root, tracked, aliases=lambda: project_aliases(root, coverage_config))
    kinds: dict[str, list[Path]] = {"data": [], "json": [], "xml": []}
    for p in paths:
        kinds[sniff(p)].append(p)
    parts: list[CoverageSet] = []
    if kinds["data"]:
        parts.append(checked(load_data_files(kinds["data"], root=root, mapper=mapper,
                                             coverage_config=coverage_config, timeout=timeout,
                                             contexts=contexts),
                             ", ".join(map(str, kinds["data"]))))
    for p in kinds["json"]:
        parts.append(checked(load_json(p, mapper), str(p)))
        if contexts:
            parts[-1].contexts = json_contexts(p, mapper)
    for p in kinds["xml"]:
        parts.append(checked(load_xml(p, mapper, root), str(p)))
    result = merge(parts)
    result.sources = [str(p) for p in paths]
    if (result.unmapped or result.untracked) and not result.tracked_paths():
        example = sorted(result.unmapped or result.untracked)[0]
        raise InputError(
            f"no file measured in {', '.join(map(str, paths))} belongs to this repository "
            f"(e.g. {example}): the recorded paths match no file git tracks",
            "measure this checkout's code, or record relative paths (`relative_files = true`); "
            "an installed copy maps through the coverage `[paths]` setting")
    return result
