"""pytest plugin loaded by covbot (``-p covbot_pytest_plugin``): writes one JSON line per
test phase and attempt, so reruns and tracebacks survive (pytest's JUnit XML drops
reruns). With ``COVBOT_ONLY`` (a file of node ids) it keeps only those tests: covbot's
flaky-detection rerun pass. With ``COVBOT_TEST_CONTEXTS`` (and covbot's tracer started by its
``sitecustomize``) each test's setup, call and teardown are recorded under the test's node
id as coverage.py's dynamic context: one switch a test, in every xdist worker too.
Standalone on purpose: it runs inside the project's environment."""

import json
import os
import re

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
    rec = {
        "nodeid": report.nodeid,
        "when": getattr(report, "when", "collect") if kind == "test" else "collect",
        "outcome": report.outcome,
        "duration": round(getattr(report, "duration", 0.0) or 0.0, 4),
        "attempt": int(getattr(report, "rerun", 0) or 0),
        "location": list(report.location) if getattr(report, "location", None) else None,
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
    with open(_PATH, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(rec) + "\n")


def pytest_runtest_logreport(report):
    _record(report, "test")


def pytest_collectreport(report):
    if report.failed and not os.environ.get("COVBOT_ONLY"):
        _record(report, "collect")


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
    """covbot's coverage.py tracer in this process, when it records contexts."""
    if not os.environ.get("COVBOT_TEST_CONTEXTS") or not os.environ.get("COVBOT_COVERAGE_DATA"):
        return None
    try:
        import coverage
    except ImportError:
        return None
    cov = coverage.Coverage.current()
    core = getattr(cov, "_core", None)
    if cov is None or not getattr(core, "supports_dynamic_contexts", False):
        return None
    return cov


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Setup, call and teardown of ``item`` measured under its node id. The context is
    switched once a test (each switch flushes the tracer's data); what runs after the
    last test (session teardown) belongs to no test."""
    cov = _tracer()
    if cov is not None:
        cov.switch_context(item.nodeid)
    yield
    if cov is not None and nextitem is None:
        cov.switch_context("")
