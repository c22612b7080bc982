"""The baseline store: save on real commits to a real bare ``origin``, load for PRs.

Expected numbers come from coverage.py itself (``coverage json`` / ``coverage report``
on the same data), and the data branch is inspected with plain git in the bare
repository, not through covbot.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.repo_factory import PY, Repo, clean_env, run, sample_pyproject
from support.rich_report import CALC

from bot.baseline.summary import decode_ranges, encode_ranges

PYPROJECT = sample_pyproject(relative_files=True)

CALC_V1 = CALC   # the sample module of support.rich_report: add, sign, unused

CALC_PR = textwrap.dedent(CALC_V1).lstrip("\n") + "\n\ndef double(x):\n    return 2 * x\n"

TEST_V1 = """
    from pkg.calc import add, sign


    def test_add():
        assert add(2, 3) == 5


    def test_sign():
        assert sign(4) == 1
"""

BASE_FILES = {
    "pyproject.toml": PYPROJECT,
    "src/pkg/__init__.py": "",
    "src/pkg/calc.py": CALC_V1,
    "tests/test_calc.py": TEST_V1,
}

#: Commit B: a second module, half tested, and a failing test.
B_FILES = {
    "src/pkg/text.py": """
        def shout(s):
            return s.upper() + "!"


        def whisper(s):
            if not s:
                return ""
            return s.lower()
    """,
    "tests/test_text.py": """
        from pkg.text import shout


        def test_shout():
            assert shout("hi") == "HI!"


        def test_broken():
            assert shout("a") == "a"
    """,
}


# -- helpers ---------------------------------------------------------------------------

def bare(path: Path) -> Path:
    run(["git", "init", "-q", "--bare", "--initial-branch=main", str(path)], path.parent)
    return path


def measure(repo: Repo) -> dict:
    """Run the tests under coverage.py; coverage.py's own JSON report of the result."""
    (repo.path / ".coverage").unlink(missing_ok=True)
    repo.coverage_run_pytest("--junitxml=junit.xml")
    return repo.coverage_json()


def save(repo: Repo, *args: str) -> subprocess.CompletedProcess:
    proc = repo.covbot("baseline", "save", "--no-run", "--coverage-file", ".coverage",
                       "--junit", "junit.xml", *args)
    assert proc.returncode == 0, proc.stderr
    return proc


def data_git(origin: Path, *args: str) -> str:
    return run(["git", *args], origin).stdout


def summary_of(origin: Path, sha: str) -> dict:
    return json.loads(data_git(origin, "show", f"covbot-data:baselines/{sha[:2]}/{sha}/summary.json"))


def history_of(origin: Path) -> list[dict]:
    return [json.loads(line) for line in data_git(origin, "show", "covbot-data:history.jsonl").splitlines()]


def clone(origin: Path, dest: Path) -> Repo:
    run(["git", "clone", "-q", str(origin), str(dest)], origin.parent)
    repo = Repo(dest)
    repo.git("config", "user.name", "PR Author")
    repo.git("config", "user.email", "pr@example.invalid")
    return repo


