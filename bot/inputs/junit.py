"""Read test results: JUnit XML (pytest's xunit1/xunit2, xdist, several files) and
covbot's own per-attempt results (JSON lines from its pytest plugin).

JUnit files are untrusted: parsed with defusedxml (no DTDs, no entities), streamed
with iterparse so 100,000 test cases cost little memory.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from bot.model.errors import InputError


@dataclass(slots=True)
class TestResult:
    """One test's result: outcome, failure details and the outcome of each attempt."""

    __test__ = False             # a data class, not a pytest test class
    id: str                      # pytest node id when known, else classname::name
    outcome: str                 # passed | failed | error | skipped
    file: str | None = None
    message: str = ""
    text: str = ""               # traceback / longrepr
    exc_type: str | None = None
    when: str = "call"           # collect | setup | call | teardown
    entries: list = field(default_factory=list)   # [[path, lineno, msg], ...] innermost last
    crash: dict | None = None
    attempts: list[str] = field(default_factory=list)   # outcomes of each attempt, in order
    duration: float = 0.0
    rerun_by: str | None = None  # what retried it: "pytest-rerunfailures" or "covbot's rerun pass"

    @property
    def flaky(self) -> bool:
        attempts = self.attempts
        return self.outcome == "passed" and ("failed" in attempts or "error" in attempts)


def _is_plain(r: TestResult) -> bool:
    """Passed at its one attempt with nothing recorded: most tests of a suite."""
    return (r.outcome == "passed" and r.attempts == ["passed"] and not r.message and not r.text
            and r.exc_type is None and r.when == "call" and not r.entries and r.crash is None
            and r.rerun_by is None)


