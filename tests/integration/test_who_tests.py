"""Who tests what, on a real sample project: a PR changes ``add`` (one test runs it and
breaks), adds an uncovered ``div``, and changes a data file that makes another test fail
for a reason unrelated to the PR's code. The report's ``tests``, ``suggested_tests`` and
``changed_lines_run`` are checked against coverage.py's own per-line contexts
(``CoverageData.contexts_by_lineno`` of a pytest-cov ``--cov-context=test`` run) and
diff-cover's covered changed lines, in covbot's own runs (one process and xdist workers)
and in report-only mode (the pytest-cov data file, coverage.json with contexts)."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

import coverage
import pytest

from support.repo_factory import PY, Repo, clean_env, run, sample_pyproject

OPS = "src/calc/ops.py"
TEST_CMD = "python -m pytest -q -p no:cacheprovider"

BASE = {
    "pyproject.toml": sample_pyproject(relative_files=True),
    ".covbot.yml": "gate: [diff, new-failures]\nrerun-failures: false\n",
    "src/calc/__init__.py": "",
    OPS: """\
        def add(a, b):
            return a + b


        def mul(a, b):
            result = a * b
            return result
        """,
    "tests/test_ops.py": """\
        from calc.ops import add, mul


        def test_add():
            assert add(2, 3) == 5


        def test_mul():
            assert mul(2, 3) == 6
        """,
    "tests/test_more.py": """\
        from calc.ops import mul


        def test_mul_zero():
            assert mul(0, 7) == 0
        """,
    "tests/test_data.py": """\
        from pathlib import Path

        from calc.ops import mul


        def test_expected_product():
            expected = int((Path(__file__).parent / "product.txt").read_text())
            assert mul(2, 3) == expected
        """,
    "tests/product.txt": "6\n",
}

PR = {
    OPS: """\
        def add(a, b):
            total = a + b
            if total > 100:
                total = 100
            return total + 1


        def mul(a, b):
            result = a * b
            return result


        def div(a, b):
            if b == 0:
                raise ZeroDivisionError("b is zero")
            return a / b
        """,
    "tests/product.txt": "7\n",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The PR's checkout, with a pytest-cov run's per-test data (``.coverage``, JUnit,
    coverage.json with contexts) and diff-cover's covered changed lines."""
    repo = Repo.create(tmp_path_factory.mktemp("who") / "proj", BASE)
    repo.checkout("pr", new=True)
    repo.commit(PR, "PR: add() changed, div() added, the expected product changed")
    proc = run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov", "--cov-branch",
                "--cov-context=test", "--cov-report=", "--junitxml=junit.xml"], repo.path, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    repo.coverage("json", "-q", "--show-contexts", "-o", "coverage.json")
    repo.coverage("xml", "-q", "-o", "coverage.xml")
    return repo


def coverage_py_truth(repo: Repo) -> dict:
    """What coverage.py's data and diff-cover say: per covered changed line of ops.py the
    node ids that ran it, the changed lines each test ran, and the test files to extend."""
    data = coverage.CoverageData(basename=str(repo.path / ".coverage"))
    data.read()
    name = next(f for f in data.measured_files() if f.replace("\\", "/").endswith(OPS))
    by_line = {line: {c.rsplit("|", 1)[0] for c in ctxs if c}
               for line, ctxs in data.contexts_by_lineno(name).items()}
    out = repo.path / "dc.json"
    run([str(Path(PY).parent / "diff-cover"), "coverage.xml", "--compare-branch=main",
         f"--format=json:{out}", "-q"], repo.path, check=False)
    stats = json.loads(out.read_text())["src_stats"][OPS]
    covered, missing = stats["covered_lines"], stats["violation_lines"]
    assert covered and missing
    tests = {str(line): sorted(by_line.get(line, ())) for line in covered}
    ran: dict[str, list[int]] = {}
    for line in covered:
        for t in by_line.get(line, ()):
            ran.setdefault(t, []).append(line)
    # the test files whose tests run the most lines of the functions holding the missing
    # lines (add's clamp, div's body), else of the file
    tree = ast.parse((repo.path / OPS).read_text())
    body = set()
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        lines = set(range(fn.body[0].lineno, fn.end_lineno + 1))
        if lines & set(missing):
            body |= lines
    assert set(missing) <= body

    def rank(lines):
        c = Counter(f for line in lines for f in {t.split("::")[0] for t in by_line.get(line, ())})
        return [f for f, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]

    suggested = rank(body) or rank(by_line)
    return {"tests": tests, "ran": ran, "suggested": suggested, "missing": missing}


