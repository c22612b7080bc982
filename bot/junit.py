"""Read test results: JUnit XML (pytest's xunit1/xunit2, xdist, several files) and
covbot's own per-attempt results (JSON lines from its pytest plugin).

JUnit files are untrusted: parsed with defusedxml (no DTDs, no entities), streamed
with iterparse so 100,000 test cases cost little memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import InputError


@dataclass
class TestResult:
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

    @property
    def flaky(self) -> bool:
        return self.outcome == "passed" and any(a in ("failed", "error") for a in self.attempts[:-1])


def _junit_id(classname: str, name: str, file: str | None) -> str:
    """pytest node id from JUnit's classname/name (``tests.test_x.TestA`` + ``test_b``)."""
    if not classname:
        return name
    parts = classname.split(".")
    if file:
        mod = file[:-3].replace("/", ".") if file.endswith(".py") else None
        if mod and classname.startswith(mod):
            rest = classname[len(mod):].lstrip(".")
            return "::".join([file] + ([*rest.split(".")] if rest else []) + [name])
    # Guess: the module path is the longest prefix that does not look like a class.
    mod_parts = []
    cls_parts = []
    for p in parts:
        if cls_parts or (p[:1].isupper() and mod_parts):
            cls_parts.append(p)
        else:
            mod_parts.append(p)
    path = "/".join(mod_parts) + ".py"
    return "::".join([path] + cls_parts + [name])


def read_junit(path: Path) -> list[TestResult]:
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    if not path.is_file():
        raise InputError(f"JUnit file {path} does not exist", "check --junit / the `junit-files` input")
    if path.stat().st_size == 0:
        raise InputError(f"JUnit file {path} is empty", "the test run that should have written it probably failed")
    results: list[TestResult] = []
    saw_root = False
    try:
        for event, elem in SafeET.iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if elem.tag in ("testsuites", "testsuite"):
                    saw_root = True
                continue
            if elem.tag != "testcase":
                continue
            classname = elem.get("classname", "")
            name = elem.get("name", "")
            file = elem.get("file")
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
            r = TestResult(id=_junit_id(classname, name, file), outcome=outcome, file=file,
                           message=message, text=text, exc_type=exc_type,
                           duration=float(elem.get("time", 0) or 0))
            if outcome == "error" and message.startswith("collection failure"):
                r.when = "collect"
            elif outcome == "error" and "during setup" in message:
                r.when = "setup"
            elif outcome == "error" and "during teardown" in message:
                r.when = "teardown"
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


def _dedupe(results: list[TestResult]) -> list[TestResult]:
    """Some pytest-rerunfailures versions write one <testcase> per attempt: keep the last
    outcome, remember the attempts."""
    by_id: dict[str, TestResult] = {}
    for r in results:
        prev = by_id.get(r.id)
        if prev is None:
            by_id[r.id] = r
        else:
            r.attempts = prev.attempts + r.attempts
            by_id[r.id] = r
    return list(by_id.values())


def read_results_log(path: Path) -> list[TestResult]:
    """covbot plugin's JSON lines → one result per test, attempts in order."""
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
            raise InputError(f"{path}:{i} is not valid JSON") from None
        nodeid = rec.get("nodeid", "")
        when = rec.get("when", "call")
        outcome = rec.get("outcome", "passed")
        if rec.get("xfail"):
            outcome = "skipped"
        r = by_id.get(nodeid)
        if r is None:
            r = TestResult(id=nodeid, outcome="passed", file=nodeid.split("::", 1)[0] or None)
            by_id[nodeid] = r
            order.append(nodeid)
        attempt = rec.get("attempt", 0)
        if when == "setup" and attempt >= len(r.attempts) and outcome != "skipped":
            # A new attempt starts with its setup phase.
            if r.attempts or rec.get("attempt"):
                pass
        phase_outcome = outcome
        if when == "collect":
            phase_outcome = "error"
        elif outcome == "failed" and when in ("setup", "teardown"):
            phase_outcome = "error"
        _apply_phase(r, when, phase_outcome, rec)
    return [by_id[i] for i in order]


def _apply_phase(r: TestResult, when: str, outcome: str, rec: dict) -> None:
    # Each attempt is: setup, [call], teardown. A "setup" record starts a new attempt.
    if when in ("setup", "collect") or not r.attempts:
        r.attempts.append("passed")
    if outcome == "skipped":
        r.attempts[-1] = "skipped" if r.attempts[-1] == "passed" else r.attempts[-1]
    elif outcome in ("failed", "error"):
        if r.attempts[-1] in ("passed", "skipped"):
            r.attempts[-1] = outcome
            r.when = when
            r.message = (rec.get("crash") or {}).get("message", "") or rec.get("message", "")
            r.text = rec.get("longrepr", "")
            r.entries = rec.get("entries") or []
            r.crash = rec.get("crash")
            r.exc_type = _exc_type(r.message)
    r.duration += rec.get("duration", 0.0)
    r.outcome = r.attempts[-1]
    if r.outcome in ("passed", "skipped") and outcome == "passed" and when == "call":
        pass


def _exc_type(message: str) -> str | None:
    head = message.split(":", 1)[0].strip()
    if head and " " not in head and (head[0].isupper() or "." in head):
        return head.rsplit(".", 1)[-1]
    return None


def load_results(junit_files: list[Path], results_file: Path | None) -> list[TestResult]:
    """Per-attempt results when covbot ran the tests; JUnit otherwise (several files combined)."""
    if results_file is not None and results_file.is_file() and results_file.stat().st_size > 0:
        return read_results_log(results_file)
    merged: dict[str, TestResult] = {}
    for path in junit_files:
        for r in read_junit(Path(path)):
            prev = merged.get(r.id)
            # The same id in several files (shards, reruns): a pass anywhere after a
            # failure makes it flaky, not failing.
            if prev is not None:
                r.attempts = prev.attempts + r.attempts
                if "passed" in (prev.outcome, r.outcome):
                    r.outcome = "passed"
            merged[r.id] = r
    return list(merged.values())
