"""Load coverage measurements: coverage.py data files, coverage.json, Cobertura XML.

Whatever the input, the result is a :class:`~bot.model.CoverageSet` with repo-relative
paths. Data files (``.coverage``, ``.coverage.*`` shards from parallel runs and
pytest-xdist) are combined with coverage.py itself and reported with coverage.py's own
JSON reporter, honouring the project's coverage configuration (``omit``, ``include``,
exclusions), so totals are coverage.py's numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Iterable, Iterator

from bot.errors import InputError
from bot.model import CoverageSet, FileCoverage
from bot.paths import PathMapper

_SQLITE_MAGIC = b"SQLite format 3\x00"
_CONDITION = re.compile(r"\((\d+)/(\d+)\)")


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
                  coverage_config: str | bool = True) -> CoverageSet:
    """Load and combine coverage files, mapping paths onto ``root``."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no coverage file given or found",
                         "pass --coverage-file, or let covbot run the tests (drop --no-run)")
    mapper = PathMapper(root, tracked)
    kinds: dict[str, list[Path]] = {"data": [], "json": [], "xml": []}
    for p in paths:
        kinds[sniff(p)].append(p)
    parts: list[CoverageSet] = []
    if kinds["data"]:
        parts.append(load_data_files(kinds["data"], root=root, mapper=mapper,
                                     coverage_config=coverage_config))
    for p in kinds["json"]:
        parts.append(load_json(p, mapper))
    for p in kinds["xml"]:
        parts.append(load_xml(p, mapper, root))
    result = merge(parts)
    result.sources = [str(p) for p in paths]
    if not result.files and result.unmapped:
        raise InputError(
            f"no file measured in {', '.join(map(str, paths))} belongs to this repository "
            f"(e.g. {sorted(result.unmapped)[0]}): the recorded paths match no file git tracks",
            "measure this checkout's code, or record relative paths (`relative_files = true`)")
    return result


# -- coverage.py data files ---------------------------------------------------------

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
    import coverage
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


# -- coverage.json ------------------------------------------------------------------

def load_json(path: Path, mapper: PathMapper) -> CoverageSet:
    try:
        with open(path, "rb") as fh:
            doc = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc})",
                         "the file is truncated or damaged; regenerate it with `coverage json`") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise InputError(f"{path} is JSON but not a coverage.py JSON report (no 'files' object)",
                         "produce it with `coverage json`")
    result = CoverageSet(has_branches=bool(doc.get("meta", {}).get("branch_coverage")))
    for recorded, data in doc["files"].items():
        rel = mapper.map(recorded)
        if rel is None:
            result.unmapped.append(recorded)
            continue
        try:
            executed = data.get("executed_lines", [])
            missing = set(data["missing_lines"])
            statements = set(executed) | missing
            summary = data.get("summary", {})
            fc = FileCoverage(rel, statements, missing)
            if "num_branches" in summary:
                fc.branches = int(summary["num_branches"])
                fc.missing_branches = int(summary["num_branches"]) - int(summary["covered_branches"])
                lines: dict[int, list[int]] = {}
                for src, _dst in data.get("executed_branches", ()):
                    lines.setdefault(src, [0, 0])[0] += 1
                for src, _dst in data.get("missing_branches", ()):
                    entry = lines.setdefault(src, [0, 0])
                    entry[0] += 1
                    entry[1] += 1
                fc.branch_lines = {ln: (t, m) for ln, (t, m) in lines.items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: entry for {recorded!r} is malformed ({exc!r})",
                             "regenerate the file with `coverage json`") from None
        _add(result, fc)
    return result


# -- Cobertura XML ------------------------------------------------------------------

def load_xml(path: Path, mapper: PathMapper, root: Path) -> CoverageSet:
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    result = CoverageSet()
    sources: list[str] = []
    per_file: dict[str, FileCoverage] = {}
    saw_coverage = False
    try:
        for event, elem in SafeET.iterparse(str(path), events=("start", "end"), forbid_dtd=False):
            if event == "start":
                if elem.tag == "coverage":
                    saw_coverage = True
                continue
            if elem.tag == "source":
                if elem.text and elem.text.strip():
                    sources.append(elem.text.strip())
            elif elem.tag == "class":
                filename = elem.get("filename")
                if filename is None:
                    raise InputError(f"{path}: a <class> element has no filename attribute",
                                     "is this a Cobertura report?")
                rel = _map_xml_path(filename, sources, mapper)
                if rel is None:
                    result.unmapped.append(filename)
                    elem.clear()
                    continue
                fc = per_file.get(rel) or FileCoverage(rel, set(), set())
                per_file[rel] = fc
                for line in elem.iter("line"):
                    num = int(line.get("number"))
                    fc.statements.add(num)
                    if int(line.get("hits", "0")) == 0:
                        fc.missing.add(num)
                    else:
                        fc.missing.discard(num)
                    if line.get("branch") == "true":
                        m = _CONDITION.search(line.get("condition-coverage", ""))
                        if m:
                            covered, total = int(m.group(1)), int(m.group(2))
                            result.has_branches = True
                            fc.branch_lines[num] = (total, total - covered)
                elem.clear()
    except InputError:
        raise
    except DefusedXmlException as exc:
        raise InputError(f"{path} was refused: it declares entities or a DTD ({type(exc).__name__})",
                         "coverage reports never need these; the file may be hostile") from None
    except ParseError as exc:
        raise InputError(f"{path} is not well-formed XML ({exc})",
                         "the file is truncated or damaged; regenerate it with `coverage xml`") from None
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path} has an invalid value ({exc})", "regenerate it with `coverage xml`") from None
    if not saw_coverage:
        raise InputError(f"{path} is XML but not a Cobertura coverage report (no <coverage> element)",
                         "produce it with `coverage xml`")
    for fc in per_file.values():
        fc.branches = sum(t for t, _ in fc.branch_lines.values())
        fc.missing_branches = sum(m for _, m in fc.branch_lines.values())
        _add(result, fc)
    return result


def _map_xml_path(filename: str, sources: list[str], mapper: PathMapper) -> str | None:
    for src in sources:
        rel = mapper.map(src.rstrip("/\\") + "/" + filename)
        if rel is not None:
            return rel
    return mapper.map(filename)


# -- combining ----------------------------------------------------------------------

def _add(result: CoverageSet, fc: FileCoverage) -> None:
    existing = result.files.get(fc.path)
    result.files[fc.path] = fc if existing is None else _merge_file(existing, fc)


def _merge_file(a: FileCoverage, b: FileCoverage) -> FileCoverage:
    """A line is covered if any input covered it (diff-cover's rule for several reports)."""
    statements = a.statements | b.statements
    covered = (a.statements - a.missing) | (b.statements - b.missing)
    branch_lines = dict(a.branch_lines)
    for line, (total, missing) in b.branch_lines.items():
        if line in branch_lines:
            t0, m0 = branch_lines[line]
            branch_lines[line] = (max(t0, total), min(m0, missing))
        else:
            branch_lines[line] = (total, missing)
    fc = FileCoverage(a.path, statements, statements - covered, branch_lines)
    fc.branches = sum(t for t, _ in branch_lines.values())
    fc.missing_branches = sum(m for _, m in branch_lines.values())
    return fc


def merge(parts: list[CoverageSet]) -> CoverageSet:
    if len(parts) == 1:
        return parts[0]
    result = CoverageSet()
    for part in parts:
        result.has_branches |= part.has_branches
        result.unmapped.extend(part.unmapped)
        for fc in part.files.values():
            _add(result, fc)
    return result
