"""covbot's numbers equal coverage.py's and diff-cover's on the same data.

A sample project gets a base on ``main`` and a PR that exercises the hard cases at
once: branch coverage, a new file, a rename with edits (only its edited lines count),
a rename without edits, a deleted file, changed lines that are not executable
(comments, docstring), an ``omit``-ted file, an unimported file. Its tests run under
``coverage run``; coverage.py (``coverage json`` / ``coverage report``) and diff-cover
(JSON report on the same coverage.xml and base) give the expected figures, and covbot
must reproduce them from each input kind (.coverage data, coverage.json, coverage.xml,
sharded data) and when it runs the tests itself.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from support.hard_cases_pr import BASE_FILES, build_sample
from support.repo_factory import Repo, run


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample PR, measured once with coverage.py and diff-cover."""
    repo = build_sample(tmp_path_factory.mktemp("accuracy") / "proj")
    status = repo.git("diff", "--name-status", "-M", "main", "HEAD")
    # the scenario really has what it claims
    assert "R100\tsrc/pkg/stable.py\tsrc/pkg/constants.py" in status
    assert any(ln.startswith("R") and ln.endswith("src/pkg/words.py") and not ln.startswith("R100")
               for ln in status.splitlines())
    assert "D\tsrc/pkg/gone.py" in status and "A\tsrc/pkg/newmod.py" in status
    repo.coverage_run_pytest()
    repo.coverage("json", "-q", "-o", "coverage.json")
    repo.coverage("xml", "-q", "-o", "coverage.xml")
    expected = {
        "json": repo.coverage_json(),
        "report_total": repo.coverage_report_total(),
        "diff_cover": repo.diff_cover("coverage.xml"),
    }
    return repo, expected


def assert_totals_match(report: dict, cov_json: dict, report_total: float) -> None:
    t, e = report["totals"], cov_json["totals"]
    assert t["statements"] == e["num_statements"]
    assert t["covered_statements"] == e["covered_lines"]
    assert t["missing_statements"] == e["missing_lines"]
    assert t["branches"] == e.get("num_branches", 0)
    assert t["covered_branches"] == e.get("covered_branches", 0)
    assert t["percent_covered"] == round(e["percent_covered"], 2) == report_total
    assert t["percent_statements"] == round(e["percent_statements_covered"], 2)


def assert_files_match(report: dict, cov_json: dict) -> None:
    expected = {path: f["summary"] for path, f in cov_json["files"].items()}
    got = {f["path"]: f for f in report["files"]}
    assert sorted(got) == sorted(expected)
    for path, s in expected.items():
        assert got[path]["statements"] == s["num_statements"], path
        assert got[path]["missing"] == s["missing_lines"], path
        assert got[path]["percent_covered"] == round(s["percent_covered"], 2), path


def assert_diff_matches(report: dict, dc: dict) -> None:
    d = report["diff"]
    assert d["num_lines"] == dc["total_num_lines"]
    assert d["num_violations"] == dc["total_num_violations"]
    assert d["percent_covered"] == dc["total_percent_covered"]
    # per file: the same files with measurable changed lines, the same missing lines
    dc_files = {p: s for p, s in dc["src_stats"].items() if s["covered_lines"] or s["violation_lines"]}
    assert sorted(d["files"]) == sorted(dc_files)
    for path, s in dc_files.items():
        assert d["files"][path]["missing_lines"] == sorted(s["violation_lines"]), path
        assert d["files"][path]["changed_lines"] == len(s["covered_lines"]) + len(s["violation_lines"]), path


def test_scenario_is_meaningful(sample):
    """Guard: the expected figures exercise branches, partial coverage and omissions."""
    repo, expected = sample
    cov, dc = expected["json"], expected["diff_cover"]
    assert cov["meta"]["branch_coverage"] is True
    assert 0 < cov["totals"]["percent_covered"] < 100
    assert cov["totals"]["num_partial_branches"] > 0
    assert "src/pkg/generated.py" not in cov["files"]          # omitted
    assert "src/pkg/unused.py" in cov["files"]                 # never imported, still measured
    assert dc["total_num_violations"] > 0 and dc["total_num_lines"] > dc["total_num_violations"]
    # diff-cover counts the rename's edited lines only, and nothing of the pure rename
    assert sorted(dc["src_stats"]["src/pkg/words.py"]["covered_lines"]
                  + dc["src_stats"]["src/pkg/words.py"]["violation_lines"]) == [2, 20]
    assert "src/pkg/constants.py" not in dc["src_stats"]


