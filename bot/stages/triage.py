"""Failing-test triage: pass rate, failures classified and grouped, new vs pre-existing.

Every failing or erroring test (and every test that failed and then passed on a rerun)
gets one of four classes, each with a one-line reason naming the evidence, so a
reviewer can check it and disagree:

- **flaky**: it failed and then passed on a rerun (pytest-rerunfailures, or covbot's
  own rerun pass), or it is known flaky on the base;
- **environment**: a timeout, a refused/reset connection, a failed DNS lookup, missing
  credentials or environment variables, out of memory, a full disk;
- **test bug**: a collection error, a missing fixture, a wrong ``mock.patch`` target,
  or an exception raised in a test file or fixture;
- **production bug**: the innermost project frame of the traceback is in a measured
  source file (the head coverage's files), or an assertion in a test checks the value
  of a call into a measured source file (pytest's ``where x = f(...)`` lines or the
  failing assert statement itself) — unless the test's lines changed in the PR and that
  source did not.

Failures are grouped by signature: exception type, first message line with numbers,
addresses and temporary paths normalised, and the innermost project frame (left out
for import errors, whose cause is the imported name, not the importing line).
"""

from __future__ import annotations

import re
from typing import Callable
from pathlib import Path

from bot.inputs.results import Results, TestResult
from bot.model.coverage import TestOutcomes
from bot.model.numbers import rounded_percent
from bot.stages.frames import Frame, FrameMapper, innermost_project, is_test_path, project_traceback
from bot.stages import who_tests
from bot.stages.signatures import normalise_keep_numbers, signature, strip_type

TEST_BUG = "test bug"
PRODUCTION_BUG = "production bug"
FLAKY = "flaky"
ENVIRONMENT = "environment"
CATEGORIES = (PRODUCTION_BUG, TEST_BUG, ENVIRONMENT, FLAKY)


def outcomes(results: Results | list[TestResult]) -> TestOutcomes:
    results = Results.of(results)
    o = TestOutcomes()
    o.total = o.passed = results.plain_count()   # plain passes are counted, not visited
    for r in results.notable():
        o.total += 1
        if r.outcome == "passed":
            o.passed += 1
            if r.flaky:
                o.flaky_ids.add(r.id)
        elif r.outcome == "failed":
            o.failed += 1
            o.failing_ids.add(r.id)
        elif r.outcome == "error":
            o.errors += 1
            o.failing_ids.add(r.id)
        else:
            o.skipped += 1
    return o


# -- classification --------------------------------------------------------------------

_TIMEOUT_TYPES = {"TimeoutError", "Timeout", "ReadTimeout", "ConnectTimeout", "ConnectTimeoutError",
                  "ReadTimeoutError", "timeout", "TimeoutExpired", "PoolTimeout"}
_REFUSED = ("connection refused", "[errno 111]", "econnrefused", "[winerror 10061]")
_RESET = ("connection reset", "[errno 104]", "econnreset", "connection aborted", "broken pipe")
_DNS = ("name or service not known", "temporary failure in name resolution", "nodename nor servname",
        "getaddrinfo failed", "no address associated with hostname", "[errno -2]", "[errno -3]")
_CRED_TYPES = {"NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError",
               "NoAuthTokenError", "CredentialsError", "MissingCredentialsError"}
_CRED_TEXT = re.compile(r"(credentials? (?:not found|missing|were not found|could not be found)|"
                        r"no credentials|missing credentials|unable to locate credentials)", re.I)
_MOCK_FILES = ("unittest/mock.py", "/mock/mock.py", "pytest_mock/")
_WHERE_CALL = re.compile(r"where .*? = ((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\(")
_CALL = re.compile(r"((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s*\(")
_NOT_CALLS = {"assert", "len", "str", "int", "float", "list", "dict", "set", "tuple", "sorted", "repr",
              "isinstance", "round", "abs", "sum", "min", "max", "any", "all", "bool", "type", "print",
              "approx", "raises", "getattr", "hasattr", "range", "enumerate", "zip", "open", "iter", "next"}


