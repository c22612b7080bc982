"""coverage.py data files (``.coverage``, ``.coverage.*`` shards from parallel runs and
pytest-xdist): combined with coverage.py itself, paths mapped onto the checkout, and
reported with coverage.py's own JSON reporter, honouring the project's coverage
configuration (``omit``, ``include``, exclusions), so totals are coverage.py's numbers.

coverage.py reads its configuration and resolves relative paths against the current
directory, so the combining and the report run with the checkout as the current
directory (:func:`_cwd`), and the previous one is restored.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Iterator

from bot.inputs.paths import PathMapper
from bot.model.coverage import CoverageSet
from bot.model.errors import InputError
from bot.inputs.coverage_json import load_json


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def load_data_files(paths: list[Path], *, root: Path, mapper: PathMapper,
                    coverage_config: str | bool = True) -> CoverageSet:
    import coverage   # start-up time: only data files need coverage.py's API
    from coverage.exceptions import CoverageException

    root = Path(os.path.realpath(root))
    unmapped: set[str] = set()
    with _cwd(root):
        relative = bool(coverage.Coverage(config_file=coverage_config).config.relative_files)

    def map_path(recorded: str) -> str:
        rel = mapper.map(recorded)
        if rel is None:
            unmapped.add(recorded)
            return recorded
        # coverage.py looks files up as it would have recorded them here.
        return rel if relative else str(root / rel)

    with tempfile.TemporaryDirectory(prefix="covbot-data-") as tmp:
        combined_path = os.path.join(tmp, "combined")
        combined = coverage.CoverageData(basename=combined_path)
        arcs_seen: bool | None = None    # combined.has_arcs() is stale after update()
        for p in paths:
            part = coverage.CoverageData(basename=str(p), no_disk=False)
            try:
                _check_coverage_schema(p)
                part.read()
                if part.measured_files():
                    if arcs_seen is not None and part.has_arcs() != arcs_seen:
                        kinds = ("branch", "line") if part.has_arcs() else ("line", "branch")
                        raise InputError(f"{p} has {kinds[0]} data but earlier files have {kinds[1]} data only",
                                         "run every shard with the same `branch` setting")
                    arcs_seen = part.has_arcs()
                combined.update(part, map_path=map_path)
            except InputError:
                raise
            except (CoverageException, Exception) as exc:   # sqlite3.DatabaseError & co
                raise InputError(f"coverage data file {p} cannot be read: {exc}",
                                 "the file is damaged or truncated; rerun the tests to recreate it") from None
        combined.write()
        if not combined.measured_files():
            raise InputError(f"coverage data in {', '.join(map(str, paths))} measured no files",
                             "check `source`/`include` in the coverage configuration")
        out = os.path.join(tmp, "coverage.json")
        with _cwd(root):
            cov = coverage.Coverage(data_file=combined_path, config_file=coverage_config)
            cov.load()
            try:
                with warnings.catch_warnings():
                    if unmapped:   # files of another tree: coverage.py cannot parse them
                        warnings.simplefilter("ignore", coverage.exceptions.CoverageWarning)
                    cov.json_report(outfile=out, ignore_errors=True)
            except CoverageException as exc:
                raise InputError(f"coverage.py could not report on {', '.join(map(str, paths))}: {exc}",
                                 "check the coverage configuration (source, include, omit)") from None
        result = load_json(Path(out), mapper)
    result.unmapped = sorted(unmapped | set(result.unmapped))
    return result


def _check_coverage_schema(path: Path) -> None:
    """An SQLite file that is not coverage.py data reads as "no files measured" in
    coverage.py; say what it really is."""
    import sqlite3   # only to name a damaged data file

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = con.execute("select count(*) from sqlite_master where name = 'coverage_schema'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return   # damaged: coverage.py's own read reports it
    if not found:
        raise InputError(f"{path} is an SQLite database but not coverage.py data (no coverage_schema table)",
                         "point --coverage-file at the .coverage file `coverage run` or pytest-cov wrote")