@pytest.mark.parametrize("input_file", [".coverage", "coverage.json", "coverage.xml"])
def test_no_run_inputs_match_coverage_py_and_diff_cover(sample, input_file):
    repo, expected = sample
    report = repo.covbot_report("--no-run", "--coverage-file", input_file, "--base", "main",
                                "--baseline", "none")
    assert_totals_match(report, expected["json"], expected["report_total"])
    assert_files_match(report, expected["json"])
    assert_diff_matches(report, expected["diff_cover"])
    # the renamed file's unchanged lines and the deletion are not diff lines
    assert "src/pkg/constants.py" not in report["diff"]["files"]
    assert report["diff"]["files"]["src/pkg/words.py"]["changed_lines"] == 2
    assert "src/pkg/generated.py" not in report["diff"]["files"]


def test_all_inputs_together_give_the_same_numbers(sample):
    """Data, JSON and XML of the same run combined: a line is covered if any says so."""
    repo, expected = sample
    report = repo.covbot_report("--no-run", "--coverage-file", ".coverage", "--coverage-file",
                                "coverage.json", "--coverage-file", "coverage.xml", "--base", "main",
                                "--baseline", "none")
    assert_totals_match(report, expected["json"], expected["report_total"])
    assert_diff_matches(report, expected["diff_cover"])


def test_default_mode_runs_the_tests_and_matches(sample, tmp_path):
    """covbot runs pytest itself (its own tracer, its own data files): same figures."""
    repo, expected = sample
    report = repo.covbot_report("--base", "main", "--baseline", "none")
    assert_totals_match(report, expected["json"], expected["report_total"])
    assert_files_match(report, expected["json"])
    assert_diff_matches(report, expected["diff_cover"])
    # the PR's "!!" breaks test_shout: a real failure, and it does not change the numbers
    assert (report["tests"]["total"], report["tests"]["failed"]) == (9, 1)


def test_sharded_data_combined_from_two_pytest_runs(tmp_path):
    """Three ``coverage run -p`` shards (one per test file) combine like ``coverage combine``.

    Plus a shard that measured no code (like pytest-xdist's controller process): merged
    first, it once left coverage.py's CoverageData.has_arcs() stale and covbot refused
    the next shard as "branch data mixed with line data".
    """
    repo = build_sample(tmp_path / "proj")
    repo.coverage("run", "--data-file=.coverage.0-controller", "-m", "pytest", "--version")
    for test_file in ("tests/test_calc.py", "tests/test_new.py", "tests/test_text.py"):
        repo.coverage_run_pytest(test_file, parallel=True)
    shards = sorted(p.name for p in repo.path.glob(".coverage.*"))
    assert len(shards) == 4 and shards[0] == ".coverage.0-controller"
    args = []
    for s in shards:
        args += ["--coverage-file", s]
    report = repo.covbot_report("--no-run", *args, "--base", "main", "--baseline", "none")

    # the reference: coverage.py's own combine of the same shards
    repo.coverage("combine", "--keep", "-q")
    repo.coverage("xml", "-q", "-o", "coverage.xml")
    assert_totals_match(report, repo.coverage_json(), repo.coverage_report_total())
    assert_diff_matches(report, repo.diff_cover("coverage.xml"))

    # without --coverage-file, --no-run finds the shards itself
    (repo.path / ".coverage").unlink()
    found = repo.covbot_report("--no-run", "--base", "main", "--baseline", "none")
    assert found["totals"] == report["totals"] and found["diff"] == report["diff"]


