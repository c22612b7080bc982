"""``covbot publish`` treats the artifact as hostile: sizes, links, schema, commit and PR checks.

The artifact is a real report folder written by ``covbot report`` on a sample PR; each
test tampers with a copy and publishes it against the fake GitHub API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from support.action_support import PR_FILES, REPO_NAME, make_project, open_pull
from support.fakegithub import FakeGitHub
from support.repo_factory import clean_env

TOKEN = "ghs_publisher_token_42"
FAST = "python -m pytest -p no:benchmark -p no:hypothesispytest -p no:xdist"


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    """A report folder from a real ``covbot report`` run of a sample pull request."""
    tmp = tmp_path_factory.mktemp("produced")
    repo = make_project(tmp / "ws")
    pr = open_pull(repo, 21, PR_FILES)
    proc = repo.covbot("report", "--baseline", "none", "--test-command", FAST, "--head-sha", pr.head_sha,
                       "--output-dir", str(tmp / "out"))
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads((tmp / "out" / "report.json").read_text())
    doc.setdefault("links", {})["pr_number"] = 21
    (tmp / "out" / "report.json").write_text(json.dumps(doc))
    return tmp / "out", pr


@pytest.fixture
def setup(produced, tmp_path):
    out, pr = produced
    artifact = tmp_path / "covbot-report"
    shutil.copytree(out, artifact)
    with FakeGitHub() as gh:
        gh.add_repo(REPO_NAME)
        gh.add_pull(REPO_NAME, 21, head_sha=pr.head_sha, head_repo="fork/shop")
        gh.add_pull(REPO_NAME, 22, head_sha="d" * 40)
        gh.add_token(TOKEN)
        yield gh, artifact, pr


def publish(gh, artifact, head_sha, *extra):
    env = clean_env(GITHUB_TOKEN=TOKEN, GITHUB_API_URL=gh.url, GITHUB_REPOSITORY=REPO_NAME,
                    COVBOT_API_WRITE_DELAY="0", COVBOT_API_BACKOFF="0.01")
    return subprocess.run([sys.executable, "-m", "bot", "publish", "--report-dir", str(artifact),
                           "--head-sha", head_sha, *extra], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


def edit(artifact, fn):
    doc = json.loads((artifact / "report.json").read_text())
    fn(doc)
    (artifact / "report.json").write_text(json.dumps(doc))


def refused(proc, gh, *words):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w in proc.stderr
    assert all(m == "GET" for m, _, _ in gh.requests)
    assert gh.comments(REPO_NAME, 21) == [] and gh.comments(REPO_NAME, 22) == []


def test_a_genuine_artifact_is_posted_to_its_pull_request(setup):
    gh, artifact, pr = setup
    proc = publish(gh, artifact, pr.head_sha)
    assert proc.returncode == 0, proc.stderr
    [c] = gh.comments(REPO_NAME, 21)
    assert c["body"].startswith("<!-- covbot:comment-id=covbot -->")
    # the link to missing lines is rebuilt from trusted values (server, repository, head SHA)
    assert f"https://github.com/{REPO_NAME}/blob/{pr.head_sha}/src/shop/discounts.py" in c["body"]
    assert gh.statuses(REPO_NAME, pr.head_sha)[0]["context"] == "covbot"
    assert TOKEN not in proc.stdout + proc.stderr


def test_an_artifact_naming_another_pull_request_is_refused(setup):
    gh, artifact, pr = setup
    edit(artifact, lambda d: d["links"].update(pr_number=22))
    refused(publish(gh, artifact, pr.head_sha), gh, "#22", "refused")


def test_a_pr_flag_that_disagrees_with_the_run_is_refused(setup):
    gh, artifact, pr = setup
    edit(artifact, lambda d: d["links"].pop("pr_number"))
    refused(publish(gh, artifact, pr.head_sha, "--pr", "22"), gh, "#22")


def test_an_artifact_for_another_commit_is_refused(setup):
    gh, artifact, pr = setup
    refused(publish(gh, artifact, "d" * 40), gh, "computed for commit", "refused")


@pytest.mark.parametrize("tamper, words", [
    (lambda d: d.update(schema_version=99), ["schema_version"]),
    (lambda d: d["totals"].update(percent_covered="100"), ["totals.percent_covered"]),
    (lambda d: d["files"].append({"path": 7}), ["files[", "path"]),
    (lambda d: d["diff"]["files"].update({"x.py": {"changed_lines": 1, "missing_lines": ["<script>"]}}),
     ["missing_lines"]),
    (lambda d: d["verdict"].update(passed="yes"), ["verdict.passed"]),
    (lambda d: d["head"].update(sha="$(rm -rf /)"), ["head.sha"]),
    (lambda d: d.update(warnings=[{"x": 1}]), ["warnings"]),
])
def test_schema_violations_are_refused_with_the_place_named(setup, tamper, words):
    gh, artifact, pr = setup
    edit(artifact, tamper)
    refused(publish(gh, artifact, pr.head_sha), gh, "schema", *words)


def test_not_json_and_oversized_and_links_are_refused(setup, tmp_path):
    gh, artifact, pr = setup
    (artifact / "report.json").write_bytes(b"\xff\xfe{not json")
    refused(publish(gh, artifact, pr.head_sha), gh, "not valid JSON")
    with open(artifact / "report.json", "wb") as fh:      # sparse: 11 MiB without writing it
        fh.truncate(11 * 1024 * 1024)
    refused(publish(gh, artifact, pr.head_sha), gh, "bytes")
    (artifact / "report.json").unlink()
    secret = tmp_path / "runner-secret"
    secret.write_text("{}")
    os.symlink(secret, artifact / "report.json")
    refused(publish(gh, artifact, pr.head_sha), gh, "symbolic link")


def test_hostile_strings_in_a_valid_report_are_rendered_inert(setup):
    gh, artifact, pr = setup

    def hostile(d):
        d["warnings"] = ["@acme/security-team please look #1 <img src=x onerror=alert(1)> -->"]
        d["files"][0]["path"] = "src/| evil `code` @here.py"
    edit(artifact, hostile)
    proc = publish(gh, artifact, pr.head_sha)
    assert proc.returncode == 0, proc.stderr
    body = gh.comments(REPO_NAME, 21)[0]["body"]
    assert "<img" not in body and "@acme/security-team" not in body and "#1 " not in body
    assert body.count("-->") == 1                    # only the marker's own


def test_a_missing_head_sha_is_a_usage_error(setup):
    gh, artifact, pr = setup
    env = clean_env(GITHUB_TOKEN=TOKEN, GITHUB_API_URL=gh.url, GITHUB_REPOSITORY=REPO_NAME)
    proc = subprocess.run([sys.executable, "-m", "bot", "publish", "--report-dir", str(artifact)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2 and "--head-sha" in proc.stderr
    assert gh.requests == []
