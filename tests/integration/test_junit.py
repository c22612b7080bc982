"""Reading test results: JUnit XML written by real pytest runs (xunit1, xunit2, xdist,
shards combined, rerun duplicates) and covbot's per-attempt JSON lines; hostile and
damaged files are refused with a message naming the file."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.stages import triage
from bot.inputs.sources import source_reader
from bot.model.errors import InputError
from bot.inputs.junit import load_results, read_junit
from bot.inputs.results_log import read_results_log
from bot.runs.collect import SUPPORT_DIR
from support.repo_factory import clean_env
from support.triage_corpus import corpus

SUPPORT = SUPPORT_DIR


def pytest_run(project: Path, *args: str, plugin_log: Path | None = None) -> int:
    env = clean_env()
    if plugin_log is not None:
        env["PYTHONPATH"] = str(SUPPORT)
        env["COVBOT_RESULTS"] = str(plugin_log)
        args = ("-p", "covbot_pytest_plugin", *args)
    # Plugins the sample project does not use are kept out: they only slow every run down.
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:hypothesispytest", "-p", "no:benchmark",
                           "--continue-on-collection-errors", *args],
                          cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stdout
    return proc.returncode


# The corpus without the timeout (it adds nothing to reading files) and without the
# pytest-rerunfailures defect (tested on its own below).
DEFECTS = tuple(d for d in corpus.ALL if d not in ("timeout", "flaky_rerunfailures"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same seeded project run three ways: JUnit xunit1, JUnit xunit2, covbot's log."""
    out = {}
    for family in ("xunit1", "xunit2"):
        project = corpus.seed(tmp_path_factory.mktemp(family) / "p", DEFECTS)
        junit = project / "junit.xml"
        log = project / "results.jsonl"
        pytest_run(project, f"--junitxml={junit}", "-o", f"junit_family={family}",
                   plugin_log=log if family == "xunit2" else None)
        out[family] = junit
        out[f"{family}-project"] = project
        if family == "xunit2":
            out["log"] = log
    return out


def _outcomes(results):
    return {r.id: r.outcome for r in results}


def test_xunit1_and_xunit2_give_the_same_ids_and_outcomes_as_the_plugin(runs):
    x1, x2 = read_junit(runs["xunit1"]), read_junit(runs["xunit2"])
    log = read_results_log(runs["log"])
    assert _outcomes(x1) == _outcomes(x2) == _outcomes(log)
    expected_failing = {i for d in DEFECTS for i in corpus.EXPECTED[d]}
    assert {i for i, o in _outcomes(x1).items() if o in ("failed", "error")} == expected_failing
    # The collection error is the module's id; the others are pytest node ids.
    assert _outcomes(x1)["tests/test_report_import.py"] == "error"
    assert _outcomes(x1)["tests/test_engine.py::test_total"] == "passed"


def test_collection_error_does_not_hide_the_other_modules(runs):
    results = read_junit(runs["xunit2"])
    files = {r.file for r in results}
    # Every test module of the project is reported, the broken one included.
    modules = {str(p.relative_to(runs["xunit2-project"])) for p in
               (runs["xunit2-project"] / "tests").glob("test_*.py")}
    assert files == modules
    assert sum(r.outcome == "passed" for r in results) == corpus.CLEAN_TESTS - 2


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_junit_alone_classifies_the_corpus(runs, family):
    project = runs[f"{family}-project"]
    t = triage.build_tests(read_junit(runs[family]), base=None, measured=corpus.SOURCE_FILES, root=project,
                           read_source=source_reader(project))
    got = {f["id"]: f["category"] for f in t["failures"]}
    want = {i: c for d in DEFECTS for i, c in corpus.EXPECTED[d].items() if c != "flaky"}
    # JUnit has no reruns: the order-dependent flaky test is just a failing test here.
    assert {i: c for i, c in got.items() if i in want} == want
    f = next(f for f in t["failures"] if f["id"] == "tests/test_parse.py::test_parse_trailing_separator")
    assert f["location"] == "src/calc/parse.py:9"


def test_shards_in_several_files_combine_to_the_whole_run(tmp_path):
    project = corpus.seed(tmp_path / "p", DEFECTS)
    whole = project / "whole.xml"
    pytest_run(project, f"--junitxml={whole}")
    (project / ".flaky-order-ran").unlink(missing_ok=True)
    modules = sorted(str(p.relative_to(project)) for p in (project / "tests").glob("test_*.py"))
    half = len(modules) // 2
    pytest_run(project, f"--junitxml={project / 'a.xml'}", *modules[:half])
    (project / ".flaky-order-ran").unlink(missing_ok=True)
    pytest_run(project, f"--junitxml={project / 'b.xml'}", *modules[half:])
    combined = load_results([project / "a.xml", project / "b.xml"], None)
    assert _outcomes(combined) == _outcomes(read_junit(whole))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed")
