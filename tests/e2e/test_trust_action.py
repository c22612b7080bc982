"""What runs with the token: entrypoint.sh driven as the runner drives it, a real pull
request's code and settings trying to reach covbot's privileges, the fake GitHub API.

The job log is replayed through the runner's own command parser (tests/support/runner_log.py)
to see which workflow commands the runner would have executed.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

from support.action_support import (BASE_FILES, PR_FILES, PullRequest, REPO_NAME, give_away, make_project, open_pull,
                                    pr_event, run_action, serve_pull, take_back)
from support.fakegithub import FakeGitHub
from support.runner_log import replay

FAST = "python -m pytest -p no:benchmark -p no:hypothesispytest -p no:xdist"
SECRET_NAMES = ("GITHUB_TOKEN", "COVBOT_GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN",
                "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL")


def _token() -> str:
    """A token of this test only (other runs on the machine use the shared fake one)."""
    return f"ghs_{secrets.token_hex(18)}"


def _fake(pr, token: str) -> FakeGitHub:
    return serve_pull(pr, token)


def _bot_comments(gh, number: int) -> list[dict]:
    return [c for c in gh.comments(REPO_NAME, number) if c["user"]["type"] == "Bot"]


# -- 1. workflow commands through the job log ------------------------------------------------------

EMIT = """
    import os, subprocess, sys
    os.write(1, b"::warning::from the test command's stdout\\n::stop-commands::x\\n")
    os.write(2, b"::error::from the test command's stderr\\n##[set-output name=verdict;]passed\\n")
    # a process that leaves the test command's process group and writes after it ended
    subprocess.Popen([sys.executable, "-c", "import os, time; time.sleep(2); "
                      "os.write(1, b'\\\\n::stop-commands::late\\\\n::error::late\\\\n')"], start_new_session=True)
"""

EVIL_TEST = """
    def test_evil():
        print("::stop-commands::y")
        print("::error::from captured output")
        raise AssertionError("boom\\n::stop-commands::z\\n::error::from the failure message\\n##[add-mask]covbot")
"""


def test_untrusted_output_is_fenced_and_cannot_switch_off_covbots_annotations(tmp_path):
    token = _token()
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 21, {**PR_FILES, "tools/emit.py": EMIT, "tests/test_evil.py": EVIL_TEST})
    gh = _fake(pr, token)
    try:
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": token, "test-command": f"python tools/emit.py; {FAST}",
                          "baseline": "none"}, api_url=gh.url)
        assert run.returncode == 1, run.stderr
    finally:
        gh.stop()
    log = replay(run.stdout)
    ran = [c for c in log.executed if c.name not in ("stop-commands", "(resume)")]
    warnings = [c for c in ran if c.name == "warning"]
    # covbot's own annotations, printed after the test output and the comment, still run
    assert any(c.properties.get("file") == "src/shop/discounts.py" for c in warnings), [c.line for c in log.executed]
    assert all(c.properties.get("title") == "Changed lines not covered" for c in warnings)
    assert not log.stopped_at_end
    # stderr carries no command at all: nothing there is fenced, so nothing there may parse
    assert replay(run.stderr).executed == [], [c.line for c in replay(run.stderr).executed]
    stops = [c.data for c in log.executed if c.name == "stop-commands"]
    resumes = [c.data for c in log.executed if c.name == "(resume)"]
    assert len(stops) >= 2 and resumes == stops               # the test command's output, the comment
    assert len(set(stops)) == len(stops) and all(re.fullmatch(r"covbot-[0-9a-f]{40}", t) for t in stops)
    assert [c.data for c in ran if c.name == "add-mask"] == [token]
    assert {c.name for c in ran} == {"add-mask", "warning"}, [c.line for c in ran]
    # the fenced text is still in the log for people to read
    for text in ("from the test command's stdout", "from the test command's stderr", "from the failure message"):
        assert text in run.stdout


# -- 2. the token in the commands' environment ---------------------------------------------------------

ENV_DUMP = """
    import json, os
    _dir = os.environ.get("PROBE_DIR")
    if _dir:
        with open(os.path.join(_dir, "pytest-%d.json" % os.getpid()), "w") as fh:
            json.dump({"cwd": os.getcwd(), "only": os.environ.get("COVBOT_ONLY"), "env": dict(os.environ)}, fh)
"""

PROBE = """
    import json, os, sys
    # this process's environment and the initial environment of every ancestor it can read
    seen, pid = {}, os.getpid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                seen[pid] = fh.read().decode("utf-8", "replace")
        except OSError as exc:
            seen[pid] = f"unreadable: {exc}"
        with open(f"/proc/{pid}/status") as fh:
            pid = int(next(line for line in fh if line.startswith("PPid:")).split()[1])
    with open(os.path.join(os.environ["PROBE_DIR"], sys.argv[1] + ".json"), "w") as fh:
        json.dump({"env": dict(os.environ), "ancestors": seen}, fh)