class Results:
    """The results of a test run, in the order they were read.

    A large suite is mostly plain passes (passed at the one attempt, nothing recorded):
    those are kept as three columns, ids, files and durations, not as 20,000 objects.
    Every other result is a :class:`TestResult`. Iterating or indexing gives a
    TestResult for each (made once, on first use; changes made to them stick);
    :meth:`notable`, :meth:`plain_count`, :meth:`plain_ids` and :meth:`pack` serve the
    hot paths without making any.
    """

    __slots__ = ("_ids", "_files", "_durations", "_others", "_items", "_packed")

    def __init__(self, items=()):
        self._ids: list[str] = []
        self._files: list[str | None] = []
        self._durations: list[float] = []
        self._others: list[tuple[int, TestResult]] = []   # (position, result)
        self._items: list[TestResult] | None = None
        self._packed: tuple | None = None   # the columns as received from pack(), not split yet
        for r in items:
            self.append(r)

    def _columns(self) -> None:
        """Split the columns received from :meth:`pack` (on first need only)."""
        if self._packed is None:
            return
        count, ids, files, durations = self._packed
        self._packed = None
        if count:
            from array import array

            self._ids = ids.split("\0")
            self._files = [f or None for f in files.split("\0")]
            self._durations = array("d", durations).tolist()

    def add_plain(self, id: str, file: str | None, duration: float) -> None:
        if self._items is not None:
            self._items.append(TestResult(id, "passed", file, duration=duration, attempts=["passed"]))
            return
        self._columns()
        self._ids.append(id)
        self._files.append(file)
        self._durations.append(duration)

    def append(self, r: TestResult) -> None:
        if self._items is not None:
            self._items.append(r)
        elif _is_plain(r):
            self.add_plain(r.id, r.file, r.duration)
        else:
            self._columns()
            self._others.append((len(self._ids) + len(self._others), r))

    def items(self) -> list[TestResult]:
        """Every result as a TestResult, in order (from now on kept as objects)."""
        if self._items is None:
            self._columns()
            plain = iter([TestResult(i, "passed", f, duration=d, attempts=["passed"])
                          for i, f, d in zip(self._ids, self._files, self._durations)])
            out: list[TestResult] = []
            for pos, r in self._others:
                out.extend(next(plain) for _ in range(pos - len(out)))
                out.append(r)
            out.extend(plain)
            self._items = out
            self._ids, self._files, self._durations, self._others = [], [], [], []
        return self._items

    def notable(self) -> list[TestResult]:
        """The results that are not plain passes (failed, errors, skipped, reruns), in order."""
        if self._items is None:
            return [r for _, r in self._others]
        return [r for r in self._items if not _is_plain(r)]

    def plain_count(self) -> int:
        if self._packed is not None:
            return self._packed[0]
        return len(self.plain_ids())

    def plain_ids(self) -> list[str]:
        if self._items is None:
            self._columns()
            return self._ids
        return [r.id for r in self._items if _is_plain(r)]

    def ids(self) -> list[str]:
        if self._items is None:
            self._columns()
            return self._ids + [r.id for _, r in self._others]
        return [r.id for r in self._items]

    def __len__(self) -> int:
        if self._items is not None:
            return len(self._items)
        return self.plain_count() + len(self._others)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self):
        return iter(self.items())

    def __getitem__(self, index):
        return self.items()[index]

    def __eq__(self, other) -> bool:
        if isinstance(other, Results):
            other = other.items()
        return isinstance(other, list) and self.items() == other

    __hash__ = None

    def __repr__(self) -> str:
        return f"<Results: {len(self)} tests, {len(self.notable())} not plain passes>"

    def pack(self) -> tuple:
        """A form that pickles and unpickles fast (for :mod:`bot.runs.prefetch`): each column
        as one string (ids and files joined with NUL, which XML cannot contain) or one
        array of doubles, and the other results as tuples of every field with their
        positions."""
        if self._items is not None:
            return Results(self._items).pack()
        others = [(pos, tuple(getattr(r, n) for n in _FIELDS)) for pos, r in self._others]
        if self._packed is not None:
            return ("columns", self._packed, others)
        from array import array

        n = len(self._ids)
        ids = "\0".join(self._ids)
        files = "\0".join(f or "" for f in self._files)
        if n and (ids.count("\0") != n - 1 or files.count("\0") != n - 1):
            return ("lists", (self._ids, self._files, self._durations), others)   # a NUL in a name
        return ("columns", (n, ids, files, array("d", self._durations).tobytes()), others)

    @classmethod
    def of(cls, results: "Results | list[TestResult]") -> "Results":
        """``results`` as Results (a list of TestResults is wrapped; its objects are shared)."""
        return results if isinstance(results, Results) else cls(results)

    @classmethod
    def unpack(cls, packed: tuple) -> "Results":
        out = cls()
        form, columns, others = packed
        if form == "columns":
            out._packed = columns
        else:
            out._ids, out._files, out._durations = columns
        out._others = [(pos, TestResult(*values)) for pos, values in others]
        return out

    @classmethod
    def concat(cls, parts: list["Results"]) -> "Results":
        """The results of several runs with no test in common, one after the other."""
        out = cls()
        for part in parts:
            if part._items is not None:
                for r in part._items:
                    out.append(r)
                continue
            part._columns()
            base = len(out._ids) + len(out._others)
            out._ids += part._ids
            out._files += part._files
            out._durations += part._durations
            out._others += [(base + pos, r) for pos, r in part._others]
        return out


_FIELDS = tuple(f.name for f in fields(TestResult))


def _junit_id(classname: str, name: str, file: str | None) -> str:
    """pytest node id from JUnit's classname/name (``tests.test_x.TestA`` + ``test_b``)."""
    if not classname:
        return name
    return _id_prefix(classname, file) + "::" + name


@lru_cache(maxsize=4096)
def _id_prefix(classname: str, file: str | None) -> str:
    """The node id without the test name: the same for every test of a class."""
    parts = classname.split(".")
    if file:
        mod = file[:-3].replace("/", ".") if file.endswith(".py") else None
        if mod and classname.startswith(mod):
            rest = classname[len(mod):].lstrip(".")
            return "::".join([file] + ([*rest.split(".")] if rest else []))
    # Guess: the module path is the longest prefix that does not look like a class.
    mod_parts = []
    cls_parts = []
    for p in parts:
        if cls_parts or (p[:1].isupper() and mod_parts):
            cls_parts.append(p)
        else:
            mod_parts.append(p)
    path = "/".join(mod_parts) + ".py"
    return "::".join([path] + cls_parts)


