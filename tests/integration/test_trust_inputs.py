"""Coverage and JUnit inputs from a pull request or an artifact are untrusted: through the
real CLI (`python -m bot report --no-run` as a subprocess, on a real git repository), a
file that measures nothing, holds impossible counts, does not decode, is a crafted
SQLite database or carries a 10 MB attribute gets one clear input error naming the file
(and the entry), in bounded time, with report.json and comment.md still written.

The inputs start as what coverage.py and pytest really wrote for a sample PR; each case
changes one thing in them.
"""

from __future__ import annotations

import json
import resource
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from support.repo_factory import PY, clean_env
from support.small_pr import make_pr

MODULE = "src/pkg/mod.py"


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """The sample PR measured by coverage.py with branch coverage: (repo, {name: path})."""
    root = tmp_path_factory.mktemp("trust")
    repo = make_pr(root / "repo")
    repo.coverage_run_pytest("--junitxml=junit.xml")
    repo.coverage("json", "-q", "-o", "coverage.json")
    repo.coverage("xml", "-q", "-o", "coverage.xml")
    keep = root / "inputs"
    keep.mkdir()
    files = {}
    for name in (".coverage", "coverage.json", "coverage.xml", "junit.xml"):
        shutil.move(str(repo.path / name), keep / name)
        files[name] = keep / name
    return repo, files


def _limit_memory():
    limit = 2 << 30    # a crafted input must not take the machine's memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def report(repo, out: Path, *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    """``python -m bot report --no-run --baseline none ARGS`` in ``repo``, output in ``out``:
    (the process, seconds it took). Memory is capped at 2 GB."""
    start = time.monotonic()
    proc = subprocess.run([PY, "-m", "bot", "report", "--no-run", "--baseline", "none",
                           "--output-dir", str(out), *args], cwd=repo.path, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory)
    return proc, time.monotonic() - start


def percentages(value, key: str = ""):
    """Every ``percent_*`` value anywhere in a report."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from percentages(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from percentages(v, key)
    elif key.startswith("percent") and value is not None:
        yield value


