"""The Action's entry point (``python -m bot.app.action`` through entrypoint.sh, as the runner
runs it) against the fake GitHub over HTTP: whose comments it edits, how it survives a
server that drips or answers garbage, how it finds the pull request of a ``workflow_run``
and what it does when that pull request moved on."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from support.action_support import PR_FILES, REPO_NAME, give_away, make_project, open_pull, pr_event, run_action, serve_pull
from support.fakegithub import FakeGitHub
from support.repo_factory import Repo

TOKEN = "ghs_fakeInstallationToken0123456789"
FAST = "python -m pytest -p no:benchmark -p no:hypothesispytest -p no:xdist"
MARK = "<!-- covbot:comment-id=covbot -->"
FORK = "contributor/shop"


def _fake(pr, *, admin=False, fork=None) -> FakeGitHub:
    return serve_pull(pr, TOKEN, admin=admin, fork=fork)


# -- finding 7: another app's comment quoting the marker --------------------------------------------

def test_another_apps_older_comment_with_the_marker_is_left_alone_and_covbots_own_is_edited(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 31, PR_FILES)
    gh = _fake(pr, admin=True)        # an admin's token: the API would allow editing anyone's comment
    try:
        other = gh.add_comment(REPO_NAME, 31, f"> quoting covbot\n{MARK}\nlooks fine", login="other-app[bot]",
                               type="Bot")
        ours = gh.add_comment(REPO_NAME, 31, f"{MARK}\nthe previous run", login="github-actions[bot]", type="Bot")
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": TOKEN, "test-command": FAST, "baseline": "none"}, api_url=gh.url)
        assert run.returncode in (0, 1), run.stderr
        comments = {c["id"]: c for c in gh.comments(REPO_NAME, 31)}
        assert set(comments) == {other, ours}
        assert comments[other]["body"] == f"> quoting covbot\n{MARK}\nlooks fine"
        assert comments[ours]["body"] == (repo.path / ".covbot" / "comment.md").read_text()
        touched = [(m, p) for m, p, _ in gh.requests if m in ("PATCH", "DELETE")]
        assert touched == [("PATCH", f"/repos/{REPO_NAME}/issues/comments/{ours}")]
        assert [s["context"] for s in gh.statuses(REPO_NAME, pr.head_sha)] == ["covbot"]
    finally:
        gh.stop()


# -- finding 9: a dripping server, a garbage answer -------------------------------------------------

def test_a_server_dripping_one_byte_at_a_time_does_not_hang_the_run(tmp_path):
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 32, PR_FILES)
    gh = _fake(pr)
    try:
        gh.fail_next("GET", r"/issues/32/comments$", "drip", delay=1.0, times=10)
        give_away(repo.path)
        t0 = time.monotonic()
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": TOKEN, "test-command": FAST, "baseline": "none"}, api_url=gh.url,
                         extra_env={"COVBOT_API_TIMEOUT": "2", "COVBOT_API_ATTEMPTS": "2"}, timeout=120)
        took = time.monotonic() - t0
        assert run.returncode == 3, run.stderr
        assert "timed out" in run.stderr and "Traceback" not in run.stderr
        assert "publishing it failed" in run.summary and "#### Changed files" in run.summary
        assert (repo.path / ".covbot" / "report.json").is_file()
        assert [s for _, _, s in gh.requests] == ["drip", "drip"]
        assert took < 90
    finally:
        gh.stop()


def test_a_malformed_200_answer_is_a_publishing_failure_not_an_internal_error(tmp_path):
    raw = b"<html><body>502 Bad Gateway</body></html>"     # a proxy's page, with status 200
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 33, PR_FILES)
    gh = _fake(pr)
    try:
        gh.fail_next("GET", r"/issues/33/comments$", 200, raw=raw)
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": TOKEN, "test-command": FAST, "baseline": "none"}, api_url=gh.url)
        assert run.returncode == 3, run.stderr
        assert "internal error" not in run.stderr and "Traceback" not in run.stderr
        assert "GET /repos/acme/shop/issues/33/comments" in run.stderr
        assert "publishing it failed" in run.summary and "#### Changed files" in run.summary
    finally:
        gh.stop()


# -- findings 10 and 12: the publisher on workflow_run ----------------------------------------------

@pytest.fixture(scope="module")
def artifact_of_a_fork(tmp_path_factory):
    """The report folder a fork's pull_request run uploads (report.json names PR #150)."""
    tmp = tmp_path_factory.mktemp("fork")
    repo = make_project(tmp / "ws")
    pr = open_pull(repo, 150, PR_FILES)
    proc = repo.covbot("report", "--baseline", "none", "--test-command", FAST, "--head-sha", pr.head_sha,
                       "--output-dir", str(tmp / "out"), "--repository", REPO_NAME)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads((tmp / "out" / "report.json").read_text())
    doc.setdefault("links", {})["pr_number"] = 150
    (tmp / "out" / "report.json").write_text(json.dumps(doc))
    return tmp / "out", pr


