"""The programme dashboard and the PR's HTML report, opened in headless Chromium.

A repository with a dozen default-branch saves (merge commits and squash merges naming
their PRs, a direct commit, rises and drops; ``support.programme_repo``) is saved with
the real ``covbot baseline save``; ``covbot dashboard`` reads the page back from the
data branch. Every expected figure is computed here from coverage.py's own JSON report
of each save, the commit dates and the schedule: pace by least squares
(``statistics.linear_regression``), the goal date, the largest moves and who made them,
the tiers. A PR on top of it gets its HTML report, whose missing changed lines are
checked against report.json and against coverage.py and ``git diff`` directly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
from datetime import timedelta
from pathlib import Path

import pytest

from support import programme_repo as pr
from support.browser import dump_dom, fetched_urls, parse, screenshot

WINDOW = timedelta(days=56)
#: Where the screenshots are copied when set (docs/dashboard.png is one of them).
SHOTS = os.environ.get("COVBOT_SCREENSHOTS")


def stmt_pct(cov: dict) -> float:
    t = cov["totals"]
    return 100.0 * t["covered_lines"] / t["num_statements"]


def total_pct(cov: dict) -> float:
    return cov["totals"]["percent_covered"]


def r2(x: float) -> float:
    return float(f"{x:.2f}")


def keep(png: Path) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(SHOTS) / png.name)


def expected_tiers(cov: dict) -> dict[str, dict]:
    """Per tier: files, files with a target and those meeting it (coverage.py's figure:
    statements and branches)."""
    out = {name: {"files": 0, "targeted": 0, "meeting": 0} for name, _, _ in pr.TIERS}
    for f in cov["files"].values():
        s = f["summary"]
        tier = next(((name, target) for name, lo, target in pr.TIERS if s["num_statements"] >= lo), None)
        if tier is None:
            continue
        t = out[tier[0]]
        t["files"] += 1
        t["targeted"] += 1
        t["meeting"] += ((s["covered_lines"] + s.get("covered_branches", 0)) * 100
                         >= tier[1] * (s["num_statements"] + s.get("num_branches", 0)))
    return out


def assert_nothing_fetched(dom, site: Path) -> None:
    own = f"{pr.SERVER}/{pr.REPOSITORY}/"
    for url in fetched_urls(dom):
        assert not url.startswith("<"), f"the page embeds {url}"
        if url.startswith(("http://", "https://")):
            assert url.startswith(own), url
        elif not url.startswith("#"):
            assert "://" not in url and not url.startswith("//"), url
            assert (site / url.split("#")[0]).is_file(), f"{url} is not next to the page"


@pytest.fixture(scope="module")
def programme(tmp_path_factory):
    prog = pr.build(tmp_path_factory.mktemp("programme") / "repo")
    site = prog.repo.path / "out" / "site"
    proc = prog.repo.covbot("dashboard", "--output-dir", str(site), "--remote", ".", env=pr.covbot_env())
    assert proc.returncode == 0, proc.stderr
    prog.site = site
    prog.shots = tmp_path_factory.mktemp("screenshots")
    return prog


def test_the_dashboard_shows_total_pace_goal_date_moves_and_tiers(programme):
    saves, repo, site = programme.saves, programme.repo, programme.site
    dom = parse(dump_dom(site / "index.html"))
    last = saves[-1]

    assert float(dom.by_id("total").attrs["data-value"]) == r2(total_pct(last.coverage))
    assert dom.by_id("total").text() == f"{total_pct(last.coverage):.2f}%"
    assert float(dom.by_id("statements").attrs["data-value"]) == r2(stmt_pct(last.coverage))

    # the pace: least squares of total coverage (the goal's measure) over the commit dates of the window
    window = [s for s in saves if s.when >= last.when - WINDOW]
    assert 2 < len(window) < len(saves)          # the window leaves the first saves out
    days = [(s.when - window[0].when).total_seconds() / 86400 for s in window]
    fit = statistics.linear_regression(days, [total_pct(s.coverage) for s in window])
    assert fit.slope > 0
    assert float(dom.by_id("pace").attrs["data-value"]) == r2(fit.slope * 7)
    goal_day = last.when + timedelta(days=(pr.GOAL - total_pct(last.coverage)) / fit.slope)
    assert dom.by_id("goal-date").text() == goal_day.strftime("%Y-%m-%d")
    assert f"({len(window)} saves)" in dom.by_id("pace").parent.text()

    # moves of total coverage from save to save; the largest drop of all is older than the window
    moves = [(total_pct(b.coverage) - total_pct(a.coverage), b) for a, b in zip(saves, saves[1:])]
    in_window = [(m, s) for m, s in moves if s.when >= last.when - WINDOW]
    drop, dropped = min(in_window, key=lambda ms: ms[0])
    assert min(moves, key=lambda ms: ms[0])[1] not in [s for _, s in in_window]
    assert dropped.pr == 108
    first = dom.by_id("drops").find("tr", cls="move")
    assert first.attrs["data-pr"] == "108" and first.attrs["data-commit"] == dropped.sha
    assert float(first.attrs["data-points"]) == pytest.approx(drop, abs=0.0051)
    cells = [td.text() for td in first.find_all("td")]
    assert cells[1] == "#108" and cells[3] == dropped.author == "Linus" and cells[5] == "feature without tests"
    assert first.find("a", href=f"{pr.SERVER}/{pr.REPOSITORY}/pull/108")
    listed = [float(tr.attrs["data-points"]) for tr in dom.by_id("drops").find_all("tr", cls="move")]
    assert len(listed) == sum(1 for m, _ in in_window if m < -1e-9)
    gain, gained = max(in_window, key=lambda ms: ms[0])
    top = dom.by_id("gains").find("tr", cls="move")
    assert top.attrs["data-pr"] == str(gained.pr) == "110"
    assert float(top.attrs["data-points"]) == pytest.approx(gain, abs=0.0051)

    # the tiers now equal the last report's, and coverage.py's counts
    out = repo.path / "out" / "last"
    proc = repo.covbot("report", "--no-run", "--coverage-file", ".coverage", "--baseline", "none",
                       "--output-dir", str(out))
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads((out / "report.json").read_text())
    expected = expected_tiers(last.coverage)
    shown = {p.attrs["data-tier"]: p for p in dom.find_all("p", cls="tier-now")}
    assert set(shown) == set(expected)
    for t in report["tiers"]:
        if t["target"] is None:
            continue
        p = shown[t["name"]]
        got = {k: int(p.attrs[f"data-{k}"]) for k in ("files", "targeted", "meeting")}
        assert got == {k: t[k] for k in ("files", "targeted", "meeting")} == expected[t["name"]]

    # the pass rate of the newest save, from its JUnit counts
    tests = pr.SCHEDULE[-1].big_tested + pr.SCHEDULE[-1].mid_tested + pr.SCHEDULE[-1].failing
    passed = tests - last.junit_failed
    assert float(dom.by_id("pass-rate-now").attrs["data-value"]) == r2(100 * passed / tests)

    # file names link into coverage.py's report next to the page; nothing comes from elsewhere
    big = dom.by_id("test-next").find("tr", data_path="src/pkg/big.py")
    page = big.find("a").attrs["href"]
    assert page.startswith("html/") and "big_py" in page and (site / page).is_file()
    assert_nothing_fetched(dom, site)
    keep(screenshot(site / "index.html", programme.shots / "dashboard.png"))


def test_the_history_keeps_each_commit_its_pr_author_and_tier_counts(programme):
    history = pr.history(programme.repo)
    assert [e["commit"] for e in history] == [s.sha for s in programme.saves]
    for entry, saved, step in zip(history, programme.saves, pr.SCHEDULE):
        assert entry["pr"] == saved.pr and entry["author"] == step.author
        assert entry["subject"] == step.subject
        counts = {t["name"]: {k: t[k] for k in ("files", "targeted", "meeting")} for t in entry["tiers"]}
        assert counts == expected_tiers(saved.coverage)
    # the page on the data branch is the one `covbot dashboard` writes from it
    on_branch = programme.repo.git("show", "covbot-data:index.html")
    assert on_branch == (programme.site / "index.html").read_text(encoding="utf-8")
    names = programme.repo.git("ls-tree", "-r", "--name-only", "covbot-data", "html/").split()
    assert "html/index.html" in names and any(n.endswith("big_py.html") for n in names)


def added_lines(repo, base: str, head: str) -> dict[str, set[int]]:
    """Added line numbers per file, from ``git diff -U0`` against the merge-base."""
    out, path = {}, None
    for line in repo.git("diff", "-U0", f"{base}...{head}").splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("@@") and path:
            m = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
            start, count = int(m.group(1)), int(m.group(2) or 1)
            out.setdefault(path, set()).update(range(start, start + count))
    return out


def test_the_pr_report_marks_exactly_the_missing_changed_lines(programme):
    repo = programme.repo
    repo.git("checkout", "-q", "-b", "pr-120", "main")
    files = pr.files_of(pr.Step(21, 18, 7, 6, "squash", 120, "Ada", "More"))
    files["src/pkg/big.py"] += "\n\ndef mixed(x):\n    if x:\n        return 1\n    return 2\n"
    files["tests/test_mixed.py"] = "from pkg.big import mixed\n\n\ndef test_mixed():\n    assert mixed(1) == 1\n"
    repo.commit(files, "PR 120")
    try:
        cov, _ = pr.measure(repo)
        out = repo.path / "out" / "pr"
        proc = repo.covbot("report", "--no-run", "--coverage-file", ".coverage", "--junit", "junit.xml",
                           "--base", "main", "--baseline", "auto", "--output-dir", str(out), env=pr.covbot_env())
    finally:
        repo.git("checkout", "-q", "main")
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads((out / "report.json").read_text())
    page = out / "html" / "index.html"
    dom = parse(dump_dom(page))
    added = added_lines(repo, "main", "pr-120")
    sections = {s.attrs["data-path"]: s for s in dom.find_all("section", cls="file")}
    partials = {}
    assert set(sections) == {p for p in report["diff"]["files"]} == {"src/pkg/big.py", "src/pkg/mid.py"}
    for path, section in sections.items():
        rows = section.find_all("tr", cls="line")
        changed = {int(r.attrs["data-line"]) for r in rows if "changed" in r.classes}
        missing = {int(r.attrs["data-line"]) for r in rows if {"changed", "missing"} <= r.classes}
        partial = {int(r.attrs["data-line"]) for r in rows if {"changed", "partial"} <= r.classes}
        f = cov["files"][path]
        assert changed == added[path]
        assert missing == set(report["diff"]["files"][path]["missing_lines"]) == added[path] & set(f["missing_lines"])
        assert missing
        branch_missed = {a for a, _ in f["missing_branches"]}
        assert partial == (added[path] & branch_missed) - set(f["missing_lines"])
        partials[path] = partial
        row = next(r for r in report["files"] if r["path"] == path)
        facts = section.find("p", cls="muted")
        assert float(facts.attrs["data-head"]) == row["percent_covered"] == r2(f["summary"]["percent_covered"])
        assert float(facts.attrs["data-base"]) == row["base_percent_covered"]
    mixed_if = next(i for i, ln in enumerate(files["src/pkg/big.py"].splitlines(), 1) if ln == "    if x:")
    assert partials == {"src/pkg/big.py": {mixed_if}, "src/pkg/mid.py": set()}   # mixed(1): x is never falsy
    assert float(dom.by_id("head-total").attrs["data-value"]) == report["totals"]["percent_covered"]
    assert_nothing_fetched(dom, page.parent)
    comment = (out / "comment.md").read_text()
    assert "HTML report: `out/pr/html/index.html`" in comment
    keep(screenshot(page, programme.shots / "pr-report.png"))