"""


def test_no_command_covbot_runs_gets_the_token(tmp_path):
    token, runtime, oidc = _token(), f"rt-{secrets.token_hex(12)}", f"oidc-{secrets.token_hex(12)}"
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir()
    repo = make_project(tmp_path / "ws", {**BASE_FILES, "conftest.py": ENV_DUMP, "tools/probe.py": PROBE})
    pr = open_pull(repo, 22, {**PR_FILES, "tests/test_broken.py": "def test_broken():\n    assert False\n"})
    gh = _fake(pr, token)
    try:
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": token, "test-command": FAST,
                          "install-command": "python tools/probe.py install"},   # baseline auto: none stored, rerun
                         api_url=gh.url,
                         extra_env={"COVBOT_GITHUB_TOKEN": token, "GITHUB_TOKEN": token, "GH_TOKEN": token,
                                    "ACTIONS_RUNTIME_TOKEN": runtime, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": oidc,
                                    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/oidc",
                                    "PROBE_DIR": str(probe_dir)})
        assert run.returncode == 1, run.stderr
        assert _bot_comments(gh, 22), "the comment was posted with the token"
    finally:
        gh.stop()
    dumps = [json.loads(p.read_text()) for p in sorted(probe_dir.glob("pytest-*.json"))]
    head = [d for d in dumps if Path(d["cwd"]).resolve() == repo.path.resolve() and not d["only"]]
    rerun = [d for d in dumps if d["only"]]
    base = [d for d in dumps if "covbot-base-" in d["cwd"]]
    assert head and rerun and base, [(d["cwd"], d["only"]) for d in dumps]   # every kind of run was seen
    install = json.loads((probe_dir / "install.json").read_text())
    for seen in [d["env"] for d in dumps] + [install["env"]]:
        assert not set(SECRET_NAMES) & set(seen), set(SECRET_NAMES) & set(seen)
        text = json.dumps(seen)
        assert token not in text and runtime not in text and oidc not in text
    # nor in the initial environment of covbot (or of a shell above the command)
    assert len(install["ancestors"]) >= 3
    for pid, environ in install["ancestors"].items():
        assert token not in environ and runtime not in environ, f"pid {pid} shows the token"


# -- 3. report-only mode and the pull request's commands ------------------------------------------------

def test_report_only_mode_runs_no_command_from_the_pull_requests_settings(tmp_path):
    token, marker = _token(), tmp_path / "pwned"
    repo = make_project(tmp_path / "ws", {**BASE_FILES, ".covbot.yml": f"test-command: {FAST}\n"})
    pr = open_pull(repo, 23, {**PR_FILES, ".covbot.yml": f"""
        baseline-fallback: rerun
        test-command: "touch {marker}; {FAST}"
        install-command: "touch {marker}"
    """})
    repo.coverage_run_pytest()
    gh = _fake(pr, token)
    try:
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": token, "coverage-files": ".coverage"}, api_url=gh.url)
        take_back(repo.path)
        assert run.returncode in (0, 1), run.stderr
        assert not marker.exists(), "the pull request's command ran in the privileged job"
        merge_base = repo.git("merge-base", "main", "HEAD").strip()
        assert f"running base tests at {merge_base[:7]}: {FAST}" in run.stderr   # the base's own command
        body = _bot_comments(gh, 23)[0]["body"]
        assert "This pull request changes covbot" in body and "test-command" in body
        assert "takes effect once it is merged" in body
    finally:
        gh.stop()


# -- 4. the pull request's own gate -------------------------------------------------------------------

def test_a_pull_request_cannot_switch_off_its_own_gate(tmp_path):
    token = _token()
    repo = make_project(tmp_path / "ws", {**BASE_FILES, ".covbot.yml": """
        gate: [diff]
        thresholds:
          diff: 90
          min-lines: 1
    """})
    pr = open_pull(repo, 24, {**PR_FILES, ".covbot.yml": "gate: []\nthresholds:\n  diff: 10\n"})
    gh = _fake(pr, token)
    try:
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": token, "test-command": FAST, "baseline": "none"}, api_url=gh.url)
        take_back(repo.path)
        assert run.returncode == 1, run.stderr + run.stdout
        assert gh.statuses(REPO_NAME, pr.head_sha)[0]["state"] == "failure"
        report = json.loads((repo.path / ".covbot" / "report.json").read_text())
        assert report["settings"]["gate"] == ["diff"] and report["settings"]["diff_threshold"] == 90
        assert not report["verdict"]["passed"]
        body = _bot_comments(gh, 24)[0]["body"]
        line = next(w for w in report["warnings"] if "changes covbot" in w)
        assert "gate diff → none" in line and "thresholds.diff 90 → 10" in line
        assert "takes effect once it is merged" in line and "gate diff → none" in body
    finally:
        gh.stop()


# -- 5. links committed in the pull request ------------------------------------------------------------

def open_pull_with_links(repo, number: int, files: dict, links: dict[str, Path]) -> PullRequest:
    """:func:`open_pull`, the PR also committing ``links`` (path → target) as symbolic links."""
    repo.checkout("pr", new=True)
    repo.write(files)
    for rel, target in links.items():
        (repo.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo.path / rel).symlink_to(target)
    head = repo.commit(message="PR with links")
    base = repo.sha("main")
    repo.checkout(base)
    repo.git("merge", "--no-ff", "-q", "-m", f"Merge {head} into {base}", head)
    return PullRequest(repo, number, head, base, repo.sha())


def test_a_linked_output_folder_is_refused_with_a_summary(tmp_path):
    token, outside = _token(), tmp_path / "outside"
    outside.mkdir()
    repo = make_project(tmp_path / "ws")
    pr = open_pull_with_links(repo, 25, PR_FILES, {".covbot": outside})
    gh = _fake(pr, token)
    try:
        give_away(repo.path)
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"github-token": token, "test-command": FAST, "baseline": "none"}, api_url=gh.url)
        take_back(repo.path)
    finally:
        gh.stop()
    assert (repo.path / ".covbot").is_symlink()
    assert list(outside.iterdir()) == [], "covbot wrote through the link"
    assert run.returncode == 2, run.stderr
    assert "output folder: .covbot is a symbolic link" in run.stderr and "Traceback" not in run.stderr
    assert "covbot failed" in run.summary and ".covbot is a symbolic link" in run.summary


# -- 11. the job summary's limit is in bytes --------------------------------------------------------------

def test_the_summary_cap_counts_bytes_and_cuts_on_a_character_boundary(tmp_path):
    repo = make_project(tmp_path / "ws")
    repo.checkout("pr", new=True)
    a, b = "数" * 80, "据" * 80
    files = {f"src/{a}/{b}/{'覆' * 60}_{i:04d}.py": "def f():\n    return 1\n" for i in range(2400)}
    files["run_all.py"] = """
        import pathlib, runpy
        for p in sorted(pathlib.Path("src").rglob("*_*.py")):
            runpy.run_path(str(p))
    """
    repo.commit(files, "many files with long CJK names")
    repo.coverage("run", "run_all.py")
    run = run_action(tmp_path / "run", repo.path, "workflow_dispatch", {"ref": "refs/heads/pr"},
                     {"coverage-files": ".coverage", "baseline": "none"}, api_url="http://127.0.0.1:9")
    assert run.returncode in (0, 1), run.stderr
    data = (tmp_path / "run" / "step_summary").read_bytes()
    assert len(data) <= 1024 * 1024, f"{len(data):,} bytes: the runner refuses the whole summary"
    text = data.decode("utf-8")                              # strict: no character cut in two
    assert text.rstrip().endswith("(summary truncated at GitHub's 1 MiB limit; .covbot/report.json has everything)")
    assert len(text) < 1024 * 1024 // 2                      # a character count would have let it through
    assert "数" * 40 in text


# -- pull_request_target -------------------------------------------------------------------------------------

def test_pull_request_target_runs_no_command(tmp_path):
    token = _token()
    markers = [tmp_path / name for name in ("tests-ran", "install-ran", "base-ran")]
    repo = make_project(tmp_path / "ws", {**BASE_FILES,
                                          ".covbot.yml": f'test-command: "touch {markers[2]}; {FAST}"\n'})
    pr = open_pull(repo, 26, {**PR_FILES, "tests/test_broken.py": "def test_broken():\n    assert False\n"})
    gh = _fake(pr, token)
    try:
        give_away(repo.path)
        refused = run_action(tmp_path / "refused", repo.path, "pull_request_target", pr_event(pr),
                             {"github-token": token, "test-command": f"touch {markers[0]}; {FAST}",
                              "install-command": f"touch {markers[1]}"}, api_url=gh.url)
        assert refused.returncode == 2, refused.stderr
        assert "pull_request_target" in refused.stderr and "workflow_run" in refused.stderr
        assert "covbot failed" in refused.summary and _bot_comments(gh, 26) == []
        assert not any(m.exists() for m in markers)

        take_back(repo.path)
        repo.coverage_run_pytest()
        give_away(repo.path)
        reported = run_action(tmp_path / "reported", repo.path, "pull_request_target", pr_event(pr),
                              {"github-token": token, "coverage-files": ".coverage"},
                              api_url=gh.url)
        assert reported.returncode in (0, 1), reported.stderr
        assert not any(m.exists() for m in markers), "a command ran on pull_request_target"
        body = _bot_comments(gh, 26)[0]["body"]
        assert "No baseline" in body
    finally:
        gh.stop()
