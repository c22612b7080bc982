"""Read test results: JUnit XML (pytest's xunit1/xunit2, xdist, several files), or
covbot's own per-attempt results when it ran the tests (:mod:`bot.inputs.results_log`).

JUnit files are untrusted: read by expat in one streaming pass that refuses DTDs and
entities as defusedxml does, with one Python call per element (:func:`_scan`).
"""

from __future__ import annotations

import re
from array import array
from functools import lru_cache
from itertools import groupby, repeat
from pathlib import Path

from bot.inputs.results import Results, TestResult
from bot.inputs.results_log import read_results_log
from bot.inputs.tracebacks import MESSAGE_LIMIT, TEXT_LIMIT, cut, exc_type_of, text_entries, text_message
from bot.model.errors import InputError


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


#: What :func:`_scan` feeds the parser at a time, while elements keep starting or ending.
CHUNK = 1 << 16


class _Scan:
    """What :func:`_scan` read: the plain passes in the packed form of
    :meth:`Results.pack` (the test ids and files NUL-joined, the durations), the other
    test cases with their positions, whether a ``<testsuite>`` was seen.

    The plain passes (a classname and no outcome element: nearly all test cases) are
    gathered a batch at a time, by C loops: the attributes taken with ``map``, the cases
    of one class grouped, each group's ids made by one ``join``."""

    __slots__ = ("ids", "files", "times", "count", "others", "saw_root")

    def __init__(self):
        self.ids: list[str] = []        # NUL-joined runs of test ids
        self.files: list[str] = []      # NUL-joined runs of their files
        self.times: list[str] = []      # the time attributes ("0" when there is none)
        self.count = 0
        self.others: list[tuple[int, TestResult]] = []
        self.saw_root = False

    def add(self, cases: list[dict], first: int, children: dict[int, list]) -> None:
        """Test cases ``first``, ``first + 1``, ... with their outcome elements."""
        classnames = list(map(dict.get, cases, repeat("classname")))
        notable = [i - first for i in children if first <= i < first + len(cases) and children[i] != [None, None]]
        if None in classnames or "" in classnames:
            notable = sorted(set(notable).union(i for i, c in enumerate(classnames) if not c))
        files = list(map(dict.get, cases, repeat("file")))
        names = list(map(dict.get, cases, repeat("name"), repeat("")))
        done = 0
        for i in [*notable, len(cases)]:
            if i > done:
                self._plain(classnames[done:i], names[done:i], files[done:i], cases[done:i])
            if i < len(cases):
                self.others.append((first + i, _notable(cases[i], *children.get(first + i, (None, None)))))
            done = i + 1

    def _plain(self, classnames: list[str], names: list[str], files: list[str | None], cases: list[dict]) -> None:
        start = 0
        for (classname, file), group in groupby(zip(classnames, files)):
            n = len(list(group))
            prefix = _id_prefix(classname, file)
            self.ids.append(prefix + "::" + ("\0" + prefix + "::").join(names[start:start + n]))
            self.files.append("\0".join(repeat(file or prefix.split("::", 1)[0], n)))
            start += n
        self.times.extend(map(dict.get, cases, repeat("time"), repeat("0")))
        self.count += len(cases)

    def results(self) -> Results:
        """What was read, as :class:`Results` (its columns split only if they are used)."""
        times = "\0".join(self.times)
        if not _decimal_times(times):      # an unusual spelling, or not a number: float() says
            times = array("d", [float(t or 0) for t in self.times]).tobytes()
        return Results.from_packed(self.count, "\0".join(self.ids), "\0".join(self.files), times, self.others)


_NOT_DECIMAL = str.maketrans("", "", "0123456789.\0")


def _decimal_times(times: str) -> bool:
    """Whether the NUL-joined time attributes are all as pytest writes them: digits with at
    most one point (``0.123``), or empty. Each such text is a number ``float()`` reads,
    so the durations can be made when they are used."""
    return (not times.translate(_NOT_DECIMAL) and not _TWO_POINTS.search(times)
            and times != "." and not times.startswith(".\0") and not times.endswith("\0.") and "\0.\0" not in times)


_TWO_POINTS = re.compile(r"\.[0-9]*\.")