def failures(report: dict) -> dict:
    return {f["id"]: f for f in report["tests"]["failures"]}


def check_report(report: dict, truth: dict) -> None:
    fd = report["diff"]["files"][OPS]
    assert fd["missing_lines"] == truth["missing"]
    assert fd["tests"] == truth["tests"]
    assert fd["suggested_tests"] == truth["suggested"]
    fails = failures(report)
    broken, unrelated = fails["tests/test_ops.py::test_add"], fails["tests/test_data.py::test_expected_product"]
    assert broken["changed_lines_run"] == {OPS: truth["ran"]["tests/test_ops.py::test_add"]}
    assert "tests/test_data.py::test_expected_product" not in truth["ran"]
    assert unrelated["changed_lines_run"] == {}


def test_own_run_records_each_test_under_its_node_id(project):
    truth = coverage_py_truth(project)
    assert truth["ran"]["tests/test_ops.py::test_add"]   # and the def line of div ran at import: no test
    report = project.covbot_report("--test-command", TEST_CMD, "--baseline", "rerun")
    check_report(report, truth)
    fails = failures(report)
    broken = fails["tests/test_ops.py::test_add"]
    lines = truth["ran"]["tests/test_ops.py::test_add"]
    assert broken["category"] == "production bug"
    spans, start = [], None
    for i, n in enumerate(lines):   # consecutive lines as one span: "2-3, 5"
        start = n if start is None else start
        if i + 1 == len(lines) or lines[i + 1] != n + 1:
            spans.append(f"{start}-{n}" if n != start else str(n))
            start = None
    assert f"runs {len(lines)} lines this PR changed: {OPS} {', '.join(spans)}" in broken["reason"]
    unrelated = fails["tests/test_data.py::test_expected_product"]
    assert unrelated["status"] == "new"
    assert "it ran none of the lines this PR changed" in unrelated["reason"]
    assert "changed in this PR" not in unrelated["reason"].replace("the lines this PR changed", "")


def test_xdist_workers_combine(project):
    report = project.covbot_report("--test-command", TEST_CMD + " -n 2", "--baseline", "none")
    check_report(report, coverage_py_truth(project))


def test_report_only_from_pytest_cov_contexts(project):
    report = project.covbot_report("--no-run", "--coverage-file", ".coverage", "--junit", "junit.xml",
                                   "--baseline", "none")
    check_report(report, coverage_py_truth(project))


def test_report_only_from_coverage_json_with_contexts(project):
    report = project.covbot_report("--no-run", "--coverage-file", "coverage.json", "--junit", "junit.xml",
                                   "--baseline", "none")
    check_report(report, coverage_py_truth(project))


def test_contexts_off_leaves_the_keys_null(project):
    for args in (("--test-command", TEST_CMD), ("--no-run", "--coverage-file", ".coverage", "--junit", "junit.xml")):
        report = project.covbot_report(*args, "--baseline", "none", "--no-contexts")
        fd = report["diff"]["files"][OPS]
        assert fd["tests"] is None and fd["suggested_tests"] is None
        assert all(f["changed_lines_run"] is None for f in report["tests"]["failures"])