def report(repo: Repo, *args: str, expect=(0, 1)) -> tuple[dict, str]:
    out = repo.path / ".covbot-out"
    proc = repo.covbot("report", "--no-run", "--coverage-file", ".coverage", "--junit", "junit.xml",
                       "--base", "main", "--output-dir", str(out), *args)
    assert proc.returncode in expect, proc.stderr
    return (json.loads((out / "report.json").read_text(encoding="utf-8")),
            (out / "comment.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """``origin`` (bare) with main = A ← B ← C; baselines saved for A and B, not for C."""
    tmp = tmp_path_factory.mktemp("store")
    origin = bare(tmp / "origin.git")
    repo = Repo.create(tmp / "work", BASE_FILES, message="A")
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    a = repo.sha()
    cov_a = measure(repo)
    total_a = repo.coverage_report_total()
    save(repo)
    b = repo.commit(B_FILES, "B")
    cov_b = measure(repo)
    total_b = repo.coverage_report_total()
    repo.git("push", "-q", "origin", "main")
    save(repo)
    c = repo.commit({"README.md": "docs only\n"}, "C")
    repo.git("push", "-q", "origin", "main")
    return {"origin": origin, "repo": repo, "a": a, "b": b, "c": c, "cov_a": cov_a, "cov_b": cov_b,
            "total_a": total_a, "total_b": total_b, "tmp": tmp}


# -- ranges ------------------------------------------------------------------------------

def test_ranges_examples():
    assert encode_ranges([9, 1, 2, 3, 7, 10]) == "1-3,7,9-10"
    assert encode_ranges([]) == ""
    assert decode_ranges("1-3,7,9-10") == [1, 2, 3, 7, 9, 10]
    with pytest.raises(ValueError):
        decode_ranges("5-2")


@given(st.sets(st.integers(min_value=1, max_value=5000), max_size=300))
def test_ranges_round_trip(lines):
    text = encode_ranges(lines)
    assert decode_ranges(text) == sorted(lines)
    # compact: one item per run of consecutive lines
    runs = sum(1 for n in lines if n - 1 not in lines)
    assert (text.count(",") + 1 if text else 0) == runs


# -- save --------------------------------------------------------------------------------

def test_save_stores_coverage_py_numbers_keyed_by_commit(history):
    origin, a, b = history["origin"], history["a"], history["b"]
    names = data_git(origin, "ls-tree", "-r", "--name-only", "covbot-data").split()
    assert f"baselines/{a[:2]}/{a}/summary.json" in names
    assert f"baselines/{b[:2]}/{b}/summary.json" in names
    assert "history.jsonl" in names and "badge.svg" in names
    # an orphan branch: no commit of the code is in its history
    data_commits = data_git(origin, "rev-list", "covbot-data").split()
    assert len(data_commits) == 2
    assert a not in data_commits and b not in data_commits
    assert run(["git", "merge-base", "covbot-data", "main"], origin, check=False).returncode == 1

    for sha, cov, total in ((a, history["cov_a"], history["total_a"]), (b, history["cov_b"], history["total_b"])):
        doc = summary_of(origin, sha)
        assert doc["commit"] == sha and doc["ref"] == "main"
        assert doc["totals"]["percent_covered"] == total
        assert doc["totals"]["statements"] == cov["totals"]["num_statements"]
        assert doc["totals"]["missing"] == cov["totals"]["missing_lines"]
        assert doc["totals"]["branches"] == cov["totals"]["num_branches"]
        assert doc["totals"]["missing_branches"] == cov["totals"]["missing_branches"]
        cols = doc["file_columns"]
        rows = {r[0]: dict(zip(cols, r)) for r in doc["files"]}
        assert set(rows) == set(cov["files"])
        for path, f in cov["files"].items():
            row = rows[path]
            assert row["statements"] == f["summary"]["num_statements"]
            assert decode_ranges(row["missing"]) == sorted(f["missing_lines"])
            assert row["branches"] == f["summary"]["num_branches"]
            assert row["missing_branches"] == f["summary"]["missing_branches"]
            partial = {line for line, _ in f.get("missing_branches", [])} if isinstance(f.get("missing_branches"), list) else None
            if partial is not None:
                assert set(decode_ranges(row["partial"])) == partial

    tests_b = summary_of(origin, b)["tests"]
    assert tests_b["total"] == 4 and tests_b["failed"] == 1
    assert tests_b["failing"] == ["tests/test_text.py::test_broken"]
    assert summary_of(origin, a)["tests"]["failing"] == []

    hist = history_of(origin)
    assert [e["commit"] for e in hist] == [a, b]
    assert [e["percent_covered"] for e in hist] == [history["total_a"], history["total_b"]]
    badge = ET.fromstring(data_git(origin, "show", "covbot-data:badge.svg"))
    texts = [t.text for t in badge.iter("{http://www.w3.org/2000/svg}text")]
    assert f"{history['total_b']:.2f}%" in texts and "coverage" in texts


def test_save_leaves_the_checkout_alone(history):
    repo = history["repo"]
    assert repo.git("status", "--porcelain", "--untracked-files=no").strip() == ""
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    # the local tracking ref follows what was pushed
    assert repo.sha("refs/remotes/origin/covbot-data") == run(
        ["git", "rev-parse", "covbot-data"], history["origin"]).stdout.strip()


# -- load --------------------------------------------------------------------------------

def test_pr_from_the_first_commit_uses_its_baseline(history, tmp_path):
    pr = clone(history["origin"], tmp_path / "pr")
    pr.git("checkout", "-q", "-b", "feature", history["a"])
    pr.commit({"src/pkg/calc.py": CALC_PR}, "PR")
    measure(pr)
    rep, comment = report(pr, "--baseline", "auto")
    bl = rep["baseline"]
    assert bl["mode"] == "auto" and bl["commit"] == history["a"] and bl["distance"] == 0
    assert history["a"][:7] in bl["description"] and "merge-base" in bl["description"]
    assert rep["base"]["merge_base"] == history["a"]
    assert rep["base_totals"]["percent_covered"] == history["total_a"]
    assert rep["base_totals"]["statements"] == history["cov_a"]["totals"]["num_statements"]
    # the baseline's per-file numbers give per-file deltas
    calc = next(f for f in rep["files"] if f["path"] == "src/pkg/calc.py")
    base_calc = history["cov_a"]["files"]["src/pkg/calc.py"]["summary"]
    assert calc["base_percent_covered"] == pytest.approx(base_calc["percent_covered"], abs=0.005)
    # trend: only A is on the PR's line (B is not an ancestor of the merge-base)
    assert [p["commit"] for p in rep["trend"]] == [history["a"]]
    assert "```mermaid" in comment and "xychart-beta" in comment
    assert f"stored baseline of the merge-base {history['a'][:7]}" in comment


def test_nearest_saved_ancestor_and_distance(history, tmp_path):
    pr = clone(history["origin"], tmp_path / "pr")
    pr.git("checkout", "-q", "-b", "feature", history["c"])
    pr.commit({"tests/test_more.py": "from pkg.text import whisper\n\n\ndef test_w():\n    assert whisper('') == ''\n"},
              "PR")
    measure(pr)
    rep, comment = report(pr, "--baseline", "auto")
    bl = rep["baseline"]
    assert bl["commit"] == history["b"] and bl["distance"] == 1
    assert "1 commit before the merge-base" in bl["description"]
    assert history["c"][:7] in bl["description"]
    assert rep["base_totals"]["percent_covered"] == history["total_b"]
    # B's failing test still fails here: pre-existing, not new
    failures = {f["id"]: f["status"] for f in rep["tests"]["failures"]}
    assert failures == {"tests/test_text.py::test_broken": "pre-existing"}
    # the trend has both saved commits, oldest first, then the PR's projected point
    assert [p["commit"] for p in rep["trend"]] == [history["a"], history["b"]]
    block = re.search(r"```mermaid\n(.*?)```", comment, re.S).group(1)
    lines = [ln.strip() for ln in block.splitlines()]
    assert lines[0].startswith("%%{init:") and lines[1] == "xychart-beta"   # the colours, then the chart
    x_axis = next(ln for ln in lines if ln.startswith("x-axis"))
    assert x_axis == f'x-axis ["{history["a"][:7]}", "{history["b"][:7]}", "PR"]'
    series = [ln for ln in lines if ln.startswith("line [")]
    values = [float(v) for v in series[0][6:-1].split(",")]
    assert values == [history["total_a"], history["total_b"], rep["totals"]["percent_covered"]]
    assert series[1] == "line [80, 80, 80]"   # the default goal, flat


def test_no_stored_baseline_is_said_in_the_comment(history, tmp_path):
    # a commit of its own on main, never saved, more than the walk can reach is not needed:
    # a repository whose origin has no data branch at all
    origin = bare(tmp_path / "empty-origin.git")
    repo = Repo.create(tmp_path / "w", BASE_FILES, message="A")
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"src/pkg/calc.py": CALC_PR}, "PR")
    measure(repo)
    rep, comment = report(repo, "--baseline", "auto")
    assert rep["base_totals"] is None and rep["delta"] is None
    assert rep["baseline"]["mode"] == "none"
    assert "does not exist yet" in rep["baseline"]["description"]
    assert "No baseline" in comment and "covbot baseline save" in comment
    assert "| Coverage | n/a |" in comment


def test_fallback_rerun_when_configured(tmp_path):
    origin = bare(tmp_path / "origin.git")
    repo = Repo.create(tmp_path / "w", {**BASE_FILES, ".covbot.yml": "baseline: auto\nbaseline-fallback: rerun\n"},
                       message="A")
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    measure(repo)
    base_total = repo.coverage_report_total()
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"src/pkg/calc.py": CALC_PR}, "PR")
    measure(repo)
    rep, _ = report(repo)
    assert rep["baseline"]["mode"] == "rerun"
    assert "does not exist yet" in rep["baseline"]["description"]
    assert rep["base_totals"]["percent_covered"] == base_total


def test_walk_is_bounded(history, tmp_path, monkeypatch):
    from bot.baseline import stored
    from bot.model.config import Config
    from bot.runs.git import Git

    pr = clone(history["origin"], tmp_path / "pr")
    monkeypatch.setattr(stored, "MAX_WALK", 1)   # only the merge-base itself
    cfg = Config()
    git = Git(pr.path)
    found = stored.load_for_report(git, merge_base=history["b"], config=cfg, root=pr.path, out_dir=tmp_path)
    assert found.info["commit"] == history["b"]
    missed = stored.load_for_report(git, merge_base=history["c"], config=cfg, root=pr.path, out_dir=tmp_path)
    assert missed.coverage is None
    assert "or its 0 first-parent ancestors" in missed.info["description"]


# -- history -----------------------------------------------------------------------------

def test_history_is_bounded_and_append_only(tmp_path):
    from bot.baseline import data_branch
    from bot.baseline.summary import summarize
    from bot.runs.git import Git
    from bot.model.coverage import CoverageSet, FileCoverage

    origin = bare(tmp_path / "origin.git")
    repo = Repo.create(tmp_path / "w", {"a.py": "x = 1\n"})
    repo.git("remote", "add", "origin", str(origin))
    git = Git(repo.path)
    shas, seen = [], []
    for i in range(5):
        sha = repo.commit({"a.py": f"x = {i}\n"}, f"c{i}")
        shas.append(sha)
        cov = CoverageSet(files={"a.py": FileCoverage("a.py", set(range(1, 11)), set(range(1, 11 - i)))})
        summary = summarize(cov, None, commit=sha, ref="main", committed=f"2026-01-0{i + 1}T00:00:00Z",
                            saved="2026-01-09T00:00:00Z")
        result = data_branch.save(git, summary=summary, remote="origin", branch="covbot-data", history_length=3)
        assert result.attempts == 1
        lines = data_git(origin, "show", "covbot-data:history.jsonl").splitlines()
        if seen:   # the previous lines are kept unchanged, the oldest dropped first
            kept = seen[-2:] if len(seen) == 3 else seen
            assert lines[:-1] == kept
        seen = lines
    hist = [json.loads(line) for line in seen]
    assert [e["commit"] for e in hist] == shas[2:]
    assert [e["percent_covered"] for e in hist] == [100.0 * i / 10 for i in range(2, 5)]   # i of 10 lines covered
    # every summary stays, only the history file is bounded
    names = data_git(origin, "ls-tree", "-r", "--name-only", "covbot-data").split()
    assert all(f"baselines/{s[:2]}/{s}/summary.json" in names for s in shas)
    assert ">40.00%<" in data_git(origin, "show", "covbot-data:badge.svg")


def test_resaving_a_commit_replaces_its_entry(tmp_path):
    from bot.baseline import history

    entries = [{"commit": "a", "percent_covered": 1.0}, {"commit": "b", "percent_covered": 2.0}]
    out = history.append_history(entries, {"commit": "a", "percent_covered": 3.0}, 10)
    assert out == [{"commit": "b", "percent_covered": 2.0}, {"commit": "a", "percent_covered": 3.0}]


# -- concurrency -------------------------------------------------------------------------

BARRIER_HOOK = """#!/bin/sh
# Hold every push until two have arrived, so both savers build on the same tip.
touch "{dir}/arrived.$$"
n=0
while [ "$(ls "{dir}" | grep -c '^arrived')" -lt 2 ] && [ $n -lt 150 ]; do
    sleep 0.1
    n=$((n + 1))
done
exit 0
"""


def test_two_racing_savers_both_land(history, tmp_path):
    origin = bare(tmp_path / "origin.git")
    src = history["repo"]
    run(["git", "push", "-q", str(origin), "main"], src.path)
    marks = tmp_path / "marks"
    marks.mkdir()
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(BARRIER_HOOK.format(dir=marks))
    hook.chmod(0o755)
    savers = []
    for name, sha in (("one", history["a"]), ("two", history["b"])):
        r = clone(origin, tmp_path / name)
        r.git("checkout", "-q", sha)
        # measure each checkout for real
        (r.path / ".coverage").unlink(missing_ok=True)
        r.coverage_run_pytest("--junitxml=junit.xml")
        savers.append(r)
    procs = [subprocess.Popen([PY, "-m", "bot", "baseline", "save", "--no-run", "--coverage-file", ".coverage",
                               "--junit", "junit.xml"], cwd=r.path, env=clean_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in savers]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    attempts = sorted(int(re.search(r"(\d+) attempts?", err).group(1)) for _, err in outs)
    assert attempts == [1, 2]   # one lost the race, fetched and re-applied
    hist = history_of(origin)
    assert sorted(e["commit"] for e in hist) == sorted([history["a"], history["b"]])
    assert summary_of(origin, history["a"])["commit"] == history["a"]
    assert summary_of(origin, history["b"])["commit"] == history["b"]
    assert len(data_git(origin, "rev-list", "covbot-data").split()) == 2   # linear, nothing lost
    # the badge shows the newest commit (B), whichever save landed last
    assert f">{history['total_b']:.2f}%<" in data_git(origin, "show", "covbot-data:badge.svg")


# -- bad input ---------------------------------------------------------------------------

def test_unknown_remote_is_one_clear_message(history):
    proc = history["repo"].covbot("baseline", "save", "--no-run", "--coverage-file", ".coverage",
                                  "--remote", "upstream")
    assert proc.returncode == 2
    assert "--remote upstream: no such git remote" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_damaged_summary_is_reported_not_a_crash(history, tmp_path):
    from bot.baseline import data_branch
    from bot.runs.git import Git

    origin = bare(tmp_path / "origin.git")
    src = history["repo"]
    run(["git", "push", "-q", str(origin), "main"], src.path)
    pr = clone(origin, tmp_path / "pr")
    git = Git(pr.path)
    branch = data_branch.DataBranch(git, "origin", "covbot-data")
    a = history["a"]
    commit = branch.commit(None, {data_branch.summary_path(a): b'{"format": 1, "files": [["x.py", "many"]]}'}, "bad")
    assert branch.push(commit)[0]
    pr.git("checkout", "-q", "-b", "feature", a)
    pr.write({"pyproject.toml": PYPROJECT})
    measure(pr)
    rep, comment = report(pr, "--baseline", "auto", expect=(2,))
    assert rep["base_totals"] is None
    assert f"covbot-data:baselines/{a[:2]}/{a}/summary.json" in rep["baseline"]["description"]
    assert "malformed" in comment


def test_badge_colours_and_escaping():
    from bot.baseline.badge import badge_svg, colour

    svg = ET.fromstring(badge_svg(91.5, label="cov <main>"))
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "cov <main>" in texts and "91.50%" in texts
    assert colour(91.5) == "#4c1" and colour(10) == "#e05d44" and colour(None) == "#9f9f9f"
    assert "unknown" in badge_svg(None)



def test_save_runs_the_tests_by_default_and_keeps_flaky_ids(tmp_path):
    """Without --no-run the save runs the suite itself (with the flaky rerun pass)."""
    origin = bare(tmp_path / "origin.git")
    mark = tmp_path / "flaky-mark"
    repo = Repo.create(tmp_path / "w", {**BASE_FILES, "tests/test_flaky.py": """
        import os
        import pathlib


        def test_flaky():
            mark = pathlib.Path(os.environ["FLAKY_MARK"])
            if not mark.exists():
                mark.write_text("failed once")
                assert False, "first attempt fails"
    """})
    repo.git("remote", "add", "origin", str(origin))
    proc = repo.covbot("baseline", "save", env=clean_env(FLAKY_MARK=str(mark)))
    assert proc.returncode == 0, proc.stderr
    assert mark.exists()   # the suite really ran
    doc = summary_of(origin, repo.sha())
    assert doc["tests"]["flaky"] == ["tests/test_flaky.py::test_flaky"]
    assert doc["tests"]["failing"] == [] and doc["tests"]["total"] == 3
    measure(repo)   # coverage.py's own figure for the same suite
    assert doc["totals"]["percent_covered"] == repo.coverage_report_total()


def test_report_writes_the_summary_a_push_job_stores(tmp_path):
    """covbot report leaves baseline.json; save_from_report stores it without a second test run."""
    from bot.baseline import stored
    from bot.model.config import Config

    origin = bare(tmp_path / "origin.git")
    repo = Repo.create(tmp_path / "w", {**BASE_FILES, **B_FILES})
    repo.git("remote", "add", "origin", str(origin))
    cov = measure(repo)
    rep, _ = report(repo, "--baseline", "none")
    report_path = repo.path / ".covbot-out" / "report.json"
    stored.save_from_report(root=repo.path, config=Config(), report_path=report_path)
    doc = summary_of(origin, repo.sha())
    assert doc["totals"]["percent_covered"] == rep["totals"]["percent_covered"] == repo.coverage_report_total()
    rows = {r[0]: r for r in doc["files"]}
    for path, f in cov["files"].items():
        assert decode_ranges(rows[path][2]) == sorted(f["missing_lines"])
    assert doc["tests"]["failing"] == ["tests/test_text.py::test_broken"]
    # without the file there is one clear message
    (repo.path / ".covbot-out" / "baseline.json").unlink()
    with pytest.raises(Exception) as err:
        stored.save_from_report(root=repo.path, config=Config(), report_path=report_path)
    assert "baseline.json does not exist" in str(err.value)


def test_save_from_a_shallow_clone(history, tmp_path):
    """actions/checkout fetches one commit: the save fetches only the data branch's tip."""
    origin = bare(tmp_path / "origin.git")
    run(["git", "push", "-q", str(origin), "main", "covbot-data"], history["origin"])
    shallow = tmp_path / "shallow"
    run(["git", "clone", "-q", "--depth", "1", "--branch", "main", f"file://{origin}", str(shallow)], tmp_path)
    repo = Repo(shallow)
    assert repo.git("rev-parse", "--is-shallow-repository").strip() == "true"
    measure(repo)
    save(repo)
    hist = history_of(origin)
    assert [e["commit"] for e in hist] == [history["a"], history["b"], history["c"]]
    assert summary_of(origin, history["c"])["totals"]["percent_covered"] == repo.coverage_report_total()
    run(["git", "fsck", "--no-progress", "--strict"], origin)   # nothing dangling or missing


def test_local_store_without_any_remote(tmp_path):
    """`--remote .` keeps the data branch in the repository itself; auto reads it."""
    repo = Repo.create(tmp_path / "w", BASE_FILES)
    measure(repo)
    total = repo.coverage_report_total()
    save(repo, "--remote", ".")
    assert repo.git("branch", "--list", "covbot-data").strip() == "covbot-data"
    assert repo.git("status", "--porcelain", "--untracked-files=no").strip() == ""
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"src/pkg/calc.py": CALC_PR}, "PR")
    measure(repo)
    rep, _ = report(repo, "--baseline", "auto")
    assert rep["baseline"]["commit"] == repo.sha("main")
    assert rep["base_totals"]["percent_covered"] == total


