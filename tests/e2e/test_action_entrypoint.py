"""entrypoint.sh driven as the Actions runner drives it, against the fake GitHub API.

Real git repositories (the PR checked out as GitHub's synthetic merge commit, the
workspace owned by another uid), real pytest runs of a sample project under covbot,
PyGithub talking HTTP to tests/support/fakegithub.py.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from support.action_support import (PR_FILES, REPO_NAME, give_away, make_project, open_pull, pr_event,
                                    run_action, serve_pull, take_back, workflow_run_event)
from support.fakegithub import FakeGitHub
from support.repo_factory import Repo

TOKEN = "ghs_fakeInstallationToken0123456789"
#: pytest without the slow-to-load plugins of this machine (coverage still via covbot).
FAST = "python -m pytest -p no:benchmark -p no:hypothesispytest -p no:xdist"
MARK = "<!-- covbot:comment-id=covbot -->"


def _fake(pr, *, write=True, fork=None):
    return serve_pull(pr, TOKEN, write=write, fork=fork)


def _no_secret(tmp_path, run, repo: Repo):
    """The token is masked and appears in no file covbot wrote, no summary, no output."""
    assert f"::add-mask::{TOKEN}" in run.stdout
    rest = run.stdout.replace(f"::add-mask::{TOKEN}", "")
    assert TOKEN not in rest and TOKEN not in run.stderr
    assert TOKEN not in run.summary and TOKEN not in run.output_text
    for f in (repo.path / ".covbot").rglob("*"):   # html/ too
        if f.is_file():
            assert TOKEN not in f.read_text(encoding="utf-8", errors="replace")


def test_two_pushes_leave_one_comment_with_the_second_runs_content(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 5, PR_FILES)
    gh = _fake(pr)
    try:
        # A long conversation: the sticky comment ends up on the second page of comments,
        # and a human quoting the marker must not be mistaken for covbot.
        for i in range(130):
            gh.add_comment(REPO_NAME, 5, f"review comment {i}")
        gh.add_comment(REPO_NAME, 5, f"quoting the bot: {MARK} please fix", login="octocat")
        give_away(repo.path)
        run1 = run_action(tmp_path / "run1", repo.path, "pull_request", pr_event(pr),
                          {"github-token": TOKEN, "test-command": FAST}, api_url=gh.url)
        assert run1.returncode in (0, 1), run1.stderr
        ours = [c for c in gh.comments(REPO_NAME, 5) if c["user"]["type"] == "Bot"]
        assert len(ours) == 1
        first_id = ours[0]["id"]
        assert pr.head_sha[:7] in ours[0]["body"] and pr.merge_sha[:7] not in ours[0]["body"]
        report1 = json.loads((repo.path / ".covbot" / "report.json").read_text())
        assert report1["head"]["sha"] == pr.head_sha
        assert report1["head"]["checkout_sha"] == pr.merge_sha
        # the status is on the PR head, never on the synthetic merge commit
        assert gh.statuses(REPO_NAME, pr.merge_sha) == []
        st = gh.statuses(REPO_NAME, pr.head_sha)
        assert [s["context"] for s in st] == ["covbot"]
        assert st[0]["state"] == ("success" if report1["verdict"]["passed"] else "failure")
        assert len(st[0]["description"]) <= 140 and "Coverage" in st[0]["description"]
        assert st[0]["target_url"] == f"https://github.example/{REPO_NAME}/actions/runs/77"
        assert run1.outputs["verdict"] == ("passed" if report1["verdict"]["passed"] else "failed")
        assert run1.returncode == (0 if report1["verdict"]["passed"] else 1)
        assert float(run1.outputs["coverage"]) == pytest.approx(report1["totals"]["percent_covered"], abs=0.005)
        assert run1.outputs["report-path"] == str(repo.path / ".covbot" / "report.json")
        assert "::warning file=src/shop/discounts.py" in run1.stdout
        _no_secret(tmp_path, run1, repo)

        # Second push: test the rest of discount(); new head, new merge commit.
        take_back(repo.path)
        pr2 = open_pull(repo, 5, {"tests/test_discounts.py": """
            import pytest
            from shop.discounts import discount

            def test_half():
                assert discount(10, "HALF") == 5

            def test_others():
                assert discount(30, "TENOFF") == 20
                assert discount(100, "VIP10") == 90
                with pytest.raises(KeyError):
                    discount(1, "NOPE")
        """}, "test everything")
        gh.set_head(REPO_NAME, 5, pr2.head_sha)
        give_away(repo.path)
        gh.requests.clear()
        run2 = run_action(tmp_path / "run2", repo.path, "pull_request", pr_event(pr2),
                          {"github-token": TOKEN, "test-command": FAST}, api_url=gh.url)
        assert run2.returncode == 0, run2.stderr + run2.stdout
        ours = [c for c in gh.comments(REPO_NAME, 5) if c["user"]["type"] == "Bot"]
        assert [c["id"] for c in ours] == [first_id]          # edited in place, never a second one
        body = ours[0]["body"]
        assert body.startswith(MARK)
        assert pr2.head_sha[:7] in body and pr.head_sha[:7] not in body
        assert body == (repo.path / ".covbot" / "comment.md").read_text()
        human = [c for c in gh.comments(REPO_NAME, 5) if c["user"]["login"] == "octocat" and MARK in c["body"]]
        assert len(human) == 1 and "please fix" in human[0]["body"]  # untouched
        report2 = json.loads((repo.path / ".covbot" / "report.json").read_text())
        assert report2["diff"]["percent_covered"] == 100.0
        assert gh.statuses(REPO_NAME, pr2.head_sha)[0]["state"] == "success"
        methods = [(m, p.split("?")[0]) for m, p, _ in gh.requests]
        assert methods == [
            ("GET", f"/repos/{REPO_NAME}/issues/5/comments"),
            # page 2, where GitHub's Link header points: all pages are read
            ("GET", f"/repositories/{FakeGitHub.repo_id(REPO_NAME)}/issues/5/comments"),
            ("PATCH", f"/repos/{REPO_NAME}/issues/comments/{first_id}"),
            ("POST", f"/repos/{REPO_NAME}/statuses/{pr2.head_sha}"),
        ]
        assert all(p != "/user" for _, p, _ in gh.requests)
        assert "### ✅ covbot: gate passed" in run2.summary
        _no_secret(tmp_path, run2, repo)
    finally:
        gh.stop()


def test_a_comment_id_per_package_gives_two_comments_and_two_statuses(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 8, PR_FILES)
    gh = _fake(pr)
    try:
        give_away(repo.path)
        for package, tests in (("prices", "tests/test_prices.py"), ("discounts", "tests/test_discounts.py")):
            run = run_action(tmp_path / package, repo.path, "pull_request", pr_event(pr),
                             {"github-token": TOKEN, "comment-id": package, "baseline": "none",
                              "test-command": f"{FAST} {tests}", "output-dir": f".covbot-{package}"},
                             api_url=gh.url)
            assert run.returncode in (0, 1), run.stderr
        # the first package again: still two comments
        run = run_action(tmp_path / "again", repo.path, "pull_request", pr_event(pr),
                         {"github-token": TOKEN, "comment-id": "prices", "baseline": "none",
                          "test-command": f"{FAST} tests/test_prices.py", "output-dir": ".covbot-prices"},
                         api_url=gh.url)
        comments = gh.comments(REPO_NAME, 8)
        assert len(comments) == 2
        assert comments[0]["body"].startswith("<!-- covbot:comment-id=prices -->")
        assert comments[1]["body"].startswith("<!-- covbot:comment-id=discounts -->")
        contexts = sorted({s["context"] for s in gh.statuses(REPO_NAME, pr.head_sha)})
        assert contexts == ["covbot/discounts", "covbot/prices"]
        assert run.outputs["comment-path"].endswith(".covbot-prices/comment.md")
    finally:
        gh.stop()


def test_read_only_token_of_a_fork_leaves_no_comment_a_full_summary_and_a_clean_exit(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 9, PR_FILES)
    gh = _fake(pr, write=False, fork="contributor/shop")
    try:
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr, fork="contributor/shop"),
                         {"github-token": TOKEN, "test-command": FAST, "baseline": "none"}, api_url=gh.url)
        report = json.loads((repo.path / ".covbot" / "report.json").read_text())
        # exit by the gate alone
        assert run.returncode == (0 if report["verdict"]["passed"] else 1), run.stderr
        assert gh.comments(REPO_NAME, 9) == []
        assert gh.statuses(REPO_NAME, pr.head_sha) == []
        assert ("POST", f"/repos/{REPO_NAME}/issues/9/comments", 403) in gh.requests
        assert not any(p == "/user" for _, p, _ in gh.requests)
        # the complete report is in the summary, with how to publish it
        assert "covbot: gate" in run.summary and "#### Changed files" in run.summary
        assert "src/shop/discounts.py" in run.summary
        assert "workflow_run" in run.summary and "upload-artifact" in run.summary
        assert "Traceback" not in run.stderr
        assert (repo.path / ".covbot" / "comment.md").is_file()
        _no_secret(tmp_path, run, repo)
    finally:
        gh.stop()


def test_workflow_run_publisher_posts_the_fork_report_to_the_right_pull_request(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 11, PR_FILES)
    gh = _fake(pr, fork="contributor/shop")
    gh.add_pull(REPO_NAME, 12, head_sha="c" * 40, head_ref="other")     # another open PR
    try:
        # 1. the untrusted pull_request run, read-only token: report only
        give_away(repo.path)
        gh.add_token("ghs_readonly", write=False)
        run = run_action(tmp_path / "fork", repo.path, "pull_request", pr_event(pr, fork="contributor/shop"),
                         {"github-token": "ghs_readonly", "test-command": FAST, "baseline": "none"},
                         api_url=gh.url)
        assert run.returncode in (0, 1)
        take_back(repo.path)
        # 2. the trusted workflow_run: a clean checkout of the default branch plus the artifact
        trusted = Repo.create(tmp_path / "trusted", {"README.md": "trusted\n"})
        artifact = trusted.path / "covbot-report"
        artifact.mkdir()
        for name in ("report.json", "comment.md"):
            (artifact / name).write_bytes((repo.path / ".covbot" / name).read_bytes())
        (artifact / "comment.md").write_text("@everyone forged <img src=x onerror=alert(1)>")
        pub = run_action(tmp_path / "publish", trusted.path, "workflow_run", workflow_run_event(pr.head_sha),
                         {"github-token": TOKEN}, api_url=gh.url)
        assert pub.returncode == 0, pub.stderr
        assert gh.comments(REPO_NAME, 12) == []
        posted = gh.comments(REPO_NAME, 11)
        assert len(posted) == 1
        # re-rendered from report.json: the forged comment.md is ignored
        assert "forged" not in posted[0]["body"]
        assert posted[0]["body"].startswith(MARK)
        assert pr.head_sha[:7] in posted[0]["body"]
        assert [s["context"] for s in gh.statuses(REPO_NAME, pr.head_sha)] == ["covbot"]
        assert "published" in pub.summary

        # 3. a forged artifact naming another PR is refused, nothing posted
        doc = json.loads((artifact / "report.json").read_text())
        doc["links"]["pr_number"] = 12
        (artifact / "report.json").write_text(json.dumps(doc))
        before = len(gh.requests)
        forged = run_action(tmp_path / "forged", trusted.path, "workflow_run", workflow_run_event(pr.head_sha),
                            {"github-token": TOKEN}, api_url=gh.url)
        assert forged.returncode == 2
        assert "#12" in forged.stderr and "refused" in forged.stderr
        assert gh.comments(REPO_NAME, 12) == [] and len(gh.comments(REPO_NAME, 11)) == 1
        assert all(m == "GET" for m, _, _ in gh.requests[before:])
        assert "could not publish" in forged.summary
    finally:
        gh.stop()


def test_publishing_that_keeps_failing_still_writes_report_and_summary_and_exits_3(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 13, PR_FILES)
    gh = _fake(pr)
    try:
        gh.fail_next("GET", r"/issues/13/comments$", 503, times=100)
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": TOKEN, "test-command": FAST, "baseline": "none"},
                         api_url=gh.url, extra_env={"COVBOT_API_ATTEMPTS": "3"})
        assert run.returncode == 3, run.stderr
        assert [s for _, _, s in gh.requests] == [503, 503, 503]       # bounded: 3 attempts
        assert "gave up after 3 attempt(s)" in run.stderr
        assert "publishing it failed" in run.summary and "#### Changed files" in run.summary
        assert (repo.path / ".covbot" / "report.json").is_file()
        assert run.outputs["verdict"] in ("passed", "failed")
        assert gh.comments(REPO_NAME, 13) == []
        _no_secret(tmp_path, run, repo)
    finally:
        gh.stop()


def test_a_lost_answer_to_the_comment_post_does_not_make_two_comments(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 14, PR_FILES)
    gh = _fake(pr)
    try:
        # the comment is created, but the client sees a 502 (and then a reset on the retry's list)
        gh.fail_next("POST", r"/issues/14/comments$", 502, after=True)
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": TOKEN, "test-command": FAST, "baseline": "none"}, api_url=gh.url)
        assert run.returncode in (0, 1), run.stderr
        assert len(gh.comments(REPO_NAME, 14)) == 1
        posts = [r for r in gh.requests if r[0] == "POST" and r[1].endswith("/comments")]
        assert posts == [("POST", f"/repos/{REPO_NAME}/issues/14/comments", 502)]
        assert any(r[0] == "PATCH" for r in gh.requests)
    finally:
        gh.stop()


def test_push_to_the_default_branch_analyses_and_writes_the_summary_without_commenting(tmp_path):
    repo = make_project(tmp_path / "ws")
    before = repo.sha()
    after = repo.commit(PR_FILES, "merge discounts")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    with FakeGitHub() as gh:
        gh.add_repo(REPO_NAME)
        give_away(repo.path)
        event = {"ref": "refs/heads/main", "before": before, "after": after,
                 "repository": {"full_name": REPO_NAME, "default_branch": "main"}}
        run = run_action(tmp_path / "run", repo.path, "push", event,
                         {"github-token": TOKEN, "test-command": FAST, "baseline": "none", "base": before},
                         api_url=gh.url)
        assert run.returncode in (0, 1), run.stderr
        assert "push-default" in run.stdout
        assert "covbot: gate" in run.summary
        assert [r for r in gh.requests if r[0] != "GET"] == []
        report = json.loads((repo.path / ".covbot" / "report.json").read_text())
        assert report["diff"]["num_lines"] > 0     # compared with the push's previous commit
        # the baseline of the pushed commit is stored on the data branch for later PRs
        assert "baseline stored" in run.summary, run.summary[-500:]
        stored = subprocess.run(["git", "--git-dir", str(origin), "ls-tree", "-r", "--name-only", "covbot-data"],
                                stdout=subprocess.PIPE, text=True, check=True).stdout
        assert f"baselines/{after[:2]}/{after}/summary.json" in stored


def test_bad_input_gives_one_message_exit_2_and_a_summary(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 15, PR_FILES)
    with FakeGitHub() as gh:
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": TOKEN, "annotate": "maybe"}, api_url=gh.url)
        assert run.returncode == 2
        assert "annotate" in run.stderr and "Traceback" not in run.stderr
        assert "covbot failed" in run.summary and run.outputs["verdict"] == "error"
        missing = run_action(tmp_path / "wd", repo.path, "pull_request", pr_event(pr),
                             {"github-token": TOKEN, "working-directory": "no/such/dir"}, api_url=gh.url)
        assert missing.returncode == 2 and "working-directory" in missing.stderr
        assert gh.requests == []


def test_a_pr_uses_the_baseline_the_push_job_stored_by_default(tmp_path):
    """The Action's default baseline is `auto`: the push job's stored summary of main is
    the PR's base (no second test run); its totals equal the push run's report."""
    repo = make_project(tmp_path / "ws")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    main_sha = repo.sha("main")
    with FakeGitHub() as gh:
        gh.add_repo(REPO_NAME)
        give_away(repo.path)
        push = run_action(tmp_path / "push", repo.path, "push",
                          {"ref": "refs/heads/main", "before": "0" * 40, "after": main_sha,
                           "repository": {"full_name": REPO_NAME, "default_branch": "main"}},
                          {"github-token": TOKEN, "test-command": FAST, "baseline": "none"}, api_url=gh.url)
        assert push.returncode in (0, 1), push.stderr
        assert "baseline stored" in push.summary, push.summary[-500:]
        main_report = json.loads((repo.path / ".covbot" / "report.json").read_text())
    take_back(repo.path)
    pr = open_pull(repo, 21, PR_FILES)
    gh = _fake(pr)
    try:
        give_away(repo.path)
        run = run_action(tmp_path / "pr", repo.path, "pull_request", pr_event(pr),
                         {"github-token": TOKEN, "test-command": FAST}, api_url=gh.url)
        assert run.returncode in (0, 1), run.stderr
        report = json.loads((repo.path / ".covbot" / "report.json").read_text())
        assert report["baseline"]["mode"] == "auto" or "stored baseline" in report["baseline"]["description"]
        assert report["baseline"]["commit"] == main_sha
        assert "running base tests" not in run.stderr          # no rerun of the base
        assert report["base_totals"]["percent_covered"] == main_report["totals"]["percent_covered"]
        assert report["base_totals"]["statements"] == main_report["totals"]["statements"]
        body = [c for c in gh.comments(REPO_NAME, 21) if c["user"]["type"] == "Bot"][0]["body"]
        assert f"stored baseline of the merge-base {main_sha[:7]}" in body
    finally:
        gh.stop()