def _environment(r: TestResult, frames: list[Frame]) -> str | None:
    t = r.exc_type or ""
    m = r.message or ""
    low = m.lower()
    if t == "AssertionError" or m.startswith("assert "):
        return None     # an assertion compares values; "timed out" in one is data, not the network
    if t == "Failed" and "timeout" in low:
        limit = re.search(r"Timeout \(([^)]*)\)", m)
        return "timed out" + (f" after {limit.group(1)}" if limit else "") + " (pytest-timeout)"
    if t in _TIMEOUT_TYPES or low.startswith("timeout") or "timed out" in low:
        return f"timed out ({t or 'timeout'})"
    if t == "ConnectionRefusedError" or any(s in low for s in _REFUSED):
        return "connection refused: a service the test talks to is not running"
    if t in ("ConnectionResetError", "ConnectionAbortedError", "BrokenPipeError") or any(s in low for s in _RESET):
        return "connection reset by the other side"
    if t == "gaierror" or any(s in low for s in _DNS):
        return "DNS lookup failed: the host name does not resolve here"
    if t == "MemoryError":
        return "out of memory (MemoryError)"
    if t in _CRED_TYPES or _CRED_TEXT.search(m):
        return "missing credentials" + (f" ({t})" if t else "")
    if "no space left on device" in low or "[errno 28]" in low:
        return "disk full (no space left on device)"
    if t == "KeyError" and frames and frames[-1].kind == "external" and frames[-1].path.endswith("/os.py"):
        return f"missing environment variable {strip_type(m, t)}"
    return None


def _mock_target(r: TestResult, frames: list[Frame]) -> bool:
    t = r.exc_type or ""
    if t not in ("AttributeError", "ModuleNotFoundError", "ImportError"):
        return False
    if "does not have the attribute" in (r.message or ""):
        return True
    return any(f.kind == "external" and any(s in f.path for s in _MOCK_FILES) for f in frames)


def _missing_target(message: str, exc_type: str | None) -> str:
    """``calc.engine.sum_prices does not exist`` from mock's or import's message."""
    m = (re.search(r"<module '([^']+)'.*? does not have the attribute '([^']+)'", message)
         or re.search(r"<class '([^']+)'>? does not have the attribute '([^']+)'", message)
         or re.search(r"module '([^']+)' has no attribute '([^']+)'", message))
    if m:
        return f"{m.group(1)}.{m.group(2)} does not exist"
    m = re.search(r"No module named '([^']+)'", message)
    if m:
        return f"module {m.group(1)} does not exist"
    first = strip_type(message, exc_type).splitlines()[0] if message else (exc_type or "")
    return first[:120]


