"""``covbot report`` on checkouts whose links and settings a pull request chose: the real
CLI (``python -m bot``) as a subprocess on real git repositories."""

from __future__ import annotations

import json
import os
from pathlib import Path

from support.action_support import BASE_FILES, PR_FILES
from support.repo_factory import Repo, clean_env

FAST = "python -m pytest -p no:benchmark -p no:hypothesispytest -p no:xdist"


def _pr_with_links(tmp_path: Path, files: dict, links: dict[str, Path], base_files: dict | None = None) -> Repo:
    """A project on main and a PR branch (checked out) that commits ``links`` (path → target)."""
    repo = Repo.create(tmp_path / "proj", base_files or BASE_FILES)
    repo.checkout("pr", new=True)
    repo.write(files)
    for rel, target in links.items():
        (repo.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo.path / rel).symlink_to(target)
    repo.commit(message="PR")
    return repo


def test_linked_output_files_are_replaced_not_written_through(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = {name: f"precious {name}\n" for name in ("report.json", "baseline.json", "hard.txt")}
    for name, text in precious.items():
        (outside / name).write_text(text)
    # the PR commits links where covbot writes, and its test makes a hard link at run time
    hard_link_test = f"""
        import os

        def test_links_a_file():
            os.makedirs(".covbot", exist_ok=True)
            os.link({str(outside / "hard.txt")!r}, ".covbot/comment.md")
    """
    repo = _pr_with_links(tmp_path, {**PR_FILES, "tests/test_link.py": hard_link_test},
                          {".covbot/report.json": outside / "report.json",
                           ".covbot/baseline.json": outside / "baseline.json"})
    proc = repo.covbot("report", "--baseline", "none", "--test-command", FAST)
    assert proc.returncode in (0, 1), proc.stderr
    for name, text in precious.items():
        assert (outside / name).read_text() == text, f"covbot wrote through the link to {name}"
    out = repo.path / ".covbot"
    for name in ("report.json", "comment.md", "baseline.json"):
        assert (out / name).is_file() and not (out / name).is_symlink()
    assert json.loads((out / "report.json").read_text())["head"]["sha"] == repo.sha()
    assert (out / "comment.md").read_text() == proc.stdout
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


SECRET_FILE = "gate: [hunter2-secret-value]\nthresholds:\n  diff: hunter2-other-value\n"


def test_a_linked_settings_file_is_refused_without_its_contents(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yml").write_text(SECRET_FILE)
    repo = _pr_with_links(tmp_path, PR_FILES, {".covbot.yml": outside / "secret.yml", "ci": outside})
    for args in ((), ("--config", "ci/secret.yml")):
        proc = repo.covbot("report", "--baseline", "none", "--test-command", FAST, *args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "hunter2" not in proc.stdout + proc.stderr
        assert "is a symbolic link" in proc.stderr and "Traceback" not in proc.stderr
        assert (".covbot.yml" if not args else "ci/secret.yml") in proc.stderr
    # On a pull request the settings are the base's: the PR's linked file is refused in the comment
    env = clean_env(GITHUB_ACTIONS="true", GITHUB_EVENT_NAME="pull_request", GITHUB_BASE_REF="main")
    proc = repo.covbot("report", "--baseline", "none", "--test-command", FAST, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    assert "hunter2" not in proc.stdout + proc.stderr
    assert "settings file is not used" in proc.stdout and "symbolic link" in proc.stdout


GATED_BASE = {**BASE_FILES, ".covbot.yml": "gate: [diff]\nthresholds:\n  diff: 90\n  min-lines: 1\n"}


def test_a_developers_own_run_uses_the_checkouts_settings_and_a_pull_requests_the_bases(tmp_path):
    repo = _pr_with_links(tmp_path, {**PR_FILES, ".covbot.yml": "gate: []\n"}, {}, base_files=GATED_BASE)
    own = repo.covbot("report", "--baseline", "none", "--test-command", FAST)
    assert own.returncode == 0, own.stderr            # the developer switched the gate off for their own run
    assert "changes covbot" not in own.stdout
    for extra, env in (((), clean_env(GITHUB_ACTIONS="true", GITHUB_EVENT_NAME="pull_request",
                                      GITHUB_BASE_REF="main")),
                       (("--settings", "base"), None)):
        proc = repo.covbot("report", "--baseline", "none", "--test-command", FAST, *extra, env=env)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        report = json.loads((repo.path / ".covbot" / "report.json").read_text())
        assert report["settings"]["gate"] == ["diff"] and report["verdict"]["passed"] is False
        assert "gate diff → none" in proc.stdout and "takes effect once it is merged" in proc.stdout
    assert os.path.isfile(repo.path / ".covbot.yml")
