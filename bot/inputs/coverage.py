"""Load coverage measurements: coverage.py data files, coverage.json, Cobertura XML.

Whatever the input, the result is a :class:`~bot.model.coverage.CoverageSet` with repo-relative
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
import sys
import tempfile
import warnings
from itertools import islice
from operator import lt
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from bot.model.errors import InputError
from bot.model.coverage import CountedFileCoverage, CoverageSet, FileCoverage, branch_lines_of
from bot.inputs.paths import PathMapper

_SQLITE_MAGIC = b"SQLite format 3\x00"
_CONDITION = re.compile(r"\((\d+)/(\d+)\)")
_COVERAGE_JSON_START = re.compile(rb'\s*\{\s*"meta"\s*:\s*\{\s*"format"\s*:')


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
    import sqlite3

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


# -- coverage.json ------------------------------------------------------------------

def load_json(path: Path, mapper: PathMapper) -> CoverageSet:
    """coverage.py's JSON report → CoverageSet.

    For a large file, with msgspec installed, only the fields covbot needs are decoded,
    straight into typed lists (the per-function and per-class sections are skipped
    without building objects); otherwise the stdlib decoder reads the whole document.
    """
    raw = _read(path)
    try:
        decoder = _typed_decoder() if _msgspec_for(len(raw)) else None
        if decoder is not None:
            files, has_branches = _decode_typed(decoder, raw, path)
        else:
            files, has_branches = _decode_stdlib(raw, path)
    finally:
        _release(raw)
    result = CoverageSet(has_branches=has_branches)
    for recorded, data in files:
        rel = mapper.map(recorded)
        if rel is None:
            result.unmapped.append(recorded)
            continue
        try:
            fc = _file_from_json(rel, *data)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: entry for {recorded!r} is malformed ({exc!r})",
                             "regenerate the file with `coverage json`") from None
        _add(result, fc)
    return result


def _file_from_json(rel: str, executed, missing_lines, num_branches, covered_branches,
                    executed_branches, missing_branches, counts=None) -> FileCoverage:
    """One file's entry. ``counts`` is coverage.py's own (statements, missing) from the
    entry's summary, for lists already checked to be lists of ints (the typed decoder):
    when the lists agree with them, the file is counted now and made into sets later."""
    branches = missing_branch_count = 0
    if num_branches is not None:
        branches = int(num_branches)
        missing_branch_count = branches - int(covered_branches)
    if (counts is not None and counts == (len(executed) + len(missing_lines), len(missing_lines))
            and all(map(lt, missing_lines, islice(missing_lines, 1, None)))):   # sorted, no repeats
        return CountedFileCoverage(rel, executed, missing_lines, executed_branches, missing_branches,
                                   branches, missing_branch_count)
    missing = set(missing_lines)
    branch_lines = branch_lines_of(executed_branches, missing_branches) if num_branches is not None else {}
    return FileCoverage(rel, missing.union(executed), missing, branch_lines, branches, missing_branch_count)


_NOT_REPORT = "is JSON but not a coverage.py JSON report (no 'files' object)"
_decoder_cache: list = []
#: Below this size the stdlib decoder is done before msgspec would be imported (~15 ms).
TYPED_MIN_BYTES = 1 << 20


def _read(path: Path):
    """The bytes of a JSON file; for a large one that msgspec will decode, a read-only
    memory map of it instead (decoded in place: no 20 MB copy into fresh memory)."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size >= TYPED_MIN_BYTES and _msgspec_for(size) is not None:
                import mmap

                try:
                    return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
                except (OSError, ValueError):
                    pass   # not mappable (a pipe, a special file): read it
            return fh.read()
    except OSError as exc:
        raise InputError(f"coverage file {path} cannot be read: {exc}") from None


def _bytes(raw) -> bytes:
    """What the stdlib decoder takes: the bytes of a memory map."""
    return raw if isinstance(raw, bytes) else raw[:]


