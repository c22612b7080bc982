"""Failing-test triage rules on recorded results: failure signatures, the evidence behind
each class, the status against the base's outcomes, and the gate rules that read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.inputs.sources import source_reader
from bot.stages import frames, signatures, triage
from bot.model.config import Config
from bot.inputs.results import TestResult as Result
from bot.model.coverage import TestOutcomes as Outcomes


# -- grouping --------------------------------------------------------------------------

@pytest.mark.parametrize("message, expected", [
    ("ValueError: bad row 17 at offset 0x7f3a2b", "bad row N at offset 0x…"),
    ("assert 220.0 == 180.0\n +  where", "assert N == N"),
    ("FileNotFoundError: '/tmp/pytest-of-u/pytest-3/test_a0/x.csv'", "FileNotFoundError: '<tmp>'"),
    ("<object at 0xDEADbeef> != 3", "<object at 0x…> != N"),
    ("py311 and utf8 stay", "py311 and utf8 stay"),
])
def test_signature_normalises_numbers_addresses_and_temp_paths(message, expected):
    assert signatures.normalise(message).endswith(expected)


def test_signature_keeps_different_errors_apart():
    def result(msg, entries):
        r = Result(id="t", outcome="failed", message=msg, exc_type="ValueError", entries=entries)
        return r
    m = frames.FrameMapper(None, {"src/a.py"})
    a = result("ValueError: row 1", [["tests/test_a.py", 3, ""], ["src/a.py", 10, "ValueError"]])
    b = result("ValueError: row 2", [["tests/test_b.py", 7, ""], ["src/a.py", 10, "ValueError"]])
    c = result("ValueError: row 2", [["tests/test_b.py", 7, ""], ["src/a.py", 12, "ValueError"]])
    sa, sb, sc = (signatures.signature(x, m.frames(x), None) for x in (a, b, c))
    assert sa == sb == "ValueError: row N @ src/a.py:10"
    assert sc != sa


# -- classification evidence beyond the corpus -----------------------------------------

def _classify(r: Result, measured=frozenset({"src/pkg/engine.py"}), **kw):
    mapper = frames.FrameMapper(Path("/w"), set(measured))
    return triage.classify(r, mapper.frames(r), base=kw.get("base"), changed=kw.get("changed", {}),
                           defs=triage.DefIndex(None, set(measured)), root=Path("/w"))


@pytest.mark.parametrize("exc, message, reason", [
    ("gaierror", "gaierror: [Errno -2] Name or service not known", "DNS lookup failed"),
    ("ConnectionResetError", "ConnectionResetError: [Errno 104] Connection reset by peer", "reset"),
    ("MemoryError", "MemoryError", "out of memory"),
    ("NoCredentialsError", "NoCredentialsError: Unable to locate credentials", "missing credentials"),
    ("ConnectionError", "ConnectionError: HTTPConnectionPool(host='db', port=5432): Max retries exceeded "
     "(Caused by NewConnectionError('[Errno 111] Connection refused'))", "connection refused"),
    ("ReadTimeout", "ReadTimeout: HTTPSConnectionPool(host='api'): Read timed out.", "timed out"),
])
def test_environment_evidence(exc, message, reason):
    r = Result(id="tests/test_a.py::t", outcome="failed", message=message, exc_type=exc,
                   entries=[["tests/test_a.py", 5, ""], ["src/pkg/engine.py", 214, exc]])
    category, why = _classify(r)
    assert category == "environment" and reason in why


def test_an_assertion_about_a_timeout_is_not_the_environment():
    r = Result(id="tests/test_a.py::t", outcome="failed", exc_type="AssertionError",
               message="AssertionError: assert 'timed out' == 'done'",
               entries=[["tests/test_a.py", 5, "AssertionError"]])
    assert _classify(r)[0] == "test bug"


def test_missing_environment_variable_is_environment():
    r = Result(id="tests/test_a.py::t", outcome="failed", message="KeyError: 'API_TOKEN'",
                   exc_type="KeyError", entries=[["src/pkg/engine.py", 3, "in token"],
                                                 ["/usr/lib/python3.11/os.py", 679, "KeyError"]])
    assert _classify(r) == ("environment", "missing environment variable 'API_TOKEN', in src/pkg/engine.py:3")


def test_exception_in_source_is_production_bug_with_location():
    r = Result(id="tests/test_a.py::t", outcome="failed", message="KeyError: 'x'", exc_type="KeyError",
                   entries=[["tests/test_a.py", 5, ""], ["/w/src/pkg/engine.py", 214, "KeyError"]])
    assert _classify(r) == ("production bug", "raised in src/pkg/engine.py:214, a measured source file")
    assert _classify(r, changed={"src/pkg/engine.py": {214}})[1].endswith("changed in this PR")


def test_frames_recorded_elsewhere_are_mapped_by_suffix():
    r = Result(id="tests/test_a.py::t", outcome="failed", message="KeyError: 'x'", exc_type="KeyError",
                   entries=[["/github/workspace/tests/test_a.py", 5, ""],
                            ["/github/workspace/src/pkg/engine.py", 214, "KeyError"]])
    assert _classify(r)[0] == "production bug"


def test_assertion_without_source_evidence_is_test_bug():
    r = Result(id="tests/test_a.py::t", outcome="failed", message="AssertionError: assert 1 == 2",
                   exc_type="AssertionError", text=">       assert 1 == 2\nE   assert 1 == 2\n",
                   entries=[["tests/test_a.py", 5, "AssertionError"]])
    category, why = _classify(r)
    assert category == "test bug" and "no call into measured source" in why


def test_changed_test_against_unchanged_source_is_test_bug(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "calc.py").write_text("def price(x):\n    return x\n")
    r = Result(id="tests/test_c.py::t", outcome="failed",
                   message="AssertionError: assert 2 == 3\n +  where 2 = price(2)",
                   exc_type="AssertionError", entries=[["tests/test_c.py", 4, "AssertionError"]])
    mapper = frames.FrameMapper(tmp_path, {"src/calc.py"})
    defs = triage.DefIndex(source_reader(tmp_path), {"src/calc.py"})
    both = dict(frames=mapper.frames(r), base=None, defs=defs)
    assert triage.classify(r, **both, changed={"tests/test_c.py": {4}})[0] == "test bug"
    assert triage.classify(r, **both, changed={})[0] == "production bug"
    assert triage.classify(r, **both, changed={"src/calc.py": {2}, "tests/test_c.py": {4}})[0] == \
        "production bug"


def test_a_name_defined_twice_is_looked_up_where_the_test_imports_it(tmp_path):
    for mod in ("a", "b"):
        (tmp_path / "src" / mod).mkdir(parents=True)
        (tmp_path / "src" / mod / "prices.py").write_text("def price(x):\n    return x\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_p.py").write_text("from b.prices import price\n")
    measured = {"src/a/prices.py", "src/b/prices.py"}
    r = Result(id="tests/test_p.py::t", outcome="failed", message="AssertionError: assert 2 == 3\n +  where 2 = price(2)",
               exc_type="AssertionError", entries=[["tests/test_p.py", 4, "AssertionError"]])
    category, reason = triage.classify(r, frames.FrameMapper(tmp_path, measured).frames(r), base=None,
                                       changed={}, defs=triage.DefIndex(source_reader(tmp_path), measured))
    assert category == "production bug" and "price() from src/b/prices.py" in reason


def test_known_flaky_on_base_is_flaky():
    r = Result(id="tests/test_a.py::t", outcome="failed", message="AssertionError: x",
                   exc_type="AssertionError", entries=[["tests/test_a.py", 5, ""]])
    base = Outcomes(flaky_ids={"tests/test_a.py::t"})
    assert _classify(r, base=base)[0] == "flaky"


# -- base comparison -------------------------------------------------------------------

def test_new_pre_existing_and_fixed_against_base_outcomes():
    def r(i, outcome):
        return Result(id=i, outcome=outcome, message="AssertionError: no", exc_type="AssertionError",
                          attempts=[outcome], entries=[[i.split("::")[0], 3, ""]])
    results = [r("tests/test_a.py::new", "failed"), r("tests/test_a.py::old", "failed"),
               r("tests/test_a.py::fixed", "passed"), r("tests/test_a.py::skip", "skipped")]
    base = Outcomes(failing_ids={"tests/test_a.py::old", "tests/test_a.py::fixed", "tests/test_a.py::gone"})
    t = triage.build_tests(results, base=base, measured=set())
    status = {f["id"]: f["status"] for f in t["failures"]}
    assert status == {"tests/test_a.py::new": "new", "tests/test_a.py::old": "pre-existing"}
    assert t["fixed"] == [{"id": "tests/test_a.py::fixed"}]   # a test that is gone is not "fixed"
    assert t["pass_rate"] == round(100 * 1 / 3, 2)            # skipped excluded
    assert t["groups"][0]["new"] == 1


def test_gate_rules_read_the_triage_keys():
    from bot.stages.gate import rule_new_failures, rule_pass_rate
    from bot.model.report import Report

    rep = Report.__new__(Report)
    rep.tests = {"pass_rate": 97.5, "failures": [
        {"id": "a", "status": "new", "category": "flaky", "outcome": "flaky"},
        {"id": "b", "status": "pre-existing", "category": "test bug", "outcome": "failed"}]}
    cfg = Config()
    assert rule_new_failures(rep, cfg).status == "passed"     # flaky and pre-existing do not block
    assert rule_pass_rate(rep, cfg).status == "failed"
    rep.tests["failures"].append({"id": "c", "status": "new", "category": "production bug",
                                  "outcome": "failed"})
    res = rule_new_failures(rep, cfg)
    assert res.status == "failed" and res.message.startswith("1 test(s)")
    rep.tests["pass_rate"] = 98.0
    assert rule_pass_rate(rep, cfg).status == "passed"


# -- what the failing test ran (per-test contexts) ----------------------------------------

def _classify_ran(r: Result, lines_run, changed):
    mapper = frames.FrameMapper(Path("/w"), {"src/pkg/engine.py"})
    return triage.classify(r, mapper.frames(r), base=None, changed=changed, lines_run=lines_run,
                           defs=triage.DefIndex(None, {"src/pkg/engine.py"}), root=Path("/w"))


def test_a_failure_that_ran_changed_lines_says_which_and_counts_as_the_prs_production_bug():
    r = Result(id="tests/test_a.py::t", outcome="failed", message="AssertionError: assert 1 == 2",
               exc_type="AssertionError", text=">       assert 1 == 2\nE   assert 1 == 2\n",
               entries=[["tests/test_a.py", 5, "AssertionError"]])
    changed = {"src/pkg/engine.py": {12, 13, 14, 20}}
    assert _classify_ran(r, None, changed)[0] == "test bug"          # no contexts: as before
    category, why = _classify_ran(r, {"src/pkg/engine.py": [12, 13, 14]}, changed)
    assert category == "production bug"
    assert why.startswith("runs 3 lines this PR changed: src/pkg/engine.py 12-14")
    # a test that changed in the PR itself stays the suspect
    category, why = _classify_ran(r, {"src/pkg/engine.py": [12]}, {**changed, "tests/test_a.py": {5}})
    assert category == "test bug" and "runs 1 line this PR changed: src/pkg/engine.py 12" in why


def test_a_failure_that_ran_no_changed_line_is_not_blamed_on_the_prs_code(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "calc.py").write_text("def price(x):\n    return x\n\n\ndef tax(x):\n    return 0\n")
    r = Result(id="tests/test_c.py::t", outcome="failed",
               message="AssertionError: assert 2 == 3\n +  where 2 = price(2)",
               exc_type="AssertionError", entries=[["tests/test_c.py", 4, "AssertionError"]])
    mapper = frames.FrameMapper(tmp_path, {"src/calc.py"})
    args = dict(frames=mapper.frames(r), base=None, defs=triage.DefIndex(source_reader(tmp_path), {"src/calc.py"}),
                changed={"src/calc.py": {6}})
    assert triage.classify(r, **args)[1].endswith("a measured source file; this PR changes src/calc.py, not price()")
    category, why = triage.classify(r, **args, lines_run={})
    assert category == "production bug"
    assert "changed in this PR" not in why and why.endswith("it ran none of the lines this PR changed")
    flaky = Result(id="tests/test_a.py::f", outcome="passed", attempts=["failed", "passed"])
    assert "ran none" not in _classify_ran(flaky, {}, {"src/pkg/engine.py": {1}})[1]


def test_a_changed_line_on_the_traceback_outweighs_contexts_that_saw_none():
    """Code a test runs in a subprocess is recorded under no test: the traceback decides."""
    r = Result(id="tests/test_a.py::t", outcome="failed", message="KeyError: 'x'", exc_type="KeyError",
               entries=[["tests/test_a.py", 5, ""], ["/w/src/pkg/engine.py", 214, "KeyError"]])
    category, why = _classify_ran(r, {}, {"src/pkg/engine.py": {214}})
    assert category == "production bug" and why.endswith("changed in this PR") and "ran none" not in why