def test_shards_that_are_each_partial_give_the_union(tmp_path):
    """Per-shard coverage.json files (a matrix) combined: the union, as diff-cover sees it."""
    repo = build_sample(tmp_path / "proj")
    repo.coverage_run_pytest("tests/test_calc.py", data_file=".coverage.shard1")
    repo.coverage("json", "-q", "--data-file=.coverage.shard1", "-o", "shard1.json")
    repo.coverage_run_pytest("tests/test_new.py", "tests/test_text.py", data_file=".coverage.shard2")
    repo.coverage("xml", "-q", "--data-file=.coverage.shard2", "-o", "shard2.xml")
    report = repo.covbot_report("--no-run", "--coverage-file", "shard1.json", "--coverage-file",
                                "shard2.xml", "--base", "main", "--baseline", "none")
    repo.coverage("xml", "-q", "--data-file=.coverage.shard1", "-o", "shard1.xml")
    # diff-cover with two reports counts a line covered when any report covers it
    assert_diff_matches(report, repo.diff_cover("shard1.xml", "shard2.xml"))
    repo.coverage("combine", "-q", ".coverage.shard1", ".coverage.shard2")
    cov = repo.coverage_json()
    assert report["totals"]["statements"] == cov["totals"]["num_statements"]
    assert report["totals"]["missing_statements"] == cov["totals"]["missing_lines"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist not installed")
def test_xdist_run_by_covbot_matches_a_serial_coverage_run(sample):
    """``pytest -n 2``: every worker is measured and the shards combined."""
    repo, expected = sample
    report = repo.covbot_report("--test-command", "pytest -n 2 -p no:cacheprovider", "--base", "main",
                                "--baseline", "none")
    assert_totals_match(report, expected["json"], expected["report_total"])
    assert_diff_matches(report, expected["diff_cover"])
    assert report["tests"]["total"] == 9


def test_no_measurable_lines_is_null_where_diff_cover_says_100(tmp_path):
    """The one deliberate difference: a diff of comments only is n/a, not 100%."""
    repo = Repo.create(tmp_path / "proj", BASE_FILES)
    repo.checkout("pr", new=True)
    source = (repo.path / "src/pkg/calc.py").read_text()
    repo.commit({"src/pkg/calc.py": source.replace("def add(a, b):\n",
                                                   "def add(a, b):\n    # just a comment\n"),
                 "README.txt": "docs\n"}, "comments only")
    repo.coverage_run_pytest()
    repo.coverage("xml", "-q", "-o", "coverage.xml")
    dc = repo.diff_cover("coverage.xml")
    assert dc["total_num_lines"] == 0 and dc["total_percent_covered"] == 100
    report = repo.covbot_report("--no-run", "--coverage-file", ".coverage", "--base", "main",
                                "--baseline", "none")
    assert report["diff"]["num_lines"] == 0 and report["diff"]["num_violations"] == 0
    assert report["diff"]["percent_covered"] is None
    assert "executable" in report["diff"]["note"]


def test_statement_only_data_matches_too(tmp_path):
    """Without branch coverage (line data only) the totals are statement coverage."""
    repo = build_sample(tmp_path / "proj")
    pyproject = (repo.path / "pyproject.toml").read_text().replace("branch = true", "branch = false")
    repo.commit({"pyproject.toml": pyproject}, "no branch coverage")
    repo.coverage_run_pytest()
    repo.coverage("xml", "-q", "-o", "coverage.xml")
    cov = repo.coverage_json()
    assert cov["meta"]["branch_coverage"] is False
    for input_file in (".coverage", "coverage.xml"):
        report = repo.covbot_report("--no-run", "--coverage-file", input_file, "--base", "main",
                                    "--baseline", "none")
        assert_totals_match(report, cov, repo.coverage_report_total())
        assert_diff_matches(report, repo.diff_cover("coverage.xml"))


def test_rerun_baseline_deltas_renames_and_indirect_changes(tmp_path):
    """Per-file deltas against the merge-base rerun equal coverage.py on a checkout of
    the base; a renamed file is compared with its old path; a file the PR did not touch
    whose coverage fell (part of its test was removed) is an indirect change."""
    keep_test = "from pkg.keep import a, b\n\n\ndef test_keep():\n    assert a() + b() == 3\n"
    repo = build_sample(tmp_path / "proj", {
        "src/pkg/keep.py": "def a():\n    return 1\n\n\ndef b():\n    return 2\n",
        "tests/test_keep.py": keep_test,
    })
    repo.commit({"tests/test_keep.py": keep_test.replace("a() + b() == 3", "a() == 1")}, "test less")
    report = repo.covbot_report("--base", "main", "--baseline", "rerun", "--fail-on", "none")
    repo.coverage_run_pytest()
    head_doc = repo.coverage_json()
    base_checkout = Repo(tmp_path / "base")
    run(["git", "clone", "-q", "--branch", "main", str(repo.path), str(base_checkout.path)], tmp_path)
    base_checkout.coverage_run_pytest()
    base_doc = base_checkout.coverage_json()
    head, base = head_doc["files"], base_doc["files"]
    renames = {"src/pkg/words.py": "src/pkg/textutil.py", "src/pkg/constants.py": "src/pkg/stable.py"}
    rows = {r["path"]: r for r in report["files"]}
    assert sorted(rows) == sorted(head)
    for path, row in rows.items():
        hp = head[path]["summary"]["percent_covered"]
        old = renames.get(path, path)
        if old in base:
            bp = base[old]["summary"]["percent_covered"]
            assert row["base_percent_covered"] == round(bp, 2), path
            assert row["delta"] == round(hp - bp, 2), path
        else:
            assert row["delta"] is None and row["base_percent_covered"] is None, path
    assert rows["src/pkg/constants.py"]["changed"] is True and rows["src/pkg/constants.py"]["delta"] == 0
    assert [p for p, r in rows.items() if r["indirect"]] == ["src/pkg/keep.py"]
    assert rows["src/pkg/keep.py"]["delta"] < 0 and not rows["src/pkg/keep.py"]["changed"]
    assert report["deleted_files"] == ["src/pkg/gone.py"]
    assert report["delta"] == round(head_doc["totals"]["percent_covered"] - base_doc["totals"]["percent_covered"], 2)
    assert report["base_totals"]["percent_covered"] == round(base_doc["totals"]["percent_covered"], 2)