class DefIndex:
    """Where functions and classes of the measured source files are defined.

    ``read_source(path)`` gives a repository file's text (None when it cannot be read);
    without it nothing is known to be defined anywhere. The index is made on first use.
    """

    def __init__(self, read_source: Callable[[str], str | None] | None, measured: set[str]):
        self.read_source = read_source
        self.measured = sorted(p for p in measured if not is_test_path(p))
        self._index: dict[str, list[str]] | None = None

    def lookup(self, name: str) -> list[str]:
        if self._index is None:
            self._index = {}
            pattern = re.compile(r"^\s*(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.M)
            for path in self.measured:
                text = self.read_source(path) if self.read_source else None
                for n in set(pattern.findall(text or "")):
                    self._index.setdefault(n, []).append(path)
        return self._index.get(name, [])

    def changed(self, path: str, name: str, changed: dict[str, set[int]]) -> bool:
        """Whether this PR changed lines of ``name``'s definition in ``path`` (from its
        ``def`` to the next line indented no deeper)."""
        lines = changed.get(path)
        text = self.read_source(path) if lines and self.read_source else None
        if not text:
            return False
        rows = text.splitlines()
        start = next((i for i, row in enumerate(rows)
                      if re.match(rf"\s*(?:async\s+def|def|class)\s+{re.escape(name)}\b", row)), None)
        if start is None:
            return False
        indent = len(rows[start]) - len(rows[start].lstrip())
        end = start + 1
        while end < len(rows) and (not rows[end].strip() or len(rows[end]) - len(rows[end].lstrip()) > indent):
            end += 1
        return any(start < line <= end for line in lines)   # 1-based lines start+1 … end

    def pick(self, files: list[str], test_path: str) -> str:
        """Of several files defining a name, the one the test module imports."""
        text = self.read_source(test_path) if self.read_source and len(files) > 1 else None
        if text is None:
            return files[0]
        modules = re.findall(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", text, re.M)
        suffixes = [(a or b).replace(".", "/") for a, b in modules]
        for f in files:
            stem = f[:-3] if f.endswith(".py") else f
            if any(stem == sfx or stem.endswith("/" + sfx) for sfx in suffixes):
                return f
        return files[0]


def _assert_calls(r: TestResult) -> list[str]:
    """Names called in the failing assertion: pytest's ``where`` lines, then the ``>`` line."""
    names: list[str] = []
    for m in _WHERE_CALL.finditer(r.message or ""):
        names.append(m.group(1).rsplit(".", 1)[-1])
    for line in (r.text or "").splitlines():
        if line.startswith(">"):
            stmt = line[1:].strip()
            if stmt.startswith("assert"):
                for m in _CALL.finditer(stmt):
                    n = m.group(1).rsplit(".", 1)[-1]
                    if n not in _NOT_CALLS:
                        names.append(n)
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return seen


def classify(r: TestResult, frames: list[Frame], *, base: TestOutcomes | None,
             changed: dict[str, set[int]], defs: DefIndex, root: Path | None = None,
             lines_run: dict[str, list[int]] | None = None) -> tuple[str, str]:
    """(category, one-line reason) for a test that failed at least once; ``lines_run``:
    the changed lines the test ran (None when unknown), weighed by :func:`who_tests.weigh`."""
    category, reason = _classify(r, frames, base=base, changed=changed, defs=defs)
    if lines_run is not None and r.when != "collect":   # a module that failed to import ran no test
        test_changed = bool(r.file and r.file in changed) or any(f.kind == "test" and f.path in changed
                                                                 for f in frames)
        source_run = {p: lines for p, lines in lines_run.items() if not is_test_path(p)}   # the code, not tests
        # a traceback through a file the PR changed (deleted lines too) may be the PR's doing
        through_changed = any(f.kind == "source" and f.path in changed for f in frames)
        category, reason = who_tests.weigh(category, reason, source_run, test_changed=test_changed,
                                           any_changed=not through_changed and any(
                                               lines for p, lines in changed.items() if not is_test_path(p)))
    if root:
        reason = reason.replace(str(root).rstrip("/") + "/", "")
    return category, reason


def _classify(r: TestResult, frames: list[Frame], *, base: TestOutcomes | None,
              changed: dict[str, set[int]], defs: DefIndex) -> tuple[str, str]:
    failed_attempts = sum(1 for a in r.attempts if a in ("failed", "error"))
    if r.outcome == "passed" and failed_attempts:
        by = r.rerun_by or "a rerun"
        return FLAKY, f"failed {failed_attempts} of {len(r.attempts)} attempts, then passed when {by} retried it"
    if base is not None and r.id in base.flaky_ids:
        return FLAKY, "known flaky: it failed and then passed on a rerun on the base too"
    env = _environment(r, frames)
    if env:
        inner = innermost_project(frames)
        return ENVIRONMENT, env + (f", in {inner.where}" if inner else "")
    inner = innermost_project(frames)
    src = next((f for f in reversed(frames) if f.kind == "source"), None)
    if r.when == "collect":
        if inner is not None and inner.kind in ("source", "project"):
            what = "a measured source file" if inner.kind == "source" else "a source file"
            return PRODUCTION_BUG, (f"collection error: importing the test module failed in {inner.where}, "
                                    f"{what}")
        where = inner.where if inner else (r.file or r.id)
        what = normalise_keep_numbers(r.message) or "the test module could not be imported"
        return TEST_BUG, f"collection error in {where}: {what}"
    msg = r.message or ""
    fx = re.search(r"fixture '([^']+)' not found", msg) or re.search(r"fixture '([^']+)' not found", r.text or "")
    if fx:
        return TEST_BUG, f"fixture '{fx.group(1)}' not found (requested by {r.id})"
    if _mock_target(r, frames):
        at = f" (patched in {inner.where})" if inner else ""
        return TEST_BUG, f"wrong mock target: {_missing_target(msg, r.exc_type)}{at}"
    if inner is not None and inner.kind == "source":
        note = ", changed in this PR" if inner.line in changed.get(inner.path, set()) else ""
        return PRODUCTION_BUG, f"raised in {inner.where}, a measured source file{note}"
    through = [f for f in frames if f.kind == "source" and f.line in changed.get(f.path, set())]
    if through:
        return PRODUCTION_BUG, (f"the traceback passes through {through[-1].where}, a source line changed "
                                f"in this PR")
    is_assert = r.exc_type == "AssertionError" or msg.startswith("assert ")
    if inner is not None and inner.kind == "test" and is_assert and r.when == "call":
        for name in _assert_calls(r):
            files = defs.lookup(name)
            if not files:
                continue
            target = defs.pick(files, inner.path)
            # changed lines, not changed files: a PR that edits a file elsewhere did not change these
            test_changed = defs.changed(inner.path, inner.func, changed) or inner.line in changed.get(inner.path, ())
            source_changed = defs.changed(target, name, changed)
            if test_changed and not source_changed:
                return TEST_BUG, (f"assertion in {inner.where} fails; the test changed in this PR, "
                                  f"{name}() in {target} did not")
            if source_changed:
                note = f"; {name}() changed in this PR"
            elif target in changed:
                note = f"; this PR changes {target}, not {name}()"
            else:
                note = ""
            return PRODUCTION_BUG, (f"assertion in {inner.where} checks the value of {name}() from "
                                    f"{target}, a measured source file{note}")
        return TEST_BUG, f"assertion failed in {inner.where}; it checks no call into measured source"
    if r.when in ("setup", "teardown"):
        where = inner.where if inner else (r.file or r.id)
        return TEST_BUG, f"fixture {r.when} failed in {where}"
    if inner is not None and inner.kind == "test":
        return TEST_BUG, f"raised in {inner.where}, a test file"
    if inner is not None:
        return TEST_BUG, f"raised in {inner.where}, a project file that is not measured source"
    if src is not None:
        return PRODUCTION_BUG, f"raised below {src.where}, a measured source file"
    return TEST_BUG, "no project frame in the traceback; the test's own code is the nearest suspect"


# -- the report's tests section --------------------------------------------------------

def build_tests(results: list[TestResult], *, base: TestOutcomes | None, measured: set[str],
                root: Path | None = None, config=None, changed: dict[str, set[int]] | None = None,
                known: set[str] | None = None, read_source: Callable[[str], str | None] | None = None,
                ran: who_tests.Ran | None = None) -> dict:
    """``report.tests``: counts, pass rate, classified failures, groups, fixed tests.
    ``root`` is where the tests ran (to shorten paths in messages); ``read_source``
    reads a repository file (:func:`bot.inputs.sources.source_reader`); ``ran``: the
    changed lines each test ran (:func:`bot.stages.who_tests.apply`), None without contexts."""
    changed = changed or {}
    o = outcomes(results)
    executed = o.total - o.skipped
    mapper = FrameMapper(root, measured, known or set())
    defs = DefIndex(read_source, measured)
    base_failing = base.failing_ids if base is not None else None
    failures = []
    groups: dict[str, dict] = {}
    results = Results.of(results)
    notable = results.notable()
    for r in notable:
        if r.outcome not in ("failed", "error") and not r.flaky:
            continue
        frames = mapper.frames(r)
        lines_run = ran.get(r.id, {}) if ran is not None else None
        category, reason = classify(r, frames, base=base, changed=changed, defs=defs, root=root,
                                    lines_run=lines_run)
        if base_failing is None:
            status = "unknown"
        elif r.id in base_failing or (base is not None and r.id in base.flaky_ids and r.flaky):
            status = "pre-existing"
        else:
            status = "new"
        sig = signature(r, frames, root)
        inner = innermost_project(frames)
        location = inner.where if inner else None
        message = _unroot(r.message or "", root)[:2000]
        item = {
            "id": r.id, "file": r.file, "category": category, "reason": reason, "status": status,
            "signature": sig, "message": message, "location": location,
            "outcome": "flaky" if r.flaky else r.outcome, "when": r.when,
            "attempts": list(r.attempts),
            "traceback": _unroot(project_traceback(r, frames), root),
            "frames": [{"path": f.path, "line": f.line, "func": f.func} for f in frames
                       if f.kind != "external"],
            "changed_lines_run": lines_run,
        }
        failures.append(item)
        g = groups.get(sig)
        if g is None:
            g = groups[sig] = {"signature": sig, "category": category, "reason": reason,
                               "exception": r.exc_type, "message": item["message"].split("\n")[0][:300],
                               "location": location, "count": 0, "new": 0, "pre_existing": 0,
                               "tests": []}
        g["count"] += 1
        g["new"] += status == "new"
        g["pre_existing"] += status == "pre-existing"
        g["tests"].append(r.id)
    fixed = []
    if base_failing is not None:
        # Passing now after a failed attempt is flaky, not fixed.
        now = {r.id: ("flaky" if r.flaky else r.outcome) for r in notable}
        if base_failing:
            now.update(dict.fromkeys(base_failing.intersection(results.plain_ids()), "passed"))
        fixed = sorted(i for i in base_failing if now.get(i) == "passed")
    order = {c: i for i, c in enumerate(CATEGORIES)}
    group_list = sorted(groups.values(), key=lambda g: (-g["new"], order.get(g["category"], 9), -g["count"],
                                                         g["signature"]))
    return {
        "total": o.total, "passed": o.passed, "failed": o.failed, "errors": o.errors,
        "skipped": o.skipped, "flaky": len(o.flaky_ids),
        "pass_rate": rounded_percent(o.passed, executed),
        "pass_rate_target": getattr(config, "pass_rate", 98.0) if config is not None else 98.0,
        "base_compared": base_failing is not None,
        "failures": failures, "groups": group_list,
        "fixed": [{"id": i} for i in fixed],
    }


def _unroot(text: str, root: Path | None) -> str:
    return text.replace(str(root).rstrip("/") + "/", "") if root else text