def input_error(proc: subprocess.CompletedProcess, out: Path, *words: str) -> dict:
    """The contract of a bad coverage input: exit 2, one error naming what is wrong with
    a hint, no traceback, report.json and comment.md written saying coverage could not be
    computed, no percentage outside [0, 100]. Returns report.json."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stderr.count("covbot: error:") == 1, proc.stderr[-3000:]
    assert "hint:" in proc.stderr, proc.stderr[-3000:]
    for word in words:
        assert word in proc.stderr, (word, proc.stderr[-3000:])
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    comment = (out / "comment.md").read_text(encoding="utf-8")
    assert doc["error"] is True and doc["errors"], doc
    assert "could not compute coverage" in comment
    assert all(0 <= pc <= 100 for pc in percentages(doc)), list(percentages(doc))
    return doc


# -- (13) a coverage input that measures nothing, or impossible counts ------------------

def _json_edit(edit):
    def build(files, dest):
        doc = json.loads(files["coverage.json"].read_text(encoding="utf-8"))
        edit(doc)
        dest.write_text(json.dumps(doc), encoding="utf-8")
        return dest
    return build


def _summary(**values):
    return lambda doc: doc["files"][MODULE]["summary"].update(values)


def _xml_edit(old, new):
    def build(files, dest):
        text = files["coverage.xml"].read_text(encoding="utf-8")
        assert old in text
        dest.write_text(text.replace(old, new, 1), encoding="utf-8")
        return dest
    return build


def _data_without_measurements(files, dest):
    shutil.copy(files[".coverage"], dest)
    con = sqlite3.connect(dest)
    with con:
        for table in ("arc", "line_bits", "tracer", "file"):
            con.execute(f"delete from {table}")
    con.close()
    return dest


NOTHING_OR_IMPOSSIBLE = {
    # case: (file name, builder(files, dest) -> path, words the error must hold)
    "xml-empty-coverage-element": ("coverage.xml", lambda f, d: (d.write_text("<coverage/>\n"), d)[1],
                                   ("measures no files",)),
    "xml-no-packages": ("coverage.xml", lambda f, d: (d.write_text(
        '<?xml version="1.0" ?>\n<coverage version="7.6" line-rate="1" branch-rate="1">'
        "<sources><source>src</source></sources><packages/></coverage>\n"), d)[1], ("measures no files",)),
    "json-no-files": ("coverage.json", _json_edit(lambda doc: doc.update(files={})), ("measures no files",)),
    "json-bare-empty-files": ("coverage.json", lambda f, d: (d.write_text('{"files": {}}'), d)[1],
                              ("measures no files",)),
    "json-covered-branches-past-the-total": ("coverage.json", _json_edit(_summary(covered_branches=1_000_000)),
                                             (MODULE, "impossible counts", "covered_branches")),
    "json-negative-branches": ("coverage.json", _json_edit(_summary(num_branches=-100)),
                               (MODULE, "impossible counts", "num_branches")),
    "json-more-missing-than-statements": ("coverage.json", _json_edit(_summary(missing_lines=1000)),
                                          (MODULE, "impossible counts", "missing_lines")),
    "xml-more-branches-covered-than-there-are": ("coverage.xml", _xml_edit('condition-coverage="50% (1/2)"',
                                                                           'condition-coverage="500% (10/2)"'),
                                                 ("mod.py", "impossible branch counts")),
    "xml-negative-line-number": ("coverage.xml", _xml_edit('number="1"', 'number="-1"'),
                                 ("mod.py", "impossible line number")),
    "data-without-measurements": (".coverage", _data_without_measurements, ("measured no files",)),
}


@pytest.mark.parametrize("case", sorted(NOTHING_OR_IMPOSSIBLE))
def test_coverage_that_measures_nothing_or_has_impossible_counts_is_an_input_error(case, measured, tmp_path):
    repo, files = measured
    name, build, words = NOTHING_OR_IMPOSSIBLE[case]
    path = build(files, tmp_path / name)
    out = tmp_path / "out"
    proc, _ = report(repo, out, "--coverage-file", str(path), "--junit", str(files["junit.xml"]))
    doc = input_error(proc, out, str(path), *words)
    # Not "100% of nothing", not 5555627.78%: the gate does not pass on it.
    assert doc["tests"]["total"] == 2


def test_the_genuine_files_still_pass_those_checks(measured, tmp_path):
    """The control for the cases above and below: what coverage.py wrote is accepted."""
    repo, files = measured
    expected = json.loads(files["coverage.json"].read_text(encoding="utf-8"))["totals"]["percent_covered"]
    for name in (".coverage", "coverage.json", "coverage.xml"):
        out = tmp_path / name
        proc, _ = report(repo, out, "--fail-on", "none", "--coverage-file", str(files[name]))
        assert proc.returncode == 0, proc.stderr[-3000:]
        doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert 0 < doc["totals"]["percent_covered"] < 100
        if name != "coverage.xml":    # Cobertura has no arcs: its combined figure differs by design
            assert doc["totals"]["percent_covered"] == pytest.approx(expected, abs=0.01)


# -- (14) a coverage.json that does not decode ------------------------------------------

def _entry_text(files, key: str, replacement: str) -> str:
    """coverage.json as coverage.py wrote it, with the value of ``key`` in the sample
    module's entry replaced by the raw JSON text ``replacement``."""
    doc = json.loads(files["coverage.json"].read_text(encoding="utf-8"))
    doc["files"][MODULE][key] = "@@REPLACED@@"
    return json.dumps(doc).replace('"@@REPLACED@@"', replacement)


UNDECODABLE = {
    "5000-digit integer": ("executed_lines", "[1, " + "9" * 5000 + "]"),
    "100k-deep nesting": ("missing_lines", "[" * 100_000 + "]" * 100_000),
    "100k-deep nesting in a key covbot does not read": ("contexts", "[" * 100_000 + "]" * 100_000),
    "missing_lines is a string": ("missing_lines", '"abc"'),
    "a line number that is a boolean": ("executed_lines", "[true, 2]"),
}