def _trusted_checkout(tmp_path, artifact, *, claim: bool):
    trusted = Repo.create(tmp_path / "trusted", {"README.md": "the default branch\n"})
    shutil.copytree(artifact, trusted.path / "covbot-report")
    if not claim:
        doc = json.loads((trusted.path / "covbot-report" / "report.json").read_text())
        doc["links"].pop("pr_number")
        (trusted.path / "covbot-report" / "report.json").write_text(json.dumps(doc))
    return trusted


def _workflow_run(head_sha, *, head_repo=FORK, pull_requests=()):
    return {"action": "completed",
            "workflow_run": {"id": 991, "head_sha": head_sha, "event": "pull_request", "conclusion": "success",
                             "head_branch": "pr",
                             "head_repository": {"full_name": head_repo, "owner": {"login": head_repo.split("/")[0]}},
                             "html_url": f"https://github.example/{REPO_NAME}/actions/runs/991",
                             "pull_requests": [{"number": n, "head": {"sha": head_sha, "ref": "pr"}}
                                               for n in pull_requests]},
            "repository": {"full_name": REPO_NAME, "default_branch": "main"}}


def _many_open_pulls(gh, n=101):
    for i in range(n):
        gh.add_pull(REPO_NAME, 200 + i, head_sha=f"{i:040x}", head_ref=f"topic-{i}")


@pytest.mark.parametrize("how", ["artifact-names-the-pr", "fork-branch-from-the-event", "event-pull-requests"])
def test_the_pull_request_of_a_workflow_run_is_found_in_a_few_requests(tmp_path, artifact_of_a_fork, how):
    artifact, pr = artifact_of_a_fork
    same_repo = how == "event-pull-requests"
    gh = _fake(pr, fork=None if same_repo else FORK)
    _many_open_pulls(gh)
    try:
        trusted = _trusted_checkout(tmp_path, artifact, claim=how == "artifact-names-the-pr")
        event = _workflow_run(pr.head_sha, head_repo=REPO_NAME if same_repo else FORK,
                              pull_requests=(150,) if same_repo else ())
        pub = run_action(tmp_path / "publish", trusted.path, "workflow_run", event, {"github-token": TOKEN},
                         api_url=gh.url)
        assert pub.returncode == 0, pub.stderr
        assert len(gh.comments(REPO_NAME, 150)) == 1
        assert [s["context"] for s in gh.statuses(REPO_NAME, pr.head_sha)] == ["covbot"]
        lookups = [p for m, p, _ in gh.requests if "/pulls" in p]
        assert len(lookups) <= 2, lookups
        assert len(gh.requests) <= 5, gh.transcript()
    finally:
        gh.stop()


@pytest.mark.parametrize("force", [False, True], ids=["pushed", "force-pushed"])
def test_a_pull_request_that_moved_on_since_the_run_is_skipped_with_a_notice(tmp_path, artifact_of_a_fork, force):
    artifact, pr = artifact_of_a_fork
    gh = _fake(pr, fork=FORK)
    gh.set_head(REPO_NAME, 150, "f" * 40, force=force)
    try:
        trusted = _trusted_checkout(tmp_path, artifact, claim=True)
        pub = run_action(tmp_path / "publish", trusted.path, "workflow_run", _workflow_run(pr.head_sha),
                         {"github-token": TOKEN}, api_url=gh.url)
        assert pub.returncode == 0, pub.stderr
        assert "moved on" in pub.summary and "ffffffffffff" in pub.summary
        assert "could not publish" not in pub.summary and "error" not in pub.stderr
        assert gh.comments(REPO_NAME, 150) == []
        assert gh.statuses(REPO_NAME, pr.head_sha) == [] and gh.statuses(REPO_NAME, "f" * 40) == []
        assert all(m == "GET" for m, _, _ in gh.requests)
    finally:
        gh.stop()


def test_a_pull_request_closed_since_the_run_is_skipped_and_a_foreign_one_still_refused(tmp_path,
                                                                                         artifact_of_a_fork):
    artifact, pr = artifact_of_a_fork
    gh = _fake(pr, fork=FORK)
    gh.add_pull(REPO_NAME, 151, head_sha="e" * 40, head_ref="elsewhere", head_repo="mallory/shop")
    try:
        trusted = _trusted_checkout(tmp_path, artifact, claim=True)
        gh.set_state(REPO_NAME, 150, "closed")
        pub = run_action(tmp_path / "closed", trusted.path, "workflow_run", _workflow_run(pr.head_sha),
                         {"github-token": TOKEN}, api_url=gh.url)
        assert pub.returncode == 0, pub.stderr
        assert "closed" in pub.summary and gh.comments(REPO_NAME, 150) == []
        # an artifact naming a pull request of another branch is still refused
        doc = json.loads((trusted.path / "covbot-report" / "report.json").read_text())
        doc["links"]["pr_number"] = 151
        (trusted.path / "covbot-report" / "report.json").write_text(json.dumps(doc))
        forged = run_action(tmp_path / "forged", trusted.path, "workflow_run", _workflow_run(pr.head_sha),
                            {"github-token": TOKEN}, api_url=gh.url)
        assert forged.returncode == 2 and "#151" in forged.stderr and "refused" in forged.stderr
        assert gh.comments(REPO_NAME, 151) == []
    finally:
        gh.stop()
