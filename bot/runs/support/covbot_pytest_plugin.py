"""pytest plugin loaded by covbot (``-p covbot_pytest_plugin``): writes one JSON line per
test phase and attempt, so reruns and tracebacks survive (pytest's JUnit XML drops
reruns). With ``COVBOT_ONLY`` (a file of node ids) it keeps only those tests: covbot's
flaky-detection rerun pass. Standalone on purpose: it runs inside the project's environment."""

import json
import os
import re
from json.encoder import encode_basestring_ascii as _quote   # C: how json.dumps spells a string

_PATH = os.environ.get("COVBOT_RESULTS")
_MAX_TEXT = 20000


def _entries(longrepr):
    """(path, lineno, func-ish message) of each traceback entry, innermost last."""
    out = []
    chain = getattr(longrepr, "chain", None)
    tracebacks = [c[0] for c in chain] if chain else [getattr(longrepr, "reprtraceback", None)]
    for tb in tracebacks[-1:]:
        for entry in getattr(tb, "reprentries", None) or []:
            loc = getattr(entry, "reprfileloc", None)
            if loc is not None:
                out.append([str(loc.path), int(loc.lineno), str(loc.message)[:200]])
    return out


_FRAME = re.compile(r"^(\S[^\n]*?):(\d+): (.*)$")
_E_LINE = re.compile(r"^E\s+(.*)$")


def _text_entries(text):
    """Frames of a traceback printed as text (collection errors): ``path:line: in func``."""
    out = []
    for line in text.splitlines():
        m = _FRAME.match(line)
        if m and not line.startswith(("E ", ">")):
            out.append([m.group(1), int(m.group(2)), m.group(3)[:200]])
    return out


def _text_message(text):
    """The ``E   ...`` lines of a text report: the error itself."""
    lines = [m.group(1) for m in map(_E_LINE.match, text.splitlines()) if m]
    return "\n".join(lines).strip()


def _record(report, kind):
    if not _PATH or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    when = getattr(report, "when", "collect") if kind == "test" else "collect"
    duration = round(getattr(report, "duration", 0.0) or 0.0, 4)
    attempt = int(getattr(report, "rerun", 0) or 0)
    location = getattr(report, "location", None)
    nodeid = report.nodeid
    if (report.outcome == "passed" and not hasattr(report, "wasxfail") and _fd and isinstance(nodeid, str)
            and type(duration) is float and isinstance(location, tuple) and len(location) == 3
            and isinstance(location[0], str) and isinstance(location[2], str)
            and (location[1] is None or type(location[1]) is int)):
        # A passed phase, nearly every record: spelled as json.dumps spells it, with C calls
        # only (under coverage's tracer each Python call of json's encoder costs more than
        # the rest of the record), and written with one system call.
        lineno = "null" if location[1] is None else str(location[1])
        os.write(_fd[0], (f'{{"nodeid": {_quote(nodeid)}, "when": {_quote(when)}, "outcome": "passed", '
                          f'"duration": {duration!r}, "attempt": {attempt}, "location": '
                          f'[{_quote(location[0])}, {lineno}, {_quote(location[2])}]}}\n').encode("utf-8"))
        return
    rec = {
        "nodeid": nodeid,
        "when": when,
        "outcome": report.outcome,
        "duration": duration,
        "attempt": attempt,
        "location": list(location) if location else None,
    }
    if hasattr(report, "wasxfail"):
        rec["xfail"] = True
    if report.outcome != "passed" and report.longrepr is not None:
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skipped: (path, line, reason)
            rec["message"] = str(longrepr[2])[:_MAX_TEXT]
        else:
            crash = getattr(longrepr, "reprcrash", None)
            if crash is not None:
                rec["crash"] = {"path": str(crash.path), "lineno": int(crash.lineno),
                                "message": str(crash.message)[:_MAX_TEXT]}
            text = str(longrepr)
            try:
                rec["entries"] = _entries(longrepr) or _text_entries(text)
            except Exception:  # noqa: BLE001 - best effort, never break the run
                rec["entries"] = []
            if crash is None:
                rec["message"] = _text_message(text)[:_MAX_TEXT]
            rec["longrepr"] = text[-_MAX_TEXT:]
    _write(json.dumps(rec) + "\n")


_fd = []   # the results file, opened on the first record and kept open


def _write(line):
    """Append one record with one system call: a run that is killed loses none it wrote,
    and a process forked by a test has nothing buffered to write again. (An open and a
    close for each of the three records of every test cost more than the record.)"""
    if not _fd:
        _fd.append(os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
    os.write(_fd[0], line.encode("utf-8"))


def pytest_unconfigure(config):
    while _fd:
        os.close(_fd.pop())


def pytest_runtest_logreport(report):
    _record(report, "test")


def pytest_collectreport(report):
    if report.failed and not os.environ.get("COVBOT_ONLY"):
        _record(report, "collect")


def pytest_collection_finish(session):
    """How many tests this session will run (after deselection), beside the results file:
    covbot counts the tests a killed run never reached. Not on covbot's rerun pass."""
    if not _PATH or os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("COVBOT_ONLY"):
        return
    with open(_PATH + ".collected", "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"collected": len(session.items)}) + "\n")


def pytest_collection_modifyitems(config, items):
    """covbot's rerun pass: keep only the tests listed in ``COVBOT_ONLY`` (one node id a
    line), whatever paths the test command names."""
    only_file = os.environ.get("COVBOT_ONLY")
    if not only_file:
        return
    try:
        with open(only_file, encoding="utf-8") as fh:
            wanted = {line.rstrip("\n") for line in fh if line.strip()}
    except OSError:
        return
    keep = [item for item in items if item.nodeid in wanted]
    drop = [item for item in items if item.nodeid not in wanted]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
