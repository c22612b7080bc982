"""coverage.py data files (``.coverage``, ``.coverage.*`` shards from parallel runs and
pytest-xdist): combined with coverage.py itself, paths mapped onto the checkout, and
reported with coverage.py's own JSON reporter, honouring the project's coverage
configuration (``omit``, ``include``, exclusions), so totals are coverage.py's numbers.

coverage.py reads its configuration and resolves relative paths against the current
directory, so the combining and the report run with the checkout as the current
directory (:func:`_cwd`), and the previous one is restored.

A data file is untrusted (an artifact, a file a pull request committed) and coverage.py
runs SQL over it: before coverage.py sees it, :mod:`bot.inputs.data_checks` checks it
holds tables only (a view named ``file`` could recurse forever) and reads every row once
on a read-only connection with a deadline. coverage.py then opens it read-only, and the
whole load is bounded in time (``timeout``, default :data:`LOAD_SECONDS`).
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
from bot.inputs.contexts import DataFileContexts
from bot.inputs.coverage_json import load_json
from bot.inputs.data_checks import Deadline, check_data_file


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


#: How long reading coverage data files may take, in seconds, when the caller sets no
#: bound: far longer than combining any real test run's data takes.
LOAD_SECONDS = 600.0


def load_data_files(paths: list[Path], *, root: Path, mapper: PathMapper,
                    coverage_config: str | bool = True, timeout: float | None = None,
                    contexts: bool = False) -> CoverageSet:
    """The combined data of ``paths``; with ``contexts``, and when the data records named
    contexts, a reader of which tests ran each line (:mod:`bot.inputs.contexts`)."""
    import coverage   # start-up time: only data files need coverage.py's API

    deadline = Deadline(LOAD_SECONDS if timeout is None else timeout, paths)
    root = Path(os.path.realpath(root))
    placed: dict[str, str] = {}      # recorded path → the name it is counted under
    names: dict[str, str] = {}       # that name → the file's name in the combined data
    foreign: set[str] = set()        # recorded paths of files of another tree
    with _cwd(root):
        relative = bool(coverage.Coverage(config_file=coverage_config).config.relative_files)

    def map_path(recorded: str) -> str:
        deadline.check()    # called for every file of every shard, from coverage.py's SQL
        key, tracked = mapper.place(recorded)
        placed[recorded] = key
        if tracked or (not os.path.isabs(key) and (root / key).is_file()):
            # coverage.py looks files up as it would have recorded them here.
            names[key] = key if relative else str(root / key)
            return names[key]
        foreign.add(recorded)
        return recorded     # reported from where it was measured, when its source is still there

    with tempfile.TemporaryDirectory(prefix="covbot-data-") as tmp:
        combined_path = os.path.join(tmp, "combined")
        combined = coverage.CoverageData(basename=combined_path)
        named_contexts = _combine(combined, paths, map_path, deadline)
        combined.write()
        if not combined.measured_files():
            raise InputError(f"coverage data in {', '.join(map(str, paths))} measured no files",
                             "check `source`/`include` in the coverage configuration")
        deadline.check()
        out = os.path.join(tmp, "coverage.json")
        _json_report(combined_path, out, root=root, paths=paths, coverage_config=coverage_config,
                     quiet=bool(foreign))
        result = load_json(Path(out), mapper)
        if contexts and named_contexts:
            result.contexts = DataFileContexts.keep(combined_path, names)
    # What the data measured and the report could not count (its source is not here),
    # named as the data records it.
    result.unmapped = sorted(rec for rec, key in placed.items() if key not in result.files)
    return result


#: The files coverage.py reads its configuration from when it is not told one.
CONFIG_FILES = (".coveragerc", "setup.cfg", "tox.ini", "pyproject.toml")


def _may_set_paths(root: Path, coverage_config: str | bool) -> bool:
    """False only when no configuration coverage.py would read can hold a ``paths``
    setting (no such file, or none whose text says ``paths``): then importing coverage.py
    (25 ms) to read it is not needed."""
    if coverage_config is False:
        return False
    if coverage_config is not True or os.environ.get("COVERAGE_RCFILE"):
        return True
    for name in CONFIG_FILES:
        try:
            text = (root / name).read_bytes()
        except FileNotFoundError:
            continue
        except OSError:
            return True
        if b"paths" in text:
            return True
    return False


def project_aliases(root: Path, coverage_config: str | bool = True):
    """coverage.py's aliases for the project's ``[paths]`` setting (what ``coverage
    combine`` remaps with), or None without one; relative results are made absolute
    under ``root`` unless ``relative_files`` is on."""
    if not _may_set_paths(Path(root), coverage_config):
        return None
    import coverage   # start-up time: only paths that need the aliases read the configuration
    from coverage.exceptions import CoverageException
    from coverage.files import PathAliases

    try:
        with _cwd(Path(root)):
            config = coverage.Coverage(config_file=coverage_config).config
            if not config.paths:
                return None
            aliases = PathAliases(relative=config.relative_files)
            for entries in config.paths.values():
                result = entries[0]
                if not config.relative_files and not os.path.isabs(result):
                    result = os.path.join(os.path.realpath(root), result)
                for pattern in entries[1:]:
                    aliases.add(pattern, result)
    except (CoverageException, OSError):
        return None   # a configuration coverage.py refuses: its own runs say why
    return aliases


def _combine(combined, paths: list[Path], map_path, deadline: Deadline) -> bool:
    """Every data file into ``combined``, each checked first and opened read-only; whether
    any records named contexts."""
    import coverage   # start-up time: only data files need coverage.py's API
    from coverage.exceptions import CoverageException

    arcs_seen: bool | None = None    # combined.has_arcs() is stale after update()
    named_contexts = False
    for p in paths:
        try:
            named_contexts |= check_data_file(p, deadline)
            part = _read_only_data(coverage, p)
            part.read()
            if part.measured_files():
                if arcs_seen is not None and part.has_arcs() != arcs_seen:
                    kinds = ("branch", "line") if part.has_arcs() else ("line", "branch")
                    raise InputError(f"{p} has {kinds[0]} data but earlier files have {kinds[1]} data only",
                                     "run every shard with the same `branch` setting")
                arcs_seen = part.has_arcs()
            combined.update(part, map_path=map_path)
            deadline.check()
        except InputError:
            raise
        except (CoverageException, Exception) as exc:   # sqlite3.DatabaseError & co
            deadline.check()    # a deadline passed inside coverage.py's SQL: say so
            raise InputError(f"coverage data file {p} cannot be read: {exc}",
                             "the file is damaged or truncated; rerun the tests to recreate it") from None
    return named_contexts


def _read_only_data(coverage, path: Path):
    """coverage.py's data of ``path``, opened read-only where coverage.py can (7.12+):
    SQLite then neither writes to it nor rolls back a journal beside it."""
    try:
        return coverage.CoverageData(basename=str(path), no_disk=False, read_only=True)
    except TypeError:   # an older coverage.py
        return coverage.CoverageData(basename=str(path), no_disk=False)


def _json_report(data_file: str, out: str, *, root: Path, paths: list[Path], coverage_config: str | bool,
                 quiet: bool) -> None:
    """coverage.py's own JSON report of the combined data, with the project's configuration."""
    import coverage   # start-up time: only data files need coverage.py's API
    from coverage.exceptions import CoverageException

    with _cwd(root):
        cov = coverage.Coverage(data_file=data_file, config_file=coverage_config)
        cov.load()
        try:
            with warnings.catch_warnings():
                if quiet:   # files of another tree: coverage.py cannot parse them
                    warnings.simplefilter("ignore", coverage.exceptions.CoverageWarning)
                cov.json_report(outfile=out, ignore_errors=True)
        except CoverageException as exc:
            raise InputError(f"coverage.py could not report on {', '.join(map(str, paths))}: {exc}",
                             "check the coverage configuration (source, include, omit)") from None
