"""pytest plugin loaded by covbot (``-p covbot_pytest_plugin``): writes one JSON line per
test phase and attempt, so reruns and tracebacks survive (pytest's JUnit XML drops
reruns). Standalone on purpose: it runs inside the project's environment."""

import json
import os

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
            try:
                rec["entries"] = _entries(longrepr)
            except Exception:  # noqa: BLE001 - best effort, never break the run
                rec["entries"] = []
            rec["longrepr"] = str(longrepr)[-_MAX_TEXT:]
    with open(_PATH, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(rec) + "\n")


def pytest_runtest_logreport(report):
    _record(report, "test")


def pytest_collectreport(report):
    if report.failed:
        _record(report, "collect")
