"""The dashboard and the HTML reports through the Action, as the runner runs it.

A push to the default branch stores the baseline with the dashboard (index.html and
coverage.py's report of the run) and names the pushed commit's pull request from the
API (``commits/{sha}/pulls`` on the fake GitHub) when its message names none. A pull
request's run writes its HTML report, and the comment's footer says where it is.
"""

from __future__ import annotations

import json
import subprocess

from support.action_support import PR_FILES, REPO_NAME, give_away, make_project, open_pull, pr_event, run_action
from support.browser import dump_dom, parse
from support.fakegithub import FakeGitHub

TOKEN = "ghs_fakeInstallationToken0123456789"
FAST = "python -m pytest -p no:benchmark -p no:hypothesispytest -p no:xdist"


def _data(origin, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(origin), *args], stdout=subprocess.PIPE, text=True,
                          check=True).stdout


def test_a_push_stores_the_dashboard_and_names_the_pull_request_from_the_api(tmp_path):
    repo = make_project(tmp_path / "ws")
    before = repo.sha()
    after = repo.commit(PR_FILES, "Discount codes")          # the message names no pull request
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    with FakeGitHub() as gh:
        gh.add_repo(REPO_NAME)
        gh.add_pull(REPO_NAME, 31, head_sha="e" * 40, merge_commit_sha=after, user="mona")
        gh.add_token(TOKEN)
        give_away(repo.path)
        event = {"ref": "refs/heads/main", "before": before, "after": after,
                 "repository": {"full_name": REPO_NAME, "default_branch": "main"}}
        run = run_action(tmp_path / "run", repo.path, "push", event,
                         {"github-token": TOKEN, "test-command": FAST, "baseline": "none", "base": before},
                         api_url=gh.url)
        assert run.returncode in (0, 1), run.stderr
        assert "baseline stored" in run.summary, run.summary[-500:]
        asked = [r for r in gh.requests if r[1].split("?")[0] == f"/repos/{REPO_NAME}/commits/{after}/pulls"]
        assert [r[2] for r in asked] == [200]
    report = json.loads((repo.path / ".covbot" / "report.json").read_text())
    entry = json.loads(_data(origin, "show", "covbot-data:history.jsonl").splitlines()[-1])
    assert entry["commit"] == after and entry["subject"] == "Discount codes"
    assert (entry["pr"], entry["pr_source"], entry["author"]) == (31, "api", "mona")
    names = _data(origin, "ls-tree", "-r", "--name-only", "covbot-data").split()
    assert "index.html" in names and "html/index.html" in names
    page = tmp_path / "index.html"
    page.write_text(_data(origin, "show", "covbot-data:index.html"))
    dom = parse(dump_dom(page))
    assert float(dom.by_id("total").attrs["data-value"]) == report["totals"]["percent_covered"]
    assert any(a.attrs.get("href") == f"https://github.example/{REPO_NAME}/pull/31" for a in dom.find_all("a"))
    tiers = {p.attrs["data-tier"]: int(p.attrs["data-meeting"]) for p in dom.find_all("p", cls="tier-now")}
    assert tiers == {t["name"]: t["meeting"] for t in report["tiers"] if t["target"] is not None and t["files"]}


def test_a_pull_requests_comment_says_where_its_html_report_is(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 12, PR_FILES)
    pages = "https://acme.github.io/shop/pr-12/"
    with FakeGitHub() as gh:
        gh.add_repo(REPO_NAME)
        gh.add_pull(REPO_NAME, 12, head_sha=pr.head_sha, base_sha=pr.base_sha, head_ref="pr")
        gh.add_token(TOKEN)
        give_away(repo.path)
        inputs = {"github-token": TOKEN, "test-command": FAST, "baseline": "none"}
        plain = run_action(tmp_path / "plain", repo.path, "pull_request", pr_event(pr), inputs, api_url=gh.url)
        report = json.loads((repo.path / ".covbot" / "report.json").read_text())
        first = gh.comments(REPO_NAME, 12)[0]["body"]
        linked = run_action(tmp_path / "linked", repo.path, "pull_request", pr_event(pr),
                            dict(inputs, **{"html-report-url": pages}), api_url=gh.url)
        second = gh.comments(REPO_NAME, 12)[0]["body"]
        bad = run_action(tmp_path / "bad", repo.path, "pull_request", pr_event(pr),
                         dict(inputs, **{"html-report-url": "javascript:alert(1)"}), api_url=gh.url)
        third = gh.comments(REPO_NAME, 12)[0]["body"]
    for run in (plain, linked, bad):
        assert run.returncode in (0, 1), run.stderr
    run_page = f"https://github.example/{REPO_NAME}/actions/runs/77"
    assert f"HTML report: `.covbot/html/index.html` in the [run's artifacts]({run_page})" in first
    assert f"[HTML report]({pages})" in second and "run's artifacts" not in second
    assert "javascript" not in third.split("<sub>head")[-1] and f"[run's artifacts]({run_page})" in third
    assert "html-report-url" in third          # said once, in the headline's warnings
    page = repo.path / ".covbot" / "html" / "index.html"
    dom = parse(dump_dom(page))
    missing = {p: f["missing_lines"] for p, f in report["diff"]["files"].items() if f["missing_lines"]}
    assert missing
    for path, lines in missing.items():
        section = dom.find("section", data_path=path)
        shown = [int(r.attrs["data-line"]) for r in section.find_all("tr", cls="missing") if "changed" in r.classes]
        assert shown == lines