def _iterparse(path: Path, safe_et):
    """ElementTree's iterparse (its C parser) when the file has no DTD, so it can neither
    declare entities nor reference external ones; defusedxml's, which refuses the DTD with
    its own error, otherwise. The C parser reads 20,000 test cases in half the time."""
    if not _no_doctype(path):
        return safe_et.iterparse(str(path), events=("end",), forbid_dtd=True)
    from xml.etree.ElementTree import iterparse

    return iterparse(str(path), events=("end",))


def _no_doctype(path: Path) -> bool:
    """True when the prolog (what precedes the root element: the XML declaration,
    comments, processing instructions) holds no ``<!DOCTYPE``. A DTD anywhere else is
    not well-formed and the parser rejects it. Unusual encodings answer False."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:64]:
        return False
    i = 0
    while True:
        j = head.find(b"<", i)
        if j < 0:
            return False
        if head.startswith(b"<?", j):
            k = head.find(b"?>", j)
        elif head.startswith(b"<!--", j):
            k = head.find(b"-->", j)
        elif head.startswith(b"<!", j):
            return False
        else:
            return True
        if k < 0:
            return False
        i = k + 2


def read_junit(path: Path) -> Results:
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    if not path.is_file():
        raise InputError(f"JUnit file {path} does not exist", "check --junit / the `junit-files` input")
    if path.stat().st_size == 0:
        raise InputError(f"JUnit file {path} is empty", "the test run that should have written it probably failed")
    results = Results()
    add_plain = results.add_plain
    saw_root = False
    try:
        for _, elem in _iterparse(path, SafeET):   # end events only: one per element
            tag = elem.tag
            if tag != "testcase":
                if tag == "testsuite" or tag == "testsuites":
                    saw_root = True
                continue
            attrib = elem.attrib
            classname = attrib.get("classname", "")
            name = attrib.get("name", "")
            file = attrib.get("file")
            if classname and not len(elem):
                # A passed test case with nothing inside: nearly all of them, three columns.
                prefix = _id_prefix(classname, file)
                add_plain(prefix + "::" + name, file or prefix.split("::", 1)[0],
                          float(attrib.get("time", 0) or 0))
                elem.clear()
                continue
            outcome, message, text, exc_type = "passed", "", "", None
            for child in elem:
                tag = child.tag
                if tag in ("failure", "error"):
                    outcome = "failed" if tag == "failure" else "error"
                    message = child.get("message", "") or ""
                    exc_type = child.get("type") or None
                    text = child.text or ""
                    break
                if tag == "skipped":
                    outcome = "skipped"
                    message = child.get("message", "") or ""
            if not classname and file is None and "." in name and "::" not in name:
                file = name.replace(".", "/") + ".py"      # xunit2 collection error: module name
            r = TestResult(id=file if (not classname and file and name.replace(".", "/") + ".py" == file)
                           else _junit_id(classname, name, file),
                           outcome=outcome, file=file or None, message=message, text=text,
                           exc_type=exc_type, duration=float(elem.get("time", 0) or 0))
            if r.file is None and "::" in r.id:
                r.file = r.id.split("::", 1)[0]
            if outcome == "error" and message.startswith("collection failure"):
                r.when = "collect"
            elif outcome == "error" and ("during setup" in message or message.startswith("failed on setup")):
                r.when = "setup"
            elif outcome == "error" and ("during teardown" in message or message.startswith("failed on teardown")):
                r.when = "teardown"
            if outcome in ("failed", "error"):
                if r.when != "call" or not message:
                    r.message = text_message(text) or message
                r.entries = text_entries(text)
                r.exc_type = exc_type_of(r.message) or exc_type
            r.attempts = [outcome]
            results.append(r)
            elem.clear()
    except DefusedXmlException as exc:
        raise InputError(f"JUnit file {path} was refused: it declares a DTD or entities ({type(exc).__name__})",
                         "test reports never need these; the file may be hostile") from None
    except ParseError as exc:
        raise InputError(f"JUnit file {path} is not well-formed XML ({exc})",
                         "the file is truncated or damaged; rerun the tests to recreate it") from None
    except ValueError as exc:
        raise InputError(f"JUnit file {path} has an invalid value ({exc})") from None
    if not saw_root:
        raise InputError(f"{path} is XML but not a JUnit report (no <testsuite> element)")
    return _dedupe(results)


def _dedupe(results: Results) -> Results:
    """Some pytest-rerunfailures versions write one <testcase> per attempt: keep the last
    outcome, remember the attempts."""
    ids = results.ids()
    if len(set(ids)) == len(ids):
        return results
    by_id: dict[str, TestResult] = {}
    for r in results:
        prev = by_id.get(r.id)
        if prev is None:
            by_id[r.id] = r
        else:
            r.attempts = prev.attempts + r.attempts
            by_id[r.id] = r
    return Results(by_id.values())


def read_results_log(path: Path) -> Results:
    """covbot plugin's JSON lines → one result per test, attempts in order.

    Each attempt of a test is its setup, call and teardown records; a ``setup`` record
    starts a new attempt. pytest-rerunfailures reports a failed attempt that it retries
    with outcome ``rerun``. A collection error is one erroring attempt of the module.
    """
    by_id: dict[str, TestResult] = {}
    order: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"test results file {path} cannot be read: {exc}") from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            if i == len(lines):   # a run killed mid-write leaves a partial last line
                break
            raise InputError(f"{path}:{i} is not valid JSON",
                             "the results file is damaged; rerun the tests to recreate it") from None
        if not isinstance(rec, dict) or not rec.get("nodeid"):
            raise InputError(f"{path}:{i} is not a covbot test result record")
        nodeid = rec["nodeid"]
        r = by_id.get(nodeid)
        if r is None:
            r = TestResult(id=nodeid, outcome="passed", file=nodeid.split("::", 1)[0] or None)
            by_id[nodeid] = r
            order.append(nodeid)
        _apply_phase(r, rec)
    return Results(by_id[i] for i in order)


def _apply_phase(r: TestResult, rec: dict) -> None:
    when = rec.get("when", "call")
    outcome = rec.get("outcome", "passed")
    if rec.get("xfail"):
        outcome = "skipped"
    if when in ("setup", "collect") or not r.attempts:
        r.attempts.append("passed")
    if outcome == "rerun":
        r.rerun_by = "pytest-rerunfailures"
    if outcome in ("failed", "rerun") or when == "collect":
        outcome = "failed" if when == "call" else "error"
    current = r.attempts[-1]
    if outcome == "skipped" and current == "passed":
        r.attempts[-1] = "skipped"
    elif outcome in ("failed", "error") and current in ("passed", "skipped"):
        r.attempts[-1] = outcome
        r.when = when
        crash = rec.get("crash") or None
        r.crash = crash
        r.message = lead_with_exception((crash or {}).get("message") or rec.get("message", "") or "")
        r.text = rec.get("longrepr", "") or ""
        r.entries = [list(e) for e in rec.get("entries") or []]
        if not r.entries or _E_FILE.search(r.text):     # text frames include a SyntaxError's file
            r.entries = text_entries(r.text) or r.entries
        r.exc_type = exc_type_of(r.message) or _entry_exc_type(r.entries, r.message)
    elif outcome == "skipped" and current == "skipped" and not r.message:
        r.message = rec.get("message", "") or ""
    r.duration += float(rec.get("duration", 0.0) or 0.0)
    r.outcome = r.attempts[-1]


_FRAME = re.compile(r"^(\S[^\n]*?):(\d+): (.*)$")
_FIXTURE_FILE = re.compile(r"^file (\S.*), line (\d+)$")
_E_FILE = re.compile(r'^E\s+File "([^"]+)", line (\d+)', re.M)
_NATIVE_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (.*)$')
_E_LINE = re.compile(r"^E\s+(.*)$")


def text_entries(text: str) -> list[list]:
    """Traceback frames of a failure printed as text (JUnit, collection errors):
    pytest's ``path:line: in func`` / ``path:line: ExcType`` lines, or Python's native
    ``File "path", line N, in func``. Innermost last."""
    out: list[list] = []
    for line in (text or "").splitlines():
        m = _E_FILE.match(line) or _FIXTURE_FILE.match(line)
        if m:       # a SyntaxError's location in the error lines; a fixture lookup's test
            out.append([m.group(1), int(m.group(2)), "SyntaxError" if line.startswith("E") else ""])
            continue
        if line.startswith(("E ", ">", " ")) and not _NATIVE_FRAME.match(line):
            continue
        m = _FRAME.match(line)
        if m:
            out.append([m.group(1), int(m.group(2)), m.group(3)[:200]])
            continue
        m = _NATIVE_FRAME.match(line)
        if m:
            out.append([m.group(1), int(m.group(2)), "in " + m.group(3)[:200]])
    return out


def text_message(text: str) -> str:
    """The ``E   ...`` lines of pytest's failure text: the error itself."""
    lines = [m.group(1) for m in map(_E_LINE.match, (text or "").splitlines()) if m]
    return lead_with_exception("\n".join(lines).strip())