def _scan(path: Path) -> _Scan:
    """One pass of expat over the file, with as little Python per element as it takes.

    An element's start is the one Python call most elements cost; its end is counted
    by a C method (``list.append``), which tells each element's depth, so a test
    case's own ``<failure>``, ``<error>`` and ``<skipped>`` are known from those below
    it or after it. Text is collected only inside a test case's first failure or error,
    as ElementTree's ``.text`` (up to its first child). A test case nested in another
    (not JUnit) is one more test; the outer one's outcome is from what precedes it.
    """
    from xml.parsers import expat   # start-up time: loaded only for a JUnit file

    out = _Scan()
    cases: list[dict] = []     # test cases not gathered yet: number ``first`` and on
    first = 0
    children: dict[int, list] = {}
    case_add = cases.append
    ends: list[str] = []
    end_add = ends.append
    starts = fed = 0
    case_depth = -2      # the depth of the last test case while it is open, else -2 (none is)
    collecting = False   # in a test case's first failure/error, before any child element

    def stop_text(tag=None):
        nonlocal collecting
        if tag is not None:
            end_add(tag)
        parser.CharacterDataHandler = None
        parser.EndElementHandler = end_add
        collecting = False

    def start(tag, attrs):
        nonlocal starts, case_depth, collecting
        depth = starts - len(ends)
        starts += 1
        if collecting:
            stop_text()
        if tag == "testcase":
            case_add(attrs)
            case_depth = depth
            return
        if depth <= case_depth:          # the test case has ended
            case_depth = -2
        elif depth == case_depth + 1:    # an element of the open test case
            found = children.setdefault(first + len(cases) - 1, [None, None])
            if found[0] is None and (tag == "failure" or tag == "error"):
                text: list[str] = []
                found[0] = (tag, attrs, text)
                parser.CharacterDataHandler = text.append
                parser.EndElementHandler = stop_text
                collecting = True
            elif found[0] is None and tag == "skipped":
                found[1] = attrs
            return
        if tag == "testsuite" or tag == "testsuites":
            out.saw_root = True

    def settle(final: bool = False) -> bool:
        """After a feed: whether an element started or ended in it. The test cases that
        have ended are gathered, and the ends are counted from zero again."""
        nonlocal starts, fed, first
        moved = starts != fed or bool(ends)
        starts -= len(ends)
        fed = starts
        ends.clear()
        upto = len(cases) - (case_depth >= 0 and not final)    # all but an open test case
        out.add(cases[:upto], first, children)
        kept = children.get(first + upto)
        children.clear()
        del cases[:upto]
        first += upto
        if kept is not None:
            children[first] = kept
        return moved

    parser = _parser(path, expat)
    parser.StartElementHandler = start
    parser.EndElementHandler = end_add
    _feed(path, parser, settle)
    return out


def _feed(path: Path, parser, settle) -> None:
    """Feed the file to ``parser`` a chunk at a time, calling ``settle`` after each.

    expat re-reads a token it has not seen the end of from its start on every feed:
    fed in 16 KB chunks, a 10 MB attribute would be re-read 600 times. Each feed in
    which no element starts or ends doubles the next one, so a token of n bytes costs
    about 2n bytes of reading, and memory stays at a chunk's worth while elements go by.
    """
    size = CHUNK
    with open(path, "rb") as fh:
        while data := fh.read(size):
            parser.Parse(data, False)
            size = CHUNK if settle() else size * 2
    parser.Parse(b"", True)
    settle(final=True)


def _parser(path: Path, expat):
    """An expat parser that reads namespaces as ElementTree does and refuses a DTD, entity
    declarations and external references, with an error naming the file."""
    def refuse(what):
        def handler(*_):
            raise InputError(f"JUnit file {path} was refused: it declares a DTD or entities ({what})",
                             "test reports never need these; the file may be hostile")
        return handler

    parser = expat.ParserCreate(None, "}")
    parser.buffer_text = True
    parser.buffer_size = CHUNK
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse("DTDForbidden")
    parser.EntityDeclHandler = refuse("EntitiesForbidden")
    parser.UnparsedEntityDeclHandler = refuse("EntitiesForbidden")
    parser.ExternalEntityRefHandler = refuse("ExternalReferenceForbidden")
    return parser


def read_junit(path: Path) -> Results:
    from xml.parsers.expat import ExpatError   # start-up time: see _scan

    if not path.is_file():
        raise InputError(f"JUnit file {path} does not exist", "check --junit / the `junit-files` input")
    if path.stat().st_size == 0:
        raise InputError(f"JUnit file {path} is empty", "the test run that should have written it probably failed")
    try:
        scan = _scan(path)
        results = scan.results()
    except ExpatError as exc:
        raise InputError(f"JUnit file {path} is not well-formed XML ({exc})",
                         "the file is truncated or damaged; rerun the tests to recreate it") from None
    except ValueError as exc:
        raise InputError(f"JUnit file {path} has an invalid value ({exc})") from None
    if not scan.saw_root:
        raise InputError(f"{path} is XML but not a JUnit report (no <testsuite> element)")
    return _dedupe(results)


def _notable(attrib: dict, failure: tuple | None, skipped: dict | None) -> TestResult:
    """A test case that is not a plain pass: its outcome, message, traceback entries."""
    classname = attrib.get("classname", "")
    name = attrib.get("name", "")
    file = attrib.get("file")
    outcome, message, text, exc_type = "passed", "", "", None
    if failure is not None:
        tag, child, pieces = failure
        outcome = "failed" if tag == "failure" else "error"
        message = cut(child.get("message", "") or "", MESSAGE_LIMIT)
        exc_type = child.get("type") or None
        text = cut("".join(pieces), TEXT_LIMIT)
    elif skipped is not None:
        outcome = "skipped"
        message = cut(skipped.get("message", "") or "", MESSAGE_LIMIT)
    if not classname and file is None and "." in name and "::" not in name:
        file = name.replace(".", "/") + ".py"      # xunit2 collection error: module name
    r = TestResult(id=file if (not classname and file and name.replace(".", "/") + ".py" == file)
                   else _junit_id(classname, name, file),
                   outcome=outcome, file=file or None, message=message, text=text,
                   exc_type=exc_type, duration=float(attrib.get("time", 0) or 0))
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
    return r


def _dedupe(results: Results) -> Results:
    """Some pytest-rerunfailures versions write one <testcase> per attempt: keep the last
    outcome, remember the attempts."""
    if not results.has_duplicate_ids():
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
