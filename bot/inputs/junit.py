"""Read test results: JUnit XML (pytest's xunit1/xunit2, xdist, several files), or
covbot's own per-attempt results when it ran the tests (:mod:`bot.inputs.results_log`).

JUnit files are untrusted: parsed with defusedxml (no DTDs, no entities), streamed
with iterparse so 100,000 test cases cost little memory.
"""

from __future__ import annotations

from functools import lru_cache
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


def _iterparse(path: Path, safe_et):
    """The file's end events, read by ElementTree's C parser when the file has no DTD, so
    it can neither declare entities nor reference external ones; by defusedxml's, which
    refuses the DTD with its own error, otherwise. The C parser reads 20,000 test cases
    in half the time."""
    if not no_doctype(path):
        from xml.etree.ElementTree import TreeBuilder

        return _end_events(path, safe_et.DefusedXMLParser(target=TreeBuilder(), forbid_dtd=True))
    return _end_events(path)


#: What :func:`_end_events` feeds the parser at a time, while elements keep ending.
CHUNK = 1 << 16


def _end_events(path: Path, parser=None):
    """``(event, element)`` for each element's end, like ``iterparse(path, ("end",),
    parser)``, in linear time whatever the file holds.

    expat re-reads a token it has not seen the end of from its start on every feed:
    fed in iterparse's 16 KB chunks, a 10 MB attribute is re-read 600 times (13-47 s).
    Here each feed that ends no element doubles the next one, so a token of n bytes
    costs about 2n bytes of reading, and memory stays at one chunk while elements end.
    """
    # start-up time: the XML parser loads only for a JUnit file
    from xml.etree.ElementTree import XMLPullParser

    pull = XMLPullParser(events=("end",), _parser=parser)   # what iterparse(..., parser) does
    size = CHUNK
    with open(path, "rb") as fh:
        while data := fh.read(size):
            pull.feed(data)
            ended = False
            for event in pull.read_events():
                ended = True
                yield event
            size = CHUNK if ended else size * 2
    pull.close()
    yield from pull.read_events()


def no_doctype(path: Path) -> bool:
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
    # start-up time: defusedxml loads only for a JUnit file that needs it
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
                    message = cut(child.get("message", "") or "", MESSAGE_LIMIT)
                    exc_type = child.get("type") or None
                    text = cut(child.text or "", TEXT_LIMIT)
                    break
                if tag == "skipped":
                    outcome = "skipped"
                    message = cut(child.get("message", "") or "", MESSAGE_LIMIT)
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