@pytest.mark.parametrize("decoder", ["stdlib", "msgspec"])
@pytest.mark.parametrize("case", sorted(UNDECODABLE))
def test_a_coverage_json_that_does_not_decode_is_one_input_error_naming_the_entry(case, decoder, measured,
                                                                                  tmp_path):
    from bot.inputs.coverage_json import TYPED_MIN_BYTES

    repo, files = measured
    text = _entry_text(files, *UNDECODABLE[case])
    if decoder == "msgspec":     # from this size on, covbot decodes with msgspec
        pytest.importorskip("msgspec")
        text += " " * max(0, TYPED_MIN_BYTES + 1 - len(text.encode()))
    else:
        assert len(text.encode()) < TYPED_MIN_BYTES
    path = tmp_path / "coverage.json"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    proc, _ = report(repo, out, "--coverage-file", str(path), "--junit", str(files["junit.xml"]))
    doc = input_error(proc, out, str(path), f"entry for {MODULE!r}")
    assert doc["tests"]["total"] == 2     # the JUnit results are still reported


@pytest.mark.parametrize("case", ["5000-digit integer", "100k-deep nesting"])
def test_a_baseline_report_json_that_does_not_decode_is_one_input_error(case, measured, tmp_path):
    """The same through ``--baseline report.json``: the head's numbers are kept."""
    repo, files = measured
    value = "[" + "9" * 5000 + "]" if case == "5000-digit integer" else "[" * 100_000 + "]" * 100_000
    baseline = tmp_path / "base-report.json"
    baseline.write_text('{"schema_version": 1, "files": ' + value + "}", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([PY, "-m", "bot", "report", "--no-run", "--baseline", str(baseline),
                           "--coverage-file", str(files["coverage.json"]), "--output-dir", str(out)],
                          cwd=repo.path, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "internal error" not in proc.stderr and proc.stderr.count("covbot: error:") == 1, proc.stderr[-3000:]
    assert f"baseline file {baseline}" in proc.stderr
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert 0 < doc["totals"]["percent_covered"] < 100 and doc["base_totals"] is None


# -- (15) a crafted .coverage ------------------------------------------------------------

def _crafted(sql: list[str], params: tuple = ()):
    def build(files, dest):
        shutil.copy(files[".coverage"], dest)
        con = sqlite3.connect(dest)
        with con:
            for statement in sql:
                con.execute(statement, params if "?" in statement else ())
        con.close()
        return dest
    return build


CRAFTED = {
    # A `file` that yields rows forever, each longer than the last: coverage.py hung
    # with its memory growing to 1.9 GB.
    "recursive view named file": (_crafted([
        "drop table file",
        "create view file(id, path) as with recursive r(id, path) as (select 1, '/x' union all "
        "select id + 1, path || 'xxxxxxxx' from r) select id, path from r"]), ("view", "'file'")),
    "trigger": (_crafted(["create trigger t after insert on context begin delete from arc; end"]),
                ("trigger", "'t'")),
    "virtual table": (_crafted(["drop table tracer", "create virtual table tracer using fts5(file_id, name)"]),
                      ("virtual table", "'tracer'")),
}


def _oversized_numbits(files, dest):
    """Line data instead of branch data, one row claiming 2.4 million lines ran."""
    shutil.copy(files[".coverage"], dest)
    con = sqlite3.connect(dest)
    with con:
        file_id = con.execute("select id from file where path like ?", ("%mod.py",)).fetchone()[0]
        con.execute("delete from arc")
        con.execute("update meta set value = '0' where key = 'has_arcs'")
        con.execute("insert into line_bits (file_id, context_id, numbits) values (?, 1, ?)",
                    (file_id, b"\xff" * 300_000))
    con.close()
    return dest


# One bit a line: line numbers up to 2,400,000 for a 20-line module.
CRAFTED["oversized line_bits row"] = (_oversized_numbits, ("line_bits", "300,000 bytes"))


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_coverage_data_file_is_refused_quickly_and_in_little_memory(case, measured, tmp_path):
    repo, files = measured
    build, words = CRAFTED[case]
    path = build(files, tmp_path / ".coverage")
    out = tmp_path / "out"
    proc, elapsed = report(repo, out, "--coverage-file", str(path), "--junit", str(files["junit.xml"]), timeout=60)
    input_error(proc, out, str(path), *words)
    assert elapsed < 20


def test_reading_data_files_stops_at_its_deadline_with_a_clear_error(measured, tmp_path):
    """Loading is bounded in time: past ``timeout`` it stops with an input error naming
    the file, whatever the file holds. (The CLI's bound is generous; here it is nil.)"""
    from bot.inputs.coverage import load_coverage
    from bot.model.errors import InputError

    repo, files = measured
    tracked = repo.git("ls-files").split()
    fine = load_coverage([files[".coverage"]], root=repo.path, tracked=tracked, timeout=60)
    assert MODULE in fine.files
    with pytest.raises(InputError) as info:
        load_coverage([files[".coverage"]], root=repo.path, tracked=tracked, timeout=0)
    assert str(files[".coverage"]) in info.value.message and "took longer than 0 s" in info.value.message


# -- (16) a 10 MB JUnit attribute ----------------------------------------------------------

@pytest.mark.parametrize("megabytes", [10, 20])
def test_a_10_mb_junit_attribute_is_read_in_linear_time_and_kept_cut(megabytes, measured, tmp_path):
    """Quadratic before: 3-4 s for 10 MB on a fast machine (13-28 s reported), 4 times
    that for 20 MB; linear now: well under a second."""
    repo, files = measured
    message = "AssertionError: the first line\n" + ("x" * 79 + "\n") * (12_500 * megabytes) + "the last line"
    assert len(message) > megabytes * 1_000_000
    junit = tmp_path / "junit.xml"
    junit.write_text('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest" tests="2">'
                     '<testcase classname="tests.test_mod" name="test_f" file="tests/test_mod.py"/>'
                     '<testcase classname="tests.test_mod" name="test_g" file="tests/test_mod.py">'
                     f"<failure message={quoteattr(message)}>def test_g():\n&gt;   assert False\n"
                     "E   AssertionError\n\ntests/test_mod.py:10: AssertionError</failure></testcase>"
                     "</testsuite></testsuites>\n", encoding="utf-8")
    out = tmp_path / "out"
    proc, elapsed = report(repo, out, "--fail-on", "none", "--coverage-file", str(files["coverage.json"]),
                           "--junit", str(junit), timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"a {len(message) / 1e6:.1f} MB attribute ({junit.stat().st_size / 1e6:.1f} MB file): {elapsed:.2f} s")
    assert elapsed < 5
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["tests"]["failed"] == 1
    [failure] = doc["tests"]["failures"]
    kept = failure["message"]
    assert kept.startswith("AssertionError: the first line\n") and kept.endswith("the last line")
    assert "characters cut" in kept and len(kept) <= 2000
    assert (out / "report.json").stat().st_size < 200_000
    assert len((out / "comment.md").read_text(encoding="utf-8")) <= 65536


def test_a_20_mb_comment_before_a_dtd_is_refused_in_linear_time(measured, tmp_path):
    """The same for the parser that refuses DTDs (defusedxml's): a comment of 20 MB ahead
    of a DOCTYPE is one token too."""
    repo, files = measured
    junit = tmp_path / "junit.xml"
    junit.write_text("<!-- " + "c" * 20_000_000 + " -->\n<!DOCTYPE t [<!ENTITY a \"b\">]>\n"
                     '<testsuite><testcase classname="tests.test_mod" name="test_f"/></testsuite>\n')
    out = tmp_path / "out"
    proc, elapsed = report(repo, out, "--coverage-file", str(files["coverage.json"]), "--junit", str(junit),
                           timeout=120)
    print(f"a 20 MB comment ahead of a DTD: {elapsed:.2f} s")
    assert proc.returncode == 2 and "refused" in proc.stderr and str(junit) in proc.stderr, proc.stderr[-3000:]
    assert elapsed < 5
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert 0 < doc["totals"]["percent_covered"] < 100     # the coverage report is complete