_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failed|Failure)\b:?")


def lead_with_exception(message: str) -> str:
    """Put the ``SomeError: ...`` line first when the message starts with something else
    (a SyntaxError's ``File "x.py", line 3`` block)."""
    lines = (message or "").splitlines()
    if not lines or exc_type_of(lines[0]):
        return message
    for i, line in enumerate(lines):
        if _EXC_LINE.match(line.strip()):
            return "\n".join([line.strip()] + lines[:i] + lines[i + 1:])
    return message


def _entry_exc_type(entries: list, message: str) -> str | None:
    """pytest's crash message of a rewritten assert is ``assert 3 == 3.6`` without a type;
    its innermost traceback entry names the exception class instead."""
    if entries and len(entries[-1]) > 2:
        name = str(entries[-1][2]).strip()
        if name.isidentifier() and name[:1].isupper():
            return name
    if (message or "").lstrip().startswith("assert "):
        return "AssertionError"
    return None


def exc_type_of(message: str) -> str | None:
    """``ValueError`` from ``ValueError: bad``; pytest's ``Failed: Timeout`` gives ``Failed``."""
    head = (message or "").split(":", 1)[0].strip()
    if ":" in (message or "") and head and " " not in head and (head[0].isupper() or "." in head):
        return head.rsplit(".", 1)[-1]
    return None


