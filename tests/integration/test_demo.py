"""The demo: ``covbot report --base main --baseline rerun`` prints deltas that match a
manual ``coverage report`` on each commit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support.repo_factory import PY, Repo, clean_env, run

ROOT = Path(__file__).resolve().parents[2]


def _measure(repo: Repo, ref: str, dest: Path) -> dict:
    """coverage.py on a fresh checkout of ``ref``: branch coverage, the demo's own config."""
    run(["git", "clone", "-q", str(repo.path), str(dest)], dest.parent)
    checkout = Repo(dest)
    checkout.checkout(ref)
    proc = run([PY, "-m", "coverage", "run", "--branch", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
               dest, check=False, env=clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    total = checkout.coverage_report_total()
    doc = checkout.coverage_json()
    assert round(doc["totals"]["percent_covered"], 2) == total
    return doc


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    dest = tmp / "demo-shop"
    run([PY, str(ROOT / "examples/demo/build_demo.py"), str(dest)], tmp)
    repo = Repo(dest)
    proc = repo.covbot("report", "--base", "main", "--baseline", "rerun")
    assert proc.returncode == 1, proc.stderr      # the demo PR is meant to fail the gate
    report = json.loads((dest / ".covbot" / "report.json").read_text(encoding="utf-8"))
    head = _measure(repo, repo.sha("pr"), tmp / "head")
    base = _measure(repo, repo.sha("main"), tmp / "base")
    return proc.stdout, report, head, base, repo


def test_totals_and_delta_match_coverage_report_on_each_commit(demo):
    comment, report, head, base, _repo = demo
    h, b = head["totals"]["percent_covered"], base["totals"]["percent_covered"]
    assert report["totals"]["percent_covered"] == round(h, 2)
    assert report["base_totals"]["percent_covered"] == round(b, 2)
    assert report["totals"]["statements"] == head["totals"]["num_statements"]
    assert report["base_totals"]["statements"] == base["totals"]["num_statements"]
    expected_delta = round(h - b, 2)
    assert expected_delta != 0
    assert report["delta"] == expected_delta
    assert f"**Coverage {h:.2f}%** ({expected_delta:+.2f}" in comment
    assert re.search(rf"\| Coverage \| {b:.2f}% \| {h:.2f}% \| {expected_delta:+.2f} \|", comment)


def test_per_file_deltas_match(demo):
    comment, report, head, base, _repo = demo
    rows = {r["path"]: r for r in report["files"]}
    changed = [r for r in report["files"] if r["changed"]]
    assert {r["path"] for r in changed} == {"src/demo_shop/cart.py", "src/demo_shop/discounts.py"}
    for row in changed:
        path = row["path"]
        hp = head["files"][path]["summary"]["percent_covered"]
        assert row["percent_covered"] == round(hp, 2)
        line = next(ln for ln in comment.splitlines() if ln.startswith(f"| `{path}`"))
        if path in base["files"]:
            bp = base["files"][path]["summary"]["percent_covered"]
            assert row["base_percent_covered"] == round(bp, 2)
            assert row["delta"] == round(hp - bp, 2)
            assert f"| {hp:.2f}% | {round(hp - bp, 2):+.2f}" in line
        else:                                   # new in the PR: no base, delta n/a
            assert row["delta"] is None and f"| {hp:.2f}% | n/a |" in line
    # files the PR did not touch keep their coverage: no indirect change
    for path, f in base["files"].items():
        if path in rows and not rows[path]["changed"]:
            assert round(f["summary"]["percent_covered"], 2) == rows[path]["percent_covered"]
            assert rows[path]["indirect"] is False


def test_diff_coverage_matches_diff_cover(demo, tmp_path):
    comment, report, _head, _base, repo = demo
    repo.coverage("run", "--branch", "-m", "pytest", "-q", "-p", "no:cacheprovider", check=False,
                  env=clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))
    repo.coverage("xml", "-q", "-o", str(tmp_path / "coverage.xml"))
    dc = repo.diff_cover(str(tmp_path / "coverage.xml"))
    assert report["diff"]["num_lines"] == dc["total_num_lines"]
    assert report["diff"]["num_violations"] == dc["total_num_violations"]
    assert report["diff"]["percent_covered"] == dc["total_percent_covered"]
    assert f"**Diff coverage {dc['total_percent_covered']:.2f}%**" in comment



def test_baseline_from_an_earlier_report_gives_the_same_deltas(demo, tmp_path):
    """``--baseline report.json`` of the base commit equals the rerun on the merge-base."""
    _comment, rerun_report, _head, _base, repo = demo
    base_clone = Repo(tmp_path / "base")
    run(["git", "clone", "-q", "--branch", "main", str(repo.path), str(base_clone.path)], tmp_path)
    base_report = base_clone.covbot_report("--baseline", "none", "--base", "main")
    (tmp_path / "base-report.json").write_text(json.dumps(base_report))
    report = repo.covbot_report("--base", "main", "--baseline", str(tmp_path / "base-report.json"))
    assert report["delta"] == rerun_report["delta"]
    assert report["base_totals"] == rerun_report["base_totals"]
    assert {f["path"]: f["delta"] for f in report["files"]} == {f["path"]: f["delta"] for f in rerun_report["files"]}