# -- the trend section -------------------------------------------------------------------

def _report(trend, total=70.0, goal=None):
    from bot.model.report import DiffCoverage, Report

    r = Report(head={}, base={}, totals={"percent_covered": total}, base_totals=None, delta=None,
               diff=DiffCoverage(), files=[], trend=trend)
    if goal is not None:
        r.goal = {"target": goal}
    return r


def test_trend_section_chart_and_summary():
    from bot.render.trend_section import trend_section

    points = [{"commit": "a" * 40, "percent_covered": 61.5}, {"commit": "b" * 40, "percent_covered": 64.25}]
    section = trend_section(_report(points, total=63.0, goal=75))
    block = re.search(r"```mermaid\n(.*?)```", section.text, re.S).group(1).splitlines()
    theme, block = block[0], block[1:]
    assert block[0] == "xychart-beta"
    assert block[2].strip() == 'x-axis ["aaaaaaa", "bbbbbbb", "PR"]'
    lo, hi = map(int, re.search(r"(\d+) --> (\d+)", block[3]).groups())
    assert lo <= 61.5 and hi >= 75 and lo % 5 == 0 and hi % 5 == 0   # the goal line is inside the axis
    assert block[4].strip() == "line [61.5, 64.25, 63]"
    assert block[5].strip() == "line [75, 75, 75]"
    assert "this PR 63.00% (-1.25 against the last saved baseline)" in section.text
    # explicit colours, coverage first, the goal distinct; the caption names them (the legend)
    palette = re.fullmatch(r'%%\{init: \{"theme": "base", "themeVariables": \{"xyChart": '
                           r'\{"plotColorPalette": "(#[0-9a-f]{6}), (#[0-9a-f]{6})"\}\}\}\}%%', theme)
    assert palette and palette.group(1) != palette.group(2), theme
    assert "blue line: total coverage" in section.text and "red flat line: the goal, 75.00%" in section.text
    assert section.text.startswith("<details>\n")     # collapsed: nothing to act on
    assert section.compact and "```" not in section.compact


