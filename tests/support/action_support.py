"""Helpers for driving ``entrypoint.sh`` the way the Actions runner does.

A sample project in a real git repository, a pull request checked out as the synthetic
merge commit GitHub makes, an event payload file of the real shape, and the runner's
variables (``INPUT_*`` with hyphens, ``GITHUB_*``, ``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY``). The workspace is handed to another uid when running as root,
so git's ``safe.directory`` handling is exercised.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from support.fakegithub import FakeGitHub
from support.repo_factory import Repo, clean_env, sample_pyproject

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "entrypoint.sh"
REPO_NAME = "acme/shop"
OTHER_UID = 4242

BASE_FILES = {
    "pyproject.toml": sample_pyproject(),
    "src/shop/__init__.py": "",
    "src/shop/prices.py": """
        def net(amount, rate):
            if rate < 0:
                raise ValueError("negative rate")
            return round(amount * (1 + rate), 2)
    """,
    "tests/test_prices.py": """
        from shop.prices import net

        def test_net():
            assert net(100, 0.2) == 120.0
    """,
}

PR_FILES = {
    "src/shop/discounts.py": """
        def discount(amount, code):
            if code == "HALF":
                return amount / 2
            if code == "TENOFF":
                return max(0, amount - 10)
            if code.startswith("VIP"):
                tier = int(code[3:] or 0)
                return amount * (1 - tier / 100)
            raise KeyError(code)
    """,
    "tests/test_discounts.py": """
        from shop.discounts import discount

        def test_half():
            assert discount(10, "HALF") == 5
    """,
}


@dataclass
class PullRequest:
    repo: Repo
    number: int
    head_sha: str
    base_sha: str
    merge_sha: str


def make_project(path: Path, base_files: dict | None = None) -> Repo:
    return Repo.create(path, base_files or BASE_FILES)


def open_pull(repo: Repo, number: int, files: dict, message: str = "PR change") -> PullRequest:
    """Commit ``files`` on branch ``pr``; check out the synthetic merge commit, like actions/checkout does."""
    if repo.git("rev-parse", "--verify", "-q", "refs/heads/pr", check=False).strip():
        repo.checkout("pr")
    else:
        repo.checkout("pr", new=True)
    head = repo.commit(files, message)
    base = repo.sha("main")
    repo.checkout(base)                       # detached at the base, then the merge commit
    repo.git("merge", "--no-ff", "-q", "-m", f"Merge {head} into {base}", head)
    return PullRequest(repo, number, head, base, repo.sha())


def serve_pull(pr: PullRequest, token: str, *, write: bool = True, admin: bool = False,
               fork: str | None = None) -> FakeGitHub:
    """A started fake GitHub holding the repository, ``pr`` (from ``fork`` when given) and
    ``token`` (stop it with ``.stop()``)."""
    gh = FakeGitHub().start()
    gh.add_repo(REPO_NAME)
    gh.add_pull(REPO_NAME, pr.number, head_sha=pr.head_sha, base_sha=pr.base_sha, head_ref="pr", head_repo=fork)
    gh.add_token(token, write=write, admin=admin)
    return gh


def pr_event(pr: PullRequest, *, fork: str | None = None) -> dict:
    head_repo = fork or REPO_NAME
    return {
        "action": "synchronize",
        "number": pr.number,
        "pull_request": {
            "number": pr.number, "state": "open", "title": "Add discounts",
            "head": {"sha": pr.head_sha, "ref": "pr", "repo": {"full_name": head_repo, "fork": bool(fork)}},
            "base": {"sha": pr.base_sha, "ref": "main", "repo": {"full_name": REPO_NAME}},
        },
        "repository": {"full_name": REPO_NAME, "default_branch": "main"},
    }


def workflow_run_event(head_sha: str, *, pr_numbers: list[int] | None = None) -> dict:
    return {"action": "completed",
            "workflow_run": {"id": 991, "head_sha": head_sha, "event": "pull_request", "conclusion": "success",
                             "html_url": f"https://github.example/{REPO_NAME}/actions/runs/991",
                             "pull_requests": [{"number": n} for n in (pr_numbers or [])]},
            "repository": {"full_name": REPO_NAME, "default_branch": "main"}}


def give_away(path: Path) -> None:
    """Hand the workspace to another user (as the runner's mount is), when we can."""
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{OTHER_UID}:{OTHER_UID}", str(path)], check=True)


def take_back(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "0:0", str(path)], check=True)


@dataclass
class ActionRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict
    summary: str
    output_text: str


def parse_outputs(text: str) -> dict:
    """Parse ``$GITHUB_OUTPUT`` as the runner does (``name<<DELIM`` blocks)."""
    out, lines, i = {}, text.split("\n"), 0
    while i < len(lines):
        m = re.fullmatch(r"([\w-]+)<<(.+)", lines[i])
        if m:
            name, delim = m.groups()
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1:j])
            i = j + 1
        elif "=" in lines[i]:
            k, v = lines[i].split("=", 1)
            out[k] = v
            i += 1
        else:
            i += 1
    return out


def run_action(tmp: Path, workspace: Path, event_name: str, event: dict, inputs: dict, *,
               api_url: str, cwd: Path | None = None, extra_env: dict | None = None,
               timeout: float = 300) -> ActionRun:
    """Run entrypoint.sh with bash, the runner's variables and ``inputs`` as ``INPUT_*``."""
    tmp.mkdir(parents=True, exist_ok=True)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event))
    out_file, summary_file = tmp / "github_output", tmp / "step_summary"
    for f in (out_file, summary_file):
        f.write_text("")
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(
        GITHUB_ACTIONS="true", CI="true", GITHUB_EVENT_NAME=event_name, GITHUB_EVENT_PATH=str(event_path),
        GITHUB_REPOSITORY=REPO_NAME, GITHUB_API_URL=api_url, GITHUB_SERVER_URL="https://github.example",
        GITHUB_RUN_ID="77", GITHUB_WORKSPACE=str(workspace), GITHUB_OUTPUT=str(out_file),
        GITHUB_STEP_SUMMARY=str(summary_file), HOME=str(home), GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GITHUB_REF=event.get("ref") or (f"refs/pull/{event['number']}/merge" if "number" in event else "refs/heads/main"),
        COVBOT_API_WRITE_DELAY="0", COVBOT_API_BACKOFF="0.05", COVBOT_API_TIMEOUT="5",
    )
    env["COVBOT_PYTHON"] = sys.executable
    for name, value in inputs.items():
        env[f"INPUT_{name.upper()}"] = value
    env.update(extra_env or {})
    proc = subprocess.run(["bash", str(ENTRYPOINT)], cwd=cwd or workspace, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
    output_text = out_file.read_text()
    return ActionRun(proc.returncode, proc.stdout, proc.stderr, parse_outputs(output_text),
                     summary_file.read_text(), output_text)
