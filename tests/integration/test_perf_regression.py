"""Performance regression check: a small version of the benchmark workload.

``benchmarks/run.py`` measures covbot against diff-cover on a large real package; this
check runs on every CI build with a synthetic package (no network) at three sizes, so a
slowdown cannot land unnoticed. It asserts shapes, not timings (how covbot compares with
diff-cover is the benchmark's to say, on a quiet machine: at this size both are mostly
interpreter start-up, and the ratio moved with the machine):

- covbot's work grows linearly with the project (the Python and C calls ``covbot report``
  makes in this process, at 1x, 2x and 4x the statements and test cases);
- a report imports none of the heavy packages it does not need (PyGithub, requests, yaml).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import workload  # noqa: E402

pytestmark = pytest.mark.slow   # builds three workloads with coverage.py: about 20 s

MODULES = (6, 12, 24)       # modules of the synthetic package at each size
FUNCTIONS = 5               # functions per module, about 40 statements each
TESTS_PER_MODULE = 300      # JUnit test cases per module
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def workloads(tmp_path_factory) -> dict[int, tuple[Path, dict]]:
    root = tmp_path_factory.mktemp("perf")
    built = {}
    for n in MODULES:
        old, new = root / f"old-{n}", root / f"new-{n}"
        workload.synthetic_package(old, n, version=1, functions=FUNCTIONS)
        workload.synthetic_package(new, n, version=2, functions=FUNCTIONS)
        dest = root / f"workload-{n}"
        meta = workload.build(dest, old, new, tests=n * TESTS_PER_MODULE, xml=n == MODULES[-1])
        built[n] = (dest, meta)
    return built


def _report_args(dest: Path, out: Path) -> list[str]:
    repo = dest / "repo"
    return ["report", "--no-run", "-C", str(repo), "--coverage-file", str(repo / "coverage.json"),
            "--junit", str(dest / "junit.xml"), "--baseline", str(dest / "base-coverage.json"),
            "--base", "main", "--output-dir", str(out), "--format", "markdown"]


def _calls_in_process(dest: Path, out: Path, capsys) -> int:
    """Python and C function calls made by ``covbot report`` in this process (git's own
    work, in its child processes, is not counted: this counts covbot's code). A count,
    not a clock: the same input gives the same figure on any machine, however busy."""
    from bot.app.cli import main

    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        code = main(_report_args(dest, out))
    finally:
        sys.setprofile(None)
    capsys.readouterr()
    assert code in (0, 1)
    return calls


def test_covbot_grows_linearly(workloads, tmp_path, capsys, monkeypatch):
    from bot.app.cli import main

    # All of the work in this process (no forked readers), so that the profiler sees it.
    monkeypatch.setenv("COVBOT_SERIAL", "1")
    main(_report_args(workloads[MODULES[0]][0], tmp_path / "warm"))   # imports, caches
    capsys.readouterr()
    sizes = [workloads[n][1]["statements"] for n in MODULES]
    work = [_calls_in_process(workloads[n][0], tmp_path / f"out-{n}", capsys) for n in MODULES]
    # The workload doubles in statements, diff and test cases at each step.
    assert sizes[1] > 1.7 * sizes[0] and sizes[2] > 1.7 * sizes[1], sizes
    per_stmt = [c / s for c, s in zip(work, sizes)]
    marginal = [(work[1] - work[0]) / (sizes[1] - sizes[0]), (work[2] - work[1]) / (sizes[2] - sizes[1])]
    detail = ", ".join(f"{s} statements: {c} calls" for s, c in zip(sizes, work))
    # Linear (plus a constant) means the work per statement does not grow with size,
    # and neither does the work of the statements added from one size to the next;
    # quadratic work would double the latter at each step. (Timed, this check moved
    # with the machine's load by more than these margins: it counts calls instead.)
    assert per_stmt[2] <= 1.3 * per_stmt[0], detail
    assert marginal[1] <= 1.6 * marginal[0], detail


def test_report_imports_only_what_it_needs(workloads, tmp_path):
    dest, _meta = workloads[MODULES[0]]
    code = ("import sys, json\n"
            "from bot.app.cli import main\n"
            f"code = main({_report_args(dest, tmp_path / 'out')!r})\n"
            "heavy = ('github', 'requests', 'urllib3', 'yaml', 'coverage', 'jinja2',\n"
            # nor covbot's own code for other modes: the data branch (--baseline auto), reruns
            "         'bot.baseline.stored', 'bot.baseline.data_branch', 'bot.runs.rerun')\n"
            "print(json.dumps([code, sorted(m for m in heavy if m in sys.modules)]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert exit_code in (0, 1)
    assert loaded == [], f"covbot report --no-run imported {loaded}"


# -- the lean paths give what the plain ones give ------------------------------------------

def _mapper(repo: Path):
    from bot.runs.git import Git
    from bot.inputs.paths import PathMapper

    return PathMapper(repo, Git(repo).tracked_files())


def _fields(fc) -> tuple:
    return (fc.statements, fc.missing, fc.branch_lines, fc.branches, fc.missing_branches)


def test_typed_coverage_json_reader_matches_the_stdlib_one(workloads, monkeypatch):
    from bot.inputs import coverage_json as load

    pytest.importorskip("msgspec")
    dest, _meta = workloads[MODULES[1]]
    repo = dest / "repo"
    path = repo / "coverage.json"
    monkeypatch.setattr(load, "TYPED_MIN_BYTES", 0)           # msgspec even for a small file
    fast = load.load_json(path, _mapper(repo))
    monkeypatch.setattr(load, "decoder_cache", [None])       # as without msgspec
    plain = load.load_json(path, _mapper(repo))
    assert fast.has_branches and plain.has_branches
    assert sorted(fast.files) == sorted(plain.files)
    assert {p: _fields(f) for p, f in fast.files.items()} == {p: _fields(f) for p, f in plain.files.items()}
    # And both agree with coverage.py's own totals in the same file.
    totals = json.loads(path.read_text())["totals"]
    n = fast.totals
    assert (n.statements, n.missing, n.branches, n.missing_branches) == (
        totals["num_statements"], totals["missing_lines"], totals["num_branches"],
        totals["num_branches"] - totals["covered_branches"])


@pytest.mark.parametrize("typed_min_bytes", [0, 1 << 40])
def test_baseline_from_coverage_json_reads_the_summaries_only(workloads, typed_min_bytes, monkeypatch):
    from bot.inputs import coverage_json as load
    from bot.baseline.sources import from_file
    from bot.runs.git import Git
    from bot.model.coverage import FileNumbers

    dest, _meta = workloads[MODULES[1]]
    repo = dest / "repo"
    base_json = dest / "base-coverage.json"
    full = load.load_json(base_json, _mapper(repo))
    monkeypatch.setattr(load, "TYPED_MIN_BYTES", typed_min_bytes)   # msgspec, then the stdlib
    baseline = from_file(base_json, root=repo, tracked=Git(repo).tracked_files())
    cov = baseline.coverage
    assert all(isinstance(f, FileNumbers) for f in cov.files.values())
    assert sorted(cov.files) == sorted(full.files)
    assert {p: f.numbers for p, f in cov.files.items()} == {p: f.numbers for p, f in full.files.items()}
    assert cov.unmapped == full.unmapped and cov.has_branches == full.has_branches


@pytest.mark.parametrize("text, expected", [
    (b'{"meta": {"format": 3}, "files": {"a.py": {"executed_lines": [1]}}}', "entry for 'a.py' is malformed"),
    (b'{"meta": {"format": 3}, "files": [1, 2]}', "not a coverage.py JSON report"),
    (b'[1, 2, 3]', "not a coverage.py JSON report"),
    (b'{"meta": {"format": 3}, "files": {"a.py": ', "is not valid JSON"),
])
def test_bad_coverage_json_gets_one_clear_message(tmp_path, text, expected, monkeypatch):
    from bot.inputs import coverage_json as load
    from bot.model.errors import InputError
    from bot.inputs.paths import PathMapper

    path = tmp_path / "coverage.json"
    path.write_bytes(text)
    monkeypatch.setattr(load, "TYPED_MIN_BYTES", 0)
    for cache in (None, [None]):          # the typed reader, then the stdlib one
        if cache is not None:
            monkeypatch.setattr(load, "decoder_cache", cache)
        with pytest.raises(InputError) as info:
            load.load_json(path, PathMapper(tmp_path, ["a.py"]))
        assert expected in info.value.message and str(path) in info.value.message


def test_report_json_text_is_what_json_dumps_writes():
    from bot.model.report import json_text

    pytest.importorskip("msgspec")    # imported: json_text encodes with it
    doc = {"schema_version": 1, "path": "src/café/ünïcode.py", "nums": [0, -1, 2.5, 100.0, 0.01, -0.5, None],
           "flags": [True, False], "empty": {}, "nested": {"a": [], "b": [{"c": "d\n\"e\"\t"}]}}
    assert "msgspec" in sys.modules
    assert json_text(doc) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    tiny = {"x": 1e-05}                   # spelled 0.00001 by msgspec: the same number
    assert json.loads(json_text(tiny)) == tiny


def test_typed_reader_refuses_line_numbers_that_are_not_numbers(tmp_path, monkeypatch):
    from bot.inputs import coverage_json as load
    from bot.model.errors import InputError
    from bot.inputs.paths import PathMapper

    pytest.importorskip("msgspec")
    monkeypatch.setattr(load, "TYPED_MIN_BYTES", 0)
    path = tmp_path / "coverage.json"
    path.write_bytes(b'{"meta": {"format": 3}, "files": {"a.py": {"missing_lines": ["x"]}}}')
    with pytest.raises(InputError, match="entry for 'a.py' is malformed"):
        load.load_json(path, PathMapper(tmp_path, ["a.py"]))


def _defusedxml_cases(path: Path) -> list[tuple]:
    """Each test case as defusedxml's ElementTree reads it, in document order: (pytest
    node id, outcome, file, message, traceback text, duration), for test cases that name
    their file and class as pytest's xunit1 writes them."""
    from defusedxml import ElementTree as SafeET

    out = []
    for case in SafeET.parse(path).getroot().iter("testcase"):
        a = case.attrib
        outcome, message, text = "passed", "", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message, text = ("failed" if child.tag == "failure" else "error"), child.get("message", ""), \
                    child.text or ""
                break
            if child.tag == "skipped":
                outcome, message = "skipped", child.get("message", "")
        module = a["file"][:-3].replace("/", ".")
        classes = a["classname"][len(module) + 1:].split(".") if a["classname"] != module else []
        out.append(("::".join([a["file"], *classes, a["name"]]), outcome, a["file"], message, text,
                    float(a.get("time") or 0)))
    return out


