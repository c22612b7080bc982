"""The python-version input: another Python through uv, or one clear error."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from support.action_support import PR_FILES, give_away, make_project, open_pull, pr_event, run_action
from support.fakegithub import FakeGitHub


def _other_python() -> tuple[str, str] | None:
    """(version, bin dir) of an installed CPython other than the running one."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if "shims" not in d]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        dirs += [str(p / "bin") for p in sorted(pyenv.iterdir())]
    for version in ("3.12", "3.13", "3.10"):
        if version == here:
            continue
        for d in dirs:
            if (Path(d) / f"python{version}").is_file():
                return version, d
    return None


def test_an_unavailable_python_version_is_one_clear_error_and_exit_2(tmp_path):
    if shutil.which("uv") is None:
        pytest.skip("uv is not installed here (the image has it)")
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 3, PR_FILES)
    give_away(repo.path)
    with FakeGitHub() as gh:
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"python-version": "3.4", "github-token": "t"}, api_url=gh.url,
                         extra_env={"UV_OFFLINE": "1"})
    assert run.returncode == 2
    assert "python-version 3.4" in run.stderr and "report-only mode" in run.stderr
    assert "Traceback" not in run.stderr
    assert "covbot failed" in run.summary


def test_the_tests_run_with_the_requested_python(tmp_path):
    found = _other_python()
    if shutil.which("uv") is None or found is None:
        pytest.skip("needs uv and a second CPython (3.10, 3.12 or 3.13) on this machine")
    version, bindir = found
    repo = make_project(tmp_path / "ws")
    pr = open_pull(repo, 4, {**PR_FILES, "tests/test_version.py": """
        import sys
        from pathlib import Path

        def test_record_version():
            Path("seen-version.txt").write_text("%d.%d" % sys.version_info[:2])
    """})
    give_away(repo.path)
    with FakeGitHub() as gh:
        run = run_action(tmp_path / "run", repo.path, "pull_request", pr_event(pr),
                         {"python-version": version, "baseline": "none", "test-command": "python -m pytest -p no:cacheprovider"},
                         api_url=gh.url,
                         extra_env={"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"})
    if run.returncode == 2 and re.search(r"`uv (venv|pip install)` failed: .*(dns|connect|offline|network)",
                                         run.stderr, re.I):
        pytest.skip(f"the package registry is unreachable from here: {run.stderr.strip().splitlines()[0]}")
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert (repo.path / "seen-version.txt").read_text() == version
    report = json.loads((repo.path / ".covbot" / "report.json").read_text())
    assert report["totals"]["statements"] > 0 and report["tests"]["passed"] >= 3