def load_results(junit_files: list[Path], results_file: Path | None) -> Results:
    """Per-attempt results when covbot ran the tests; JUnit otherwise (several files combined)."""
    if results_file is not None and results_file.is_file() and results_file.stat().st_size > 0:
        return read_results_log(results_file)
    parts = [read_junit(Path(path)) for path in junit_files]
    if not parts:
        return Results()
    if len(parts) == 1:
        return parts[0]
    ids = [i for part in parts for i in part.ids()]
    if len(set(ids)) == len(ids):      # shards: every test in one file only
        return Results.concat(parts)
    merged: dict[str, TestResult] = {}
    for part in parts:
        for r in part:
            prev = merged.get(r.id)
            # The same id in several files (shards, reruns): a pass anywhere after a
            # failure makes it flaky, not failing.
            if prev is not None:
                attempts = prev.attempts + r.attempts
                if prev.outcome in ("failed", "error") and r.outcome == "passed":
                    r = prev      # keep the failure's details; the pass makes it flaky
                    r.rerun_by = r.rerun_by or "a rerun"
                r.attempts = attempts
                if "passed" in attempts:
                    r.outcome = "passed"
            merged[r.id] = r
    return Results(merged.values())


def pack_results(results: Results) -> tuple:
    """``results`` in a form that pickles fast (for :mod:`bot.runs.prefetch`)."""
    return results.pack()


def unpack_results(packed: tuple) -> Results:
    """The inverse of :func:`pack_results`."""
    return Results.unpack(packed)
