"""pytest plugin loaded by covbot (``-p covbot_pytest_plugin``): writes one JSON line per
test phase and attempt, so reruns and tracebacks survive (pytest's JUnit XML drops
reruns). With ``COVBOT_ONLY`` (a file of node ids) it keeps only those tests: covbot's
flaky-detection rerun pass. With ``COVBOT_TEST_CONTEXTS`` (a file naming the PR's changed files, NUL-separated; covbot's tracer
started by its ``sitecustomize``) each test's setup, call and teardown in those files are
recorded under the test's node id as coverage.py's dynamic context (:class:`_PerTest`),
in every xdist worker too.
Standalone on purpose: it runs inside the project's environment."""

import atexit
import json
import os
import re
from json.encoder import encode_basestring_ascii as _quote   # C: how json.dumps spells a string

import pytest

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


def _tracer():
    """covbot's coverage.py tracer in this process, when it records per-test contexts."""
    if not os.environ.get("COVBOT_TEST_CONTEXTS") or not os.environ.get("COVBOT_COVERAGE_DATA"):
        return None
    try:
        import coverage
    except ImportError:
        return None
    cov = coverage.Coverage.current()
    core = getattr(cov, "_core", None)
    if cov is None or not getattr(core, "supports_dynamic_contexts", False) \
            or not isinstance(getattr(getattr(cov, "_collector", None), "data", None), dict):
        return None
    return cov


class _PerTest:
    """The lines of the files ``COVBOT_TEST_CONTEXTS`` names (the PR's changed files) that
    each test runs, recorded under the test's node id.

    At each test's start and end the tracer's data of those files is taken out (a set a
    file, emptied in place: running frames keep adding to it); what ran in between is the
    test's (its setup, call and teardown). At the end of the session each test's part is
    handed back to coverage.py under the test's node id (``Coverage.switch_context``: one
    switch a test that ran those files), the rest with no context. The tracer itself never
    switches during the run, so a test costs two dictionary look-ups a changed file, and
    the data file grows by the changed files' per-test lines only.
    """

    def __init__(self, cov):
        self.cov = cov
        self.files = self._files()
        self.tests: dict = {}       # node id → {traced file: recorded items}
        self.outside: dict = {}     # what ran outside any test (imports at collection)

    @staticmethod
    def _files():
        try:
            with open(os.environ["COVBOT_TEST_CONTEXTS"], "rb") as fh:   # NUL-separated, as the OS has them
                names = [os.fsdecode(name) for name in fh.read().split(b"\0") if name]
        except OSError:
            return []
        return sorted({os.path.realpath(n) for n in names} | set(names))

    def take(self, into: dict) -> None:
        data = self.cov._collector.data
        for name in self.files:
            items = data.get(name)
            if items:
                snapshot = items.copy()
                items.difference_update(snapshot)
                into.setdefault(name, set()).update(snapshot)

    def save(self) -> None:
        """Every test's part to coverage.py under its node id, the rest without context.
        Each part goes back into the tracer's data and is written by the next switch
        (coverage.py writes data only at a switch or when it saves, and only when the
        tracer saw activity since the last write: a switch is a call it sees). Its
        database connection is held open meanwhile: each switch writes, and would
        otherwise open, set up, commit and close a connection of its own."""
        collector = self.cov._collector
        self._give_back(self.outside)           # written by the first switch, without context
        db = None
        try:
            for nodeid, recorded in self.tests.items():
                if recorded:                    # the test ran some of the files
                    self.cov.switch_context(nodeid)
                    db = db or _open(collector)
                    self._give_back(recorded)
            self.cov.switch_context("")
        finally:
            _close(db)
        self.tests, self.outside = {}, {}

    def restore(self) -> None:
        """At exit, when the session did not finish (pytest's own error, an exit from a
        plugin): every part taken goes back to the tracer's data without a context, so
        coverage.py's own save at exit still counts the changed files' lines."""
        for recorded in (self.outside, *self.tests.values()):
            self._give_back(recorded)
        self.tests, self.outside = {}, {}

    def _give_back(self, recorded: dict) -> None:
        data = self.cov._collector.data
        for name, items in recorded.items():
            data.setdefault(name, set()).update(items)


def _open(collector):
    """coverage.py's connection to its data file, entered (so nested writes reuse it), or
    None: before coverage.py's first write (which starts the file afresh, closing every
    connection) or when this coverage.py has no such thing."""
    try:
        if collector.covdata._have_used is not True:
            return None
        db = collector.covdata._connect()
        db.__enter__()
    except Exception:  # noqa: BLE001 - another coverage.py: it connects per write, as usual
        return None
    return db


def _close(db) -> None:
    """Leave what :func:`_open` entered: the writes made meanwhile are committed."""
    if db is not None:
        try:
            db.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - closed under us: coverage.py reconnects when it saves
            pass


def _recorder():
    """The per-test recorder of this process, or None when it records nothing."""
    cov = _tracer()
    rec = _PerTest(cov) if cov is not None else None
    return rec if rec is not None and rec.files else None


class _ContextHooks:
    """The per-test recording's hooks: registered only when it records, so that a run
    without contexts pays nothing a test (the results' hooks run inside the measured
    process, where every Python call is dearer)."""

    def __init__(self, rec):
        self.rec = rec

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        rec = self.rec
        rec.take(rec.outside)
        yield
        rec.take(rec.tests.setdefault(item.nodeid, {}))   # reruns of a test add to its part

    def pytest_sessionfinish(self, session):
        self.rec.take(self.rec.outside)
        self.rec.save()


def pytest_configure(config):
    rec = _recorder()
    if rec is not None:
        config.pluginmanager.register(_ContextHooks(rec), "covbot-test-contexts")
        # Registered after coverage.py's own exit handler, so it runs before that saves.
        atexit.register(rec.restore)