def _read_cases(path: Path) -> list[tuple]:
    from bot.inputs import junit

    return [(r.id, r.outcome, r.file, r.message, r.text, r.duration) for r in junit.read_junit(path)]


# Outcome elements in every place a test case can have them, and elements around them.
ODD_STRUCTURES = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="a"><properties><property name="k" value="v"/></properties>
<testcase classname="t.test_m" name="test_out" file="t/test_m.py" time="0.5"><system-out>printed</system-out>\
<system-err>warned</system-err></testcase>
<testcase classname="t.test_m.TestC" name="test_skip_then_fail" file="t/test_m.py" time="1">\
<skipped message="first"/><failure message="E: then">the &lt;text&gt;<b>not this</b> nor this</failure></testcase>
<testcase classname="t.test_m.TestC" name="test_fail_then_skip" file="t/test_m.py" time="">\
<error message="boom">err text</error><skipped message="ignored"/><failure message="ignored too"/></testcase>
<testcase classname="t.test_m.TestC" name="test_two_skips" file="t/test_m.py" time="2.5e-3">\
<skipped message="one"/><skipped message="two"/></testcase>
<testcase classname="t.test_m" name="test_nested" file="t/test_m.py"><x><failure message="not its own"/></x></testcase>
</testsuite><testsuite name="b"><failure message="outside a test case"/>
<testcase classname="t.test_n" name="test_last" file="t/test_n.py" time=" 7 "><skipped/></testcase>
</testsuite></testsuites>
"""


def test_junit_reader_reads_what_defusedxml_reads(workloads, tmp_path):
    """The streaming reader gives, test case for test case, what defusedxml's
    ElementTree finds in the same files: the benchmark's JUnit file and one with
    outcome elements in every order and place."""
    dest, _meta = workloads[MODULES[1]]
    expected = _defusedxml_cases(dest / "junit.xml")
    assert len(expected) > 1000 and {"failed", "skipped", "passed"} <= {c[1] for c in expected}
    assert _read_cases(dest / "junit.xml") == expected
    odd = tmp_path / "odd.xml"
    odd.write_text(ODD_STRUCTURES)
    assert _read_cases(odd) == _defusedxml_cases(odd)


def test_junit_reader_refuses_dtds_where_defusedxml_does(tmp_path):
    from bot.inputs import junit
    from bot.model.errors import InputError

    hostile = tmp_path / "hostile.xml"
    hostile.write_text('<?xml version="1.0"?>\n<!-- run 1 -->\n<!DOCTYPE t [<!ENTITY a "aaaaaaaa">]>\n'
                       '<testsuite><testcase classname="t" name="x"><failure message="&a;"/></testcase></testsuite>\n')
    with pytest.raises(InputError, match="DTD"):
        junit.read_junit(hostile)
    late = tmp_path / "late.xml"
    late.write_text('<testsuite><!DOCTYPE t [<!ENTITY a "b">]><testcase classname="t" name="x"/></testsuite>')
    with pytest.raises(InputError, match="not well-formed"):
        junit.read_junit(late)
    undeclared = tmp_path / "undeclared.xml"
    undeclared.write_text('<testsuite><testcase classname="t" name="&xxe;"/></testsuite>')
    with pytest.raises(InputError, match="not well-formed"):
        junit.read_junit(undeclared)


def test_junit_reader_makes_about_one_python_call_per_test_case(workloads, tmp_path):
    """The reader's cost per test case is expat's plus one Python call (the start of the
    element): the plain passes are gathered by C loops. Counted, not timed: the
    profiler sees every Python function call. (ElementTree's iterparse with a loop
    over its events made 4.2 calls a test case.)"""
    from bot.inputs import junit

    repo = workloads[MODULES[0]][0] / "repo"
    path = tmp_path / "junit.xml"
    meta = workload.write_junit(path, repo, tests=20_000, seed=3)
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event == "call"

    junit.read_junit(path)        # imports and caches
    sys.setprofile(count)
    try:
        results = junit.read_junit(path)
    finally:
        sys.setprofile(None)
    assert len(results) == 20_000 and meta["failed"] > 100
    cpu = _best_cpu(lambda: junit.read_junit(path))
    floor = _best_cpu(lambda: _expat_alone(path))
    detail = (f"{calls / len(results):.2f} Python calls per test case; {cpu * 1000:.0f} ms, expat alone "
              f"{floor * 1000:.0f} ms")
    print(detail)
    assert calls <= 1.3 * len(results), detail


def _best_cpu(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def _expat_alone(path: Path) -> None:
    from xml.parsers import expat

    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda tag, attrs: None
    with open(path, "rb") as fh:
        parser.ParseFile(fh)


@pytest.mark.parametrize("edit", ["as written", "repeated line", "out of order", "summary disagrees"])
def test_counted_files_match_the_sets_they_stand_for(tmp_path, monkeypatch, edit):
    """coverage.json files are counted from their line lists and made into sets only on
    use; that is only done when the lists are what coverage.py writes (sorted, distinct,
    agreeing with the entry's summary), so an edited file is read as sets, as before."""
    from bot.inputs import coverage_json as load
    from bot.baseline.summary import encode_ranges, file_rows
    from bot.model.coverage import CountedFileCoverage, CoverageSet
    from bot.inputs.paths import PathMapper

    pytest.importorskip("msgspec")
    monkeypatch.setattr(load, "TYPED_MIN_BYTES", 0)
    executed, missing = [1, 2, 4, 7, 8], [3, 5, 6, 9]
    summary = {"num_statements": 9, "missing_lines": 4, "num_branches": 4, "covered_branches": 2}
    if edit == "repeated line":
        missing = [3, 5, 5, 9]
    elif edit == "out of order":
        missing = [9, 3, 6, 5]
    elif edit == "summary disagrees":
        summary["num_statements"] = 8
    arcs_run, arcs_missed = [[2, 4], [7, 8]], [[2, 3], [8, 9]]
    entry = {"executed_lines": executed, "missing_lines": missing, "summary": summary,
             "executed_branches": arcs_run, "missing_branches": arcs_missed}
    path = tmp_path / "coverage.json"
    path.write_text(json.dumps({"meta": {"format": 3, "branch_coverage": True}, "files": {"a.py": entry}}))
    fc = load.load_json(path, PathMapper(tmp_path, ["a.py"])).files["a.py"]
    assert isinstance(fc, CountedFileCoverage) == (edit == "as written")
    statements, missed = set(executed) | set(missing), set(missing)
    probe = {2, 3, 5, 10}     # before the sets are made, and after
    assert fc.lines_among(probe) == (probe & statements, probe & missed)
    assert (fc.statements, fc.missing) == (statements, missed)
    assert fc.lines_among(probe) == (probe & statements, probe & missed)
    assert (fc.numbers.statements, fc.numbers.missing) == (len(statements), len(missed))
    per_line = {}
    for arc in arcs_run + arcs_missed:
        total, lost = per_line.get(arc[0], (0, 0))
        per_line[arc[0]] = (total + 1, lost + (arc in arcs_missed))
    assert fc.branch_lines == per_line
    cov = CoverageSet(files={"a.py": fc})
    [row] = file_rows(cov)
    assert row[2] == encode_ranges(missed)
    assert row[5] == encode_ranges({arc[0] for arc in arcs_missed})