def test_xdist_run_reads_like_a_serial_run(tmp_path):
    project = corpus.seed(tmp_path / "p", DEFECTS)
    pytest_run(project, f"--junitxml={project / 'serial.xml'}")
    (project / ".flaky-order-ran").unlink(missing_ok=True)
    log = project / "xdist.jsonl"
    pytest_run(project, "-n", "2", f"--junitxml={project / 'xdist.xml'}", plugin_log=log)
    serial = _outcomes(read_junit(project / "serial.xml"))
    assert _outcomes(read_junit(project / "xdist.xml")) == serial
    # covbot's plugin records on the controller, once per test.
    assert _outcomes(read_results_log(log)) == serial


def test_rerunfailures_attempts_survive_in_the_log_and_duplicates_are_deduped(tmp_path):
    project = corpus.seed(tmp_path / "p", ("flaky_rerunfailures",))
    log = project / "results.jsonl"
    pytest_run(project, f"--junitxml={project / 'j.xml'}", plugin_log=log)
    flaky = "tests/test_flaky_marker.py::test_total_eventually"
    from_log = {r.id: r for r in read_results_log(log)}
    assert from_log[flaky].attempts == ["failed", "passed"] and from_log[flaky].flaky
    assert from_log[flaky].rerun_by == "pytest-rerunfailures"
    junit_text = (project / "j.xml").read_text()
    from_junit = read_junit(project / "j.xml")
    # Whatever this pytest-rerunfailures version writes, one result per test id.
    assert [r.id for r in from_junit].count(flaky) == 1
    assert len(from_junit) == corpus.CLEAN_TESTS + 1
    assert junit_text.count('name="test_total_eventually"') >= 1


def test_duplicated_testcases_keep_every_attempt(tmp_path):
    path = tmp_path / "dup.xml"
    path.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="2">'
        '<testcase classname="tests.test_a" name="test_x" time="0.1">'
        '<failure message="AssertionError: boom">tests/test_a.py:3: AssertionError</failure></testcase>'
        '<testcase classname="tests.test_a" name="test_x" time="0.1"/>'
        '</testsuite></testsuites>')
    (r,) = read_junit(path)
    assert r.id == "tests/test_a.py::test_x" and r.attempts == ["failed", "passed"] and r.flaky


def test_a_pass_in_one_file_after_a_failure_in_another_is_flaky(tmp_path):
    fail = tmp_path / "first.xml"
    ok = tmp_path / "second.xml"
    fail.write_text('<testsuite><testcase classname="tests.test_a" name="t">'
                    '<failure message="AssertionError: x">tests/test_a.py:2: AssertionError</failure>'
                    '</testcase></testsuite>')
    ok.write_text('<testsuite><testcase classname="tests.test_a" name="t"/></testsuite>')
    (r,) = load_results([fail, ok], None)
    assert r.outcome == "passed" and r.flaky and r.message == "AssertionError: x"


