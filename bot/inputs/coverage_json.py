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
from typing import Annotated, Dict, List, Optional, Tuple

from bot.inputs.merge import add_file, checked
from bot.inputs.paths import PathMapper
from bot.model.coverage import (
    CountedFileCoverage,
    CoverageSet,
    FileCoverage,
    FileNumbers,
    branch_lines_of,
)
from bot.inputs.json_checks import (
    decode_problem,
    entry_problem,
    entry_spans,
    stdlib_entry_problem,
    summary_problem,
)
from bot.model.errors import InputError
from bot.model.numbers import MAX_COUNT, Numbers

_COVERAGE_JSON_START = re.compile(rb'\s*\{\s*"meta"\s*:\s*\{\s*"format"\s*:')


def load_json(path: Path, mapper: PathMapper) -> CoverageSet:
    """coverage.py's JSON report → CoverageSet.

    For a large file, with msgspec installed, only the fields covbot needs are decoded,
    straight into typed lists (the per-function and per-class sections are skipped
    without building objects); otherwise the stdlib decoder reads the whole document.
    Either way every value read is checked (:mod:`bot.inputs.json_checks`): a file
    that is not what coverage.py writes is an input error naming the file and entry.
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
    for recorded, (executed, missing, summary, executed_branches, missing_branches, typed) in files:
        problem = summary_problem(*summary)
        if problem is not None:
            raise InputError(f"{path}: entry for {recorded!r} has impossible counts: {problem}",
                             "the file was damaged or edited; regenerate it with `coverage json`")
        rel, tracked = mapper.place(recorded)
        if not tracked:
            result.untracked.add(rel)
        add_file(result, _file_from_json(rel, executed, missing, summary, executed_branches, missing_branches,
                                         typed))
    return result


def _file_from_json(rel: str, executed, missing_lines, summary, executed_branches, missing_branches,
                    typed: bool) -> FileCoverage:
    """One checked entry. ``summary`` is coverage.py's own (statements, missing, branches,
    covered branches); when the lists came from the typed decoder and agree with it, the
    file is counted now and made into sets later."""
    num_statements, summary_missing, num_branches, covered_branches = summary
    branches = missing_branch_count = 0
    if num_branches is not None:
        branches = num_branches
        missing_branch_count = num_branches - covered_branches
    if (typed and (num_statements, summary_missing) == (len(executed) + len(missing_lines), len(missing_lines))
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


def preload(path: Path) -> None:
    """Import msgspec now when ``path`` is a file large enough to be decoded with it, so
    that readers forked after this (:mod:`bot.runs.prefetch`) share the imported module
    instead of each importing it again (~15 ms of CPU a child)."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size >= TYPED_MIN_BYTES:
        _msgspec_for(size)


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
    count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]      # a line number or a count
    end = Annotated[int, msgspec.Meta(ge=-MAX_COUNT, le=MAX_COUNT)]   # an arc's end: negative is an exit
    summary = msgspec.defstruct("Summary", [("num_branches", Optional[count], None),
                                            ("covered_branches", Optional[count], None),
                                            ("num_statements", Optional[count], None),
                                            ("missing_lines", Optional[count], None)])
    file = msgspec.defstruct("File", [("missing_lines", List[count]),
                                      ("executed_lines", List[count], []),
                                      ("summary", summary, msgspec.field(default_factory=summary)),
                                      ("executed_branches", List[Tuple[end, end]], []),
                                      ("missing_branches", List[Tuple[end, end]], [])])
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
            _name_bad_entry(raw, path, lambda span: _typed_entry_problem(decoder, span))
            raise InputError(f"{path}: an entry of 'files' is malformed ({where})",
                             "regenerate the file with `coverage json`") from None
        raise InputError(f"{path} {_NOT_REPORT}", "produce it with `coverage json`") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        _name_bad_entry(raw, path, lambda span: _typed_entry_problem(decoder, span))
        raise InputError(f"{path} is not a coverage report covbot can read: {decode_problem(exc)}",
                         "the file is truncated or damaged; regenerate it with `coverage json`") from None
    files = ((name, (f.executed_lines, f.missing_lines,
                     (f.summary.num_statements, f.summary.missing_lines, f.summary.num_branches,
                      f.summary.covered_branches),
                     f.executed_branches, f.missing_branches, True))
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
        rel, tracked = mapper.place(name)
        if not tracked:
            result.untracked.add(rel)
        if (rel in result.files or statements is None or missing is None
                or summary_problem(statements, missing, branches, covered_branches) is not None):
            return load_json(path, mapper)   # which names what is wrong, or counts the lists
        n = Numbers(statements, missing, branches or 0, (branches or 0) - (covered_branches or 0))
        result.files[rel] = FileNumbers(rel, n)
    return checked(result, str(path))


def _summary_type():
    import msgspec  # start-up time: only large files are decoded with msgspec

    count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
    summary = msgspec.defstruct("Summary", [("num_statements", count), ("missing_lines", count),
                                            ("num_branches", Optional[count], None),
                                            ("covered_branches", Optional[count], None)])
    file = msgspec.defstruct("File", [("summary", summary)])
    meta = msgspec.defstruct("Meta", [("branch_coverage", bool, False)])
    return msgspec.defstruct("Doc", [("files", Dict[str, file]),
                                     ("meta", meta, msgspec.field(default_factory=meta))])


def report_document(path: Path) -> dict | None:
    """The decoded document when the JSON file ``path`` is a covbot report.json (it has
    ``schema_version``); ``None`` for other JSON such as coverage.json, which is then
    not decoded a second time here. Raises ``ValueError`` saying why when it does not
    decode (not JSON, an integer of thousands of digits, nesting past the recursion limit)."""
    with open(path, "rb") as fh:
        if _COVERAGE_JSON_START.match(fh.read(256)):
            return None   # coverage.py writes "meta" first; a report starts with schema_version
        fh.seek(0)
        raw = fh.read()
    msgspec = _msgspec_for(len(raw))
    try:
        if msgspec is not None:
            probe = msgspec.defstruct("Probe", [("schema_version", object, msgspec.UNSET)])
            try:
                if msgspec.json.decode(raw, type=probe).schema_version is msgspec.UNSET:
                    return None
            except msgspec.ValidationError:
                return None     # valid JSON but not an object
            except msgspec.DecodeError as exc:
                raise ValueError(str(exc)) from None
        doc = json.loads(raw)
    except RecursionError as exc:
        raise ValueError(decode_problem(exc)) from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise ValueError(decode_problem(exc)) from None   # an integer of thousands of digits
    return doc if isinstance(doc, dict) and "schema_version" in doc else None


def _name_bad_entry(raw, path: Path, check) -> None:
    """Error path only: raise an error naming the first entry of ``files`` that
    ``check`` (raw text → what is wrong, or ``None``) finds wrong; return when none is."""
    for recorded, span in entry_spans(_bytes(raw)):
        problem = check(span)
        if problem is not None:
            raise InputError(f"{path}: entry for {recorded!r} {problem}",
                             "regenerate the file with `coverage json`") from None


def _typed_entry_problem(decoder, span: bytes) -> str | None:
    import msgspec  # start-up time: only large files are decoded with msgspec

    try:
        msgspec.json.decode(span, type=decoder[1])
    except msgspec.ValidationError as exc:
        return f"is malformed ({exc})"
    except (msgspec.DecodeError, RecursionError) as exc:
        return f"cannot be read: {decode_problem(exc)}"
    return None


def _decode_stdlib(raw: bytes, path: Path):
    try:
        doc = json.loads(_bytes(raw))
    except (ValueError, RecursionError) as exc:    # JSONDecodeError, UnicodeDecodeError, huge integers
        _name_bad_entry(raw, path, stdlib_entry_problem)
        raise InputError(f"{path} is not a coverage report covbot can read: {decode_problem(exc)}",
                         "the file is truncated or damaged; regenerate it with `coverage json`") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise InputError(f"{path} {_NOT_REPORT}", "produce it with `coverage json`")
    meta = doc.get("meta")
    has_branches = bool(meta.get("branch_coverage")) if isinstance(meta, dict) else False

    def entries():
        for recorded, data in doc["files"].items():
            problem = entry_problem(data)
            if problem is not None:
                raise InputError(f"{path}: entry for {recorded!r} {problem}",
                                 "regenerate the file with `coverage json`")
            summary = data.get("summary", {})
            yield recorded, (data.get("executed_lines", []), data["missing_lines"],
                             (summary.get("num_statements"), summary.get("missing_lines"),
                              summary.get("num_branches"), summary.get("covered_branches")),
                             data.get("executed_branches", []), data.get("missing_branches", []), False)
    return entries(), has_branches