def test_trend_section_absent_without_saved_points():
    from bot.render.trend_section import trend_section

    assert trend_section(_report([])) is None
    assert trend_section(_report([{"commit": "c" * 40, "percent_covered": None}])) is None


def test_trend_points_follow_the_line_to_the_merge_base():
    from bot.baseline.history import trend_points

    hist = [{"commit": c, "ref": "main", "committed": f"2026-01-0{i}T00:00:00Z", "percent_covered": float(i)}
            for i, c in enumerate(["old", "m1", "side", "m2", "later"], start=1)]
    # chain (newest first): m2, m1 are ancestors of the merge-base; "side" and "later" are not;
    # "old" is older than anything the walk saw (beyond a shallow boundary)
    pts = trend_points(hist, ["m2", "x", "m1"], 10)
    assert [p["commit"] for p in pts] == ["old", "m1", "m2"]
    assert [p["commit"] for p in trend_points(hist, ["m2", "x", "m1"], 2)] == ["m1", "m2"]
    assert trend_points(hist, ["unsaved"], 10) == []
    assert [p["commit"] for p in trend_points(hist, [], 2)] == ["m2", "later"]


def test_a_refused_push_is_one_clear_message_not_a_retry_loop(history, tmp_path):
    origin = bare(tmp_path / "origin.git")
    run(["git", "push", "-q", str(origin), "main"], history["repo"].path)
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    repo = clone(origin, tmp_path / "w")
    measure(repo)
    proc = repo.covbot("baseline", "save", "--no-run", "--coverage-file", ".coverage")
    assert proc.returncode == 2
    assert "git push origin covbot-data was rejected" in proc.stderr
    assert "contents: write" in proc.stderr and "Traceback" not in proc.stderr
    missing = tmp_path / "nowhere.git"
    proc = repo.covbot("baseline", "save", "--no-run", "--coverage-file", ".coverage", "--remote", str(missing))
    assert proc.returncode == 2
    assert f"git fetch {missing} covbot-data failed" in proc.stderr and "Traceback" not in proc.stderr