def _release(raw) -> None:
    if not isinstance(raw, bytes):
        raw.close()


def prepare(paths: list[Path]) -> None:
    """Import the JSON decoder that reading ``paths`` will use, now: before a process
    forks, so that the children share it instead of importing it again."""
    for path in paths:
        try:
            if _msgspec_for(path.stat().st_size) is not None:
                return
        except OSError:
            continue


def _msgspec_for(nbytes: int):
    """msgspec, when it is installed and worth importing for a document of ``nbytes``."""
    if nbytes < TYPED_MIN_BYTES and "msgspec" not in sys.modules:
        return None
    try:
        import msgspec
    except ImportError:
        return None
    return msgspec


def _typed_decoder():
    """(msgspec decoder, per-file type) for the fields of coverage.json covbot reads,
    or ``None`` without msgspec."""
    if _decoder_cache:
        return _decoder_cache[0]
    try:
        import msgspec
    except ImportError:
        _decoder_cache.append(None)
        return None

    # Built with defstruct: annotations in this module are strings (``from __future__
    # import annotations``) that msgspec could not resolve for classes local to a function.
    summary = msgspec.defstruct("Summary", [("num_branches", Optional[int], None),
                                            ("covered_branches", Optional[int], None),
                                            ("num_statements", Optional[int], None),
                                            ("missing_lines", Optional[int], None)])
    file = msgspec.defstruct("File", [("missing_lines", List[int]),
                                      ("executed_lines", List[int], []),
                                      ("summary", summary, msgspec.field(default_factory=summary)),
                                      ("executed_branches", List[Tuple[int, int]], []),
                                      ("missing_branches", List[Tuple[int, int]], [])])
    meta = msgspec.defstruct("Meta", [("branch_coverage", bool, False)])
    doc = msgspec.defstruct("Doc", [("files", Dict[str, file]),
                                    ("meta", meta, msgspec.field(default_factory=meta))])
    decoder = (msgspec.json.Decoder(doc), file)
    _decoder_cache.append(decoder)
    return decoder


def _decode_typed(decoder, raw: bytes, path: Path):
    import msgspec

    try:
        doc = decoder[0].decode(raw)
    except msgspec.ValidationError as exc:
        where = str(exc)
        if "$.files[" in where:
            _name_bad_entry(decoder, raw, path, where)
        raise InputError(f"{path} {_NOT_REPORT}", "produce it with `coverage json`") from None
    except msgspec.DecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc})",
                         "the file is truncated or damaged; regenerate it with `coverage json`") from None
    files = ((name, (f.executed_lines, f.missing_lines, f.summary.num_branches, f.summary.covered_branches,
                     f.executed_branches, f.missing_branches,
                     (f.summary.num_statements, f.summary.missing_lines)))
             for name, f in doc.files.items())
    return files, doc.meta.branch_coverage


def load_json_numbers(path: Path, mapper: PathMapper) -> CoverageSet:
    """coverage.json → a CoverageSet of per-file counts only (:class:`FileNumbers`), from
    each file's ``summary``: what a baseline is compared by. Its line lists, most of the
    document, are skipped. Falls back to :func:`load_json` when a summary is missing or
    two recorded paths map to one file."""
    from bot.model.coverage import FileNumbers
    from bot.model.numbers import Numbers

    raw = _read(path)
    msgspec = _msgspec_for(len(raw))
    try:
        if msgspec is not None:
            try:
                doc = msgspec.json.decode(raw, type=_summary_type())
            finally:
                _release(raw)
            entries = [(name, f.summary) for name, f in doc.files.items()]
            has_branches = doc.meta.branch_coverage
            rows = [(name, s.num_statements, s.missing_lines, s.num_branches, s.covered_branches)
                    for name, s in entries]
        else:
            doc = json.loads(_bytes(raw))
            has_branches = bool(doc["meta"].get("branch_coverage"))
            rows = []
            for name, f in doc["files"].items():
                s = f["summary"]
                rows.append((name, s["num_statements"], s["missing_lines"], s.get("num_branches"),
                             s.get("covered_branches")))
    except Exception:   # noqa: BLE001 - anything unusual: the full reader has the precise errors
        return load_json(path, mapper)
    result = CoverageSet(has_branches=has_branches)
    for name, statements, missing, branches, covered_branches in rows:
        rel = mapper.map(name)
        if rel is None:
            result.unmapped.append(name)
            continue
        if rel in result.files or not isinstance(statements, int) or not isinstance(missing, int):
            return load_json(path, mapper)
        n = Numbers(statements, missing, branches or 0, (branches or 0) - (covered_branches or 0))
        result.files[rel] = FileNumbers(rel, n)
    return result