# -- damaged and hostile files --------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuite><testcase classname="a" name="&lol3;"/></testsuite>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite><testcase classname="a" name="b"><failure message="&xxe;"/></testcase></testsuite>
"""


@pytest.mark.parametrize("name, content, words", [
    ("empty.xml", "", "is empty"),
    ("garbage.xml", "this is not xml", "not well-formed"),
    ("lolz.xml", BILLION_LAUGHS, "refused"),
    ("xxe.xml", EXTERNAL_ENTITY, "refused"),
    ("other.xml", "<html><body/></html>", "not a JUnit report"),
])
def test_bad_junit_is_one_clear_error_naming_the_file(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as err:
        read_junit(path)
    assert str(path) in err.value.message and words in err.value.message


def test_truncated_real_junit_names_the_file(runs, tmp_path):
    data = runs["xunit2"].read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        read_junit(cut)
    assert str(cut) in err.value.message and "truncated" in (err.value.hint or "")


def test_missing_junit_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_junit(tmp_path / "nope.xml")


def test_results_log_tolerates_a_cut_last_line_but_not_garbage(runs, tmp_path):
    lines = runs["log"].read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10])
    assert len(read_results_log(cut)) >= len(read_results_log(runs["log"])) - 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n{oops\n" + lines[1] + "\n")
    with pytest.raises(InputError, match=f"{bad}:2 is not valid JSON"):
        read_results_log(bad)


def test_covbot_report_with_hostile_junit_exits_2_without_traceback(tmp_path):
    from support.repo_factory import Repo, SAMPLE_PYPROJECT  # noqa: F401 - the sample project helpers

    repo = Repo.create(tmp_path / "r", {"pkg.py": "def f():\n    return 1\n",
                                        "test_pkg.py": "import pkg\n\ndef test_f():\n    assert pkg.f() == 1\n"})
    repo.checkout("pr", new=True)
    repo.commit({"pkg.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n"}, "pr")
    env = clean_env()
    subprocess.run([sys.executable, "-m", "coverage", "run", "--branch", "-m", "pytest", "-q",
                    "-p", "no:cacheprovider", "-p", "no:hypothesispytest"], cwd=repo.path, env=env, check=True, stdout=subprocess.DEVNULL)
    (repo.path / "evil.xml").write_text(BILLION_LAUGHS)
    proc = subprocess.run([sys.executable, "-m", "bot", "report", "--no-run", "--coverage-file", ".coverage",
                           "--junit", "evil.xml", "--base", "main", "--baseline", "none",
                           "--output-dir", str(tmp_path / "out")],
                          cwd=repo.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "evil.xml" in proc.stderr and "refused" in proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert any("evil.xml" in e["message"] for e in report["errors"])
    assert os.path.exists(tmp_path / "out" / "comment.md")


def test_a_rewritten_assert_gets_its_exception_type_from_a_real_run(tmp_path):
    """pytest's crash message of a rewritten assert has no type ("assert 3 == 4"): the
    signature must still say AssertionError, and the traceback must not call the
    exception a function."""
    from bot.runs.collect import run_tests
    from bot.inputs.junit import load_results

    (tmp_path / "test_a.py").write_text("def total():\n    return 3\n\n\ndef test_total():\n"
                                        "    assert total() == 4\n")
    run = run_tests("python -m pytest -p no:cacheprovider -q", root=tmp_path, out_dir=tmp_path / "out",
                    measure=False)
    [r] = [r for r in load_results(run.junit_files, run.results_file) if r.outcome == "failed"]
    assert r.message.startswith("assert 3 == 4")
    assert r.exc_type == "AssertionError"
    group = triage.build_tests([r], base=None, measured=set(), root=tmp_path,
                               read_source=source_reader(tmp_path))["failures"][0]
    assert group["signature"].startswith("AssertionError: assert N == N")
    assert "in AssertionError" not in group["traceback"]


@pytest.mark.parametrize("odd_id", ["t.py::c", "t.py::c[\0]"])
def test_results_round_trip_through_the_packed_form(odd_id):
    """Plain passes travel as columns (NUL-joined strings, an array of doubles) and come
    back equal, in order, with counts known before the columns are split; a NUL in a
    name (impossible in XML, possible in a plugin log) falls back to plain lists."""
    import pickle

    from bot.stages import triage
    from bot.inputs.results import Results, TestResult

    given = [TestResult("t.py::a", "passed", "t.py", duration=0.25, attempts=["passed"]),
             TestResult("t.py::b", "failed", "t.py", message="AssertionError: boom", exc_type="AssertionError",
                        attempts=["failed"]),
             TestResult(odd_id, "passed", "t.py", duration=1.5, attempts=["passed"]),
             TestResult("u.py::d", "skipped", "u.py", message="later", attempts=["skipped"]),
             TestResult("u.py::e", "passed", None, attempts=["passed"])]
    back = Results.unpack(pickle.loads(pickle.dumps(Results(given).pack())))
    assert len(back) == len(given)
    o = triage.outcomes(back)
    assert (o.total, o.passed, o.failed, o.skipped, o.failing_ids) == (5, 3, 1, 1, {"t.py::b"})
    assert [r.id for r in back.notable()] == ["t.py::b", "u.py::d"]
    assert back == given
    assert sorted(back.plain_ids()) == sorted([given[0].id, odd_id, "u.py::e"])


PLUGIN_CALLS = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
import pytest
import covbot_pytest_plugin
plugin_file, json_dir = covbot_pytest_plugin.__file__, os.path.dirname(json.__file__)
calls = 0

def count(frame, event, arg):
    global calls
    if event == "call" and (frame.f_code.co_filename == plugin_file
                            or frame.f_code.co_filename.startswith(json_dir)):
        calls += 1

sys.setprofile(count)
code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "covbot_pytest_plugin", sys.argv[2]])
sys.setprofile(None)
print(json.dumps([int(code), calls]))
"""


def test_the_results_plugin_spends_two_python_calls_on_a_passed_phase(tmp_path):
    """The plugin records three phases of every test, inside the measured test process,
    where coverage's tracer makes every Python call dearer: on a 7,000-test suite its
    records took 4% of the run. A passed phase (nearly every record) costs its hook and
    one function, with one write (json's encoder made three Python calls a record, and
    the file was opened and closed for each); what it writes reads back the same."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "test_many.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('n', range(300))\n"
        "def test_n(n):\n    assert n >= 0\n\n"
        "def test_fails():\n    assert 1 + 1 == 3\n\n"
        "@pytest.mark.skip(reason='later')\n"
        "def test_skipped():\n    pass\n")
    log = tmp_path / "results.jsonl"
    env = clean_env()
    env["COVBOT_RESULTS"] = str(log)
    proc = subprocess.run([sys.executable, "-c", PLUGIN_CALLS, str(SUPPORT), str(project)], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    code, calls = json.loads(proc.stdout.strip().splitlines()[-1])
    assert code == 1, proc.stdout[-2000:]
    records = len(log.read_text().splitlines())
    assert records == 3 * 302 - 1          # setup, call, teardown of each; a skipped test has no call
    assert calls <= 2 * records + 40, f"{calls} Python calls of the plugin and json for {records} records"
    results = {r.id: r for r in read_results_log(log)}
    assert len(results) == 302
    assert {r.outcome for i, r in results.items() if i.startswith("test_many.py::test_n[")} == {"passed"}
    assert results["test_many.py::test_fails"].outcome == "failed"
    assert results["test_many.py::test_fails"].message.startswith("assert")
    assert results["test_many.py::test_skipped"].outcome == "skipped"