def test_newest_tells_commits_of_the_same_second_apart_by_ancestry(tmp_path):
    """Two pushes in one second: the badge follows the descendant, whichever save came
    last; without a way to tell (a commit this clone lacks), the later save wins."""
    from bot.runs.git import Git
    from bot.baseline.history import newest

    env = dict(clean_env(), GIT_COMMITTER_DATE="2026-03-01T12:00:00Z", GIT_AUTHOR_DATE="2026-03-01T12:00:00Z")
    run(["git", "init", "-q", "-b", "main", str(tmp_path)], tmp_path)
    shas = []
    for i in range(2):
        (tmp_path / "f.txt").write_text(f"{i}\n")
        subprocess.run(["git", "add", "f.txt"], cwd=tmp_path, env=env, check=True)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q",
                        "-m", str(i)], cwd=tmp_path, env=env, check=True)
        shas.append(run(["git", "rev-parse", "HEAD"], tmp_path).stdout.strip())
    git = Git(tmp_path)
    is_ancestor = lambda a, b: git.ok(["merge-base", "--is-ancestor", a, b])  # noqa: E731
    older, younger = ({"commit": s, "committed": "2026-03-01T12:00:00Z", "percent_covered": p}
                      for s, p in zip(shas, (50.0, 60.0)))
    assert newest([older, younger], is_ancestor) is younger
    assert newest([younger, older], is_ancestor) is younger
    stranger = dict(older, commit="0" * 40)
    assert newest([younger, stranger], is_ancestor) is stranger       # cannot tell: the later save
    assert newest([younger, older]) is older                           # no ancestry given: the later save