def rendered(markdown: str) -> str:
    """The comment as GitHub renders it (cmark-gfm, GitHub's options)."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)


def test_comment_section_and_tests_for(project):
    truth = coverage_py_truth(project)
    project.covbot_report("--test-command", TEST_CMD, "--baseline", "none")
    out = project.path / ".covbot-test-out"
    html = rendered((out / "comment.md").read_text(encoding="utf-8"))
    section = html[html.index("Tests of the changed lines"):]
    section = section[: section.index("</details>")]
    runs = Counter(t for ids in truth["tests"].values() for t in ids)
    assert "Tests of the changed lines: 1 test run " in section and len(runs) == 1
    (test, n), = runs.items()
    row = next(r for r in section.split("<tr>") if f"<code>{OPS}</code>" in r)
    assert f"<code>{test}</code> ({n})" in row
    assert f"extend <code>{truth['suggested'][0]}</code>" in row
    assert "\\" not in re.sub(r"<[^>]+>", "", section)   # no Markdown escape shows

    line = truth["ran"][test][0]
    proc = project.covbot("tests-for", f"{OPS}:{line}", "--report-dir", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == truth["tests"][str(line)]
    proc = project.covbot("tests-for", OPS, "--report-dir", str(out))
    assert proc.returncode == 0 and proc.stdout.split() == [test]
    proc = project.covbot("tests-for", f"{OPS}:{truth['missing'][0]}", "--report-dir", str(out))
    assert proc.returncode == 1 and f"extend {truth['suggested'][0]}" in proc.stderr
    proc = project.covbot("tests-for", "src/calc/nothing.py", "--report-dir", str(project.path / "none"))
    assert proc.returncode == 2 and "run `covbot report` first" in proc.stderr


def test_huge_pr_section_stays_within_the_comment_budget():
    """A PR of 3,000 changed files with 50 tests each: the comment keeps GitHub's limit,
    the section lists the first files and counts the rest."""
    from bot.model.report import DiffCoverage, FileDiff, Report
    from bot.render.markdown import COMMENT_LIMIT, render_comment

    files = {}
    for i in range(3000):
        tests = {str(n): [f"tests/test_mod{i}.py::test_case_{k}" for k in range(50)] for n in range(1, 30)}
        files[f"src/pkg/module_{i:04d}.py"] = FileDiff(changed_lines=40, missing_lines=list(range(30, 41)),
                                                        percent_covered=72.5, tests=tests,
                                                        suggested_tests=[f"tests/test_mod{i}.py"])
    totals = {"statements": 200000, "covered_statements": 150000, "missing_statements": 50000, "branches": 0,
              "covered_branches": 0, "percent_covered": 75.0, "percent_statements": 75.0}
    report = Report(head={"sha": "a" * 40}, base={}, totals=totals, base_totals=None, delta=None,
                    diff=DiffCoverage(num_lines=120000, files=files), files=[])
    comment = render_comment(report)
    assert len(comment) <= COMMENT_LIMIT
    html = rendered(comment)
    section = html[html.index("Tests of the changed lines"):]
    section = section[: section.index("</details>")]
    assert f"{3000 - 25} more file(s) in report.json" in section
    assert section.count("<tr>") == 1 + 25      # the header and the first files
    assert "+47 more" in section                 # 50 tests a file: three named, the rest counted


def test_report_only_shards_combine(project):
    """Two shards of the suite, each a pytest-cov run with contexts: together they say
    what the whole run's data says."""
    shards = {"a": "tests/test_ops.py", "b": "tests/test_more.py tests/test_data.py"}
    for name, paths in shards.items():
        env = clean_env(COVERAGE_FILE=str(project.path / f".coverage.shard-{name}"))
        run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov", "--cov-branch", "--cov-context=test",
             "--cov-report=", f"--junitxml=junit-{name}.xml", *paths.split()], project.path, check=False, env=env)
    report = project.covbot_report("--no-run", "--coverage-file", ".coverage.shard-a", "--coverage-file",
                                   ".coverage.shard-b", "--junit", "junit-a.xml", "--junit", "junit-b.xml",
                                   "--baseline", "none")
    check_report(report, coverage_py_truth(project))


def test_own_run_of_a_command_that_uses_pytest_cov(project):
    """A test command with ``--cov`` measures itself: covbot asks pytest-cov for its
    per-test contexts (``--cov-context=test``) and reads them from its data file."""
    truth = coverage_py_truth(project)
    report = project.covbot_report("--test-command", TEST_CMD + " --cov --cov-report=", "--baseline", "none")
    check_report(report, truth)


EXITS_EARLY = '''
import sys

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    sys.exit(int(session.exitstatus))   # before covbot's plugin writes the per-test parts
'''


def test_a_session_that_never_finishes_keeps_the_changed_files_coverage(tmp_path):
    """The plugin takes the changed files' lines out of the tracer's data while the
    tests run; when the session ends before it can write them per test (here a project
    plugin leaves first), they go back at exit, so coverage.py's own save still counts
    them: the figures are those of a run without contexts."""
    repo = Repo.create(tmp_path / "proj", {**BASE, "tests/conftest.py": EXITS_EARLY})
    repo.checkout("pr", new=True)
    repo.commit(PR, "PR")
    got = {}
    for flag in ("--contexts", "--no-contexts"):
        report = repo.covbot_report("--test-command", TEST_CMD, "--baseline", "none", flag)
        fd = report["diff"]["files"][OPS]
        got[flag] = (report["totals"], fd["missing_lines"], report["diff"]["num_covered"])
    assert got["--contexts"] == got["--no-contexts"]
    assert got["--contexts"][2] > 0
