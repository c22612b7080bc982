"""coverage.json (coverage.py's JSON report), and report.json sniffed among JSON files.

Large files are decoded by msgspec into typed structures from a memory map; a file
whose lists agree with its own summary counts becomes a
:class:`~bot.model.coverage.CountedFileCoverage` (its numbers are list lengths, sets
are built on first use). The stdlib decoder reads small files and is the fallback.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import sys
from itertools import islice
from operator import lt
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.inputs.merge import add_file
from bot.inputs.paths import PathMapper
from bot.model.coverage import (
    CountedFileCoverage,
    CoverageSet,
    FileCoverage,
    FileNumbers,
    branch_lines_of,
)
from bot.model.errors import InputError
from bot.model.numbers import Numbers

_COVERAGE_JSON_START = re.compile(rb'\s*\{\s*"meta"\s*:\s*\{\s*"format"\s*:')


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
        add_file(result, fc)
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


#: Below this size the stdlib decoder is done before msgspec would be imported (~15 ms).
TYPED_MIN_BYTES = 1 << 20


#: The typed decoder, made once (an empty list: not made yet; [None]: msgspec is missing).
decoder_cache: list = []


def _read(path: Path):
    """The bytes of a JSON file; for a large one that msgspec will decode, a read-only
    memory map of it instead (decoded in place: no 20 MB copy into fresh memory)."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size >= TYPED_MIN_BYTES and _msgspec_for(size) is not None:
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


def _msgspec_for(nbytes: int):
    """msgspec, when it is installed and worth importing for a document of ``nbytes``."""
    if nbytes < TYPED_MIN_BYTES and "msgspec" not in sys.modules:
        return None
    try:
        import msgspec  # start-up time: only large files are decoded with msgspec
    except ImportError:
        return None
    return msgspec


def _typed_decoder():
    """(msgspec decoder, per-file type) for the fields of coverage.json covbot reads,
    or ``None`` without msgspec."""
    if decoder_cache:
        return decoder_cache[0]
    try:
        import msgspec  # start-up time: only large files are decoded with msgspec
    except ImportError:
        decoder_cache.append(None)
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
    decoder_cache.append(decoder)
    return decoder


def _decode_typed(decoder, raw: bytes, path: Path):
    import msgspec  # start-up time: only large files are decoded with msgspec

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
    import msgspec  # start-up time: only large files are decoded with msgspec

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
    import msgspec  # start-up time: only large files are decoded with msgspec

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
