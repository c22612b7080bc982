"""covbot's own per-attempt results: the JSON lines its pytest plugin writes (one record
per phase of each attempt), which keep the reruns that pytest's JUnit XML drops."""

from __future__ import annotations

import json
from pathlib import Path

from bot.inputs.results import Results, TestResult
from bot.inputs.tracebacks import (
    E_FILE,
    MESSAGE_LIMIT,
    TEXT_LIMIT,
    cut,
    entry_exc_type,
    exc_type_of,
    lead_with_exception,
    text_entries,
)
from bot.model.errors import InputError


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
        r.message = cut(lead_with_exception(_text(crash, "message") or _text(rec, "message")), MESSAGE_LIMIT)
        r.text = cut(_text(rec, "longrepr"), TEXT_LIMIT)
        r.entries = [list(e) for e in rec.get("entries") or []]
        if not r.entries or E_FILE.search(r.text):     # text frames include a SyntaxError's file
            r.entries = text_entries(r.text) or r.entries
        r.exc_type = exc_type_of(r.message) or entry_exc_type(r.entries, r.message)
    elif outcome == "skipped" and current == "skipped" and not r.message:
        r.message = cut(_text(rec, "message"), MESSAGE_LIMIT)
    r.duration += float(rec.get("duration", 0.0) or 0.0)
    r.outcome = r.attempts[-1]


def _text(rec: dict | None, key: str) -> str:
    """``rec[key]`` when ``rec`` is a record and that is a string, else ``""``."""
    value = rec.get(key) if isinstance(rec, dict) else None
    return value if isinstance(value, str) else ""


def not_run(results, results_file: Path) -> int | None:
    """How many collected tests have no result: the ones a run cut short never reached.
    The plugin writes the collected count beside the results file (``<file>.collected``);
    ``None`` when it did not (pytest-xdist, a run killed during collection)."""
    try:
        collected = json.loads(Path(str(results_file) + ".collected").read_text(encoding="utf-8"))["collected"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if type(collected) is not int or collected < 0:
        return None
    # a collection error is a module's result, not a test's: its tests were never collected
    reached = sum(1 for r in results if "::" in r.id)
    return max(0, collected - reached)


def mark_unfinished(results: list, results_file: Path, why: str) -> None:
    """Tests that started but never finished (setup logged, no teardown) when the run was
    killed did not pass: they are the ones that hung or crashed."""
    started: set[str] = set()
    finished: set[str] = set()
    for line in results_file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict):
            continue
        (finished if rec.get("when") == "teardown" else started).add(rec.get("nodeid"))
    for r in results:
        if r.id in started - finished and r.outcome in ("passed", "skipped"):
            r.outcome = "error"
            r.attempts = (r.attempts or ["error"])[:-1] + ["error"]
            r.when = "call"
            r.exc_type = "Timeout" if "did not finish" in why else "Crash"
            r.message = f"{r.exc_type}: the test did not finish: {why}"
            r.text = r.message