def _summary_type():
    import msgspec

    summary = msgspec.defstruct("Summary", [("num_statements", int), ("missing_lines", int),
                                            ("num_branches", Optional[int], None),
                                            ("covered_branches", Optional[int], None)])
    file = msgspec.defstruct("File", [("summary", summary)])
    meta = msgspec.defstruct("Meta", [("branch_coverage", bool, False)])
    return msgspec.defstruct("Doc", [("files", Dict[str, file]),
                                     ("meta", meta, msgspec.field(default_factory=meta))])


def report_document(path: Path) -> dict | None:
    """The decoded document when the JSON file ``path`` is a covbot report.json (it has
    ``schema_version``); ``None`` for other JSON such as coverage.json, which is then
    not decoded a second time here. Raises ``ValueError`` when it is not valid JSON."""
    with open(path, "rb") as fh:
        if _COVERAGE_JSON_START.match(fh.read(256)):
            return None   # coverage.py writes "meta" first; a report starts with schema_version
        fh.seek(0)
        raw = fh.read()
    msgspec = _msgspec_for(len(raw))
    if msgspec is None:
        doc = json.loads(raw)
        return doc if isinstance(doc, dict) and "schema_version" in doc else None
    probe = msgspec.defstruct("Probe", [("schema_version", object, msgspec.UNSET)])
    try:
        if msgspec.json.decode(raw, type=probe).schema_version is msgspec.UNSET:
            return None
    except msgspec.ValidationError:
        return None     # valid JSON but not an object
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
    return json.loads(raw)


def _name_bad_entry(decoder, raw: bytes, path: Path, where: str) -> None:
    """Error path only: find which file's entry failed validation, to name it."""
    import msgspec

    files = json.loads(_bytes(raw)).get("files", {})
    for recorded, data in files.items():
        try:
            msgspec.convert(data, decoder[1])
        except msgspec.ValidationError as exc:
            raise InputError(f"{path}: entry for {recorded!r} is malformed ({exc})",
                             "regenerate the file with `coverage json`") from None
    raise InputError(f"{path}: an entry of 'files' is malformed ({where})",
                     "regenerate the file with `coverage json`")


def _decode_stdlib(raw: bytes, path: Path):
    try:
        doc = json.loads(_bytes(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc})",
                         "the file is truncated or damaged; regenerate it with `coverage json`") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise InputError(f"{path} {_NOT_REPORT}", "produce it with `coverage json`")
    meta = doc.get("meta")
    has_branches = bool(meta.get("branch_coverage")) if isinstance(meta, dict) else False

    def entries():
        for recorded, data in doc["files"].items():
            try:
                summary = data.get("summary", {})
                yield recorded, (data.get("executed_lines", []), data["missing_lines"],
                                 summary.get("num_branches"), summary.get("covered_branches"),
                                 data.get("executed_branches", ()), data.get("missing_branches", ()))
            except (AttributeError, KeyError, TypeError) as exc:
                raise InputError(f"{path}: entry for {recorded!r} is malformed ({exc!r})",
                                 "regenerate the file with `coverage json`") from None
    return entries(), has_branches


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
