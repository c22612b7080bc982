"""covbot running the tests itself: plugin environments, pytest-cov projects, broken commands."""

from __future__ import annotations

import importlib.util

import pytest

from support.repo_factory import Repo, clean_env
from support.small_pr import make_pr


def _report(repo: Repo, *args: str, env=None):
    return repo.covbot("report", "--base", "main", "--baseline", "none", "--format", "json",
                       "--output-dir", str(repo.path / ".out"), *args, env=env)


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    repo = make_pr(tmp_path_factory.mktemp("collect") / "ref")
    repo.coverage_run_pytest()
    return repo.coverage_json()["totals"]


def test_test_environment_without_pytest_cov(tmp_path, expected):
    """No pytest-cov plugin in the test run (here: plugin autoload off): covbot must not
    pass pytest-cov's --no-cov, which pytest would refuse as an unknown option."""
    import json

    repo = make_pr(tmp_path / "proj")
    proc = _report(repo, env=clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))
    assert proc.returncode in (0, 1), proc.stderr
    assert "unrecognized arguments" not in proc.stderr
    totals = json.loads(proc.stdout)["totals"]
    assert totals["statements"] == expected["num_statements"]
    assert totals["percent_covered"] == round(expected["percent_covered"], 2)


@pytest.mark.skipif(importlib.util.find_spec("pytest_cov") is None, reason="pytest-cov not installed")
def test_project_that_turns_on_pytest_cov(tmp_path, expected):
    """addopts = --cov: covbot turns pytest-cov off and measures alone, same numbers."""
    import json

    repo = make_pr(tmp_path / "proj")
    pyproject = (repo.path / "pyproject.toml").read_text().replace(
        'pythonpath = ["src"]', 'pythonpath = ["src"]\naddopts = "--cov=src --cov-branch"')
    repo.commit({"pyproject.toml": pyproject}, "pytest-cov on")
    proc = _report(repo)
    assert proc.returncode in (0, 1), proc.stderr
    totals = json.loads(proc.stdout)["totals"]
    assert totals["statements"] == expected["num_statements"]
    assert totals["percent_covered"] == round(expected["percent_covered"], 2)


def test_pytest_usage_error_is_an_input_error_not_zero_coverage(tmp_path):
    repo = make_pr(tmp_path / "proj")
    proc = _report(repo, "--test-command", "pytest --no-such-option")
    assert proc.returncode == 2, proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("covbot: error:")]
    assert len(errors) == 1 and "before any test ran" in errors[0] and "exit status 4" in errors[0]


def test_failed_base_rerun_removes_its_worktree_and_keeps_the_head_report(tmp_path):
    import json

    from support.repo_factory import SAMPLE_PYPROJECT
    from support.small_pr import BASE, PR_MOD

    broken = SAMPLE_PYPROJECT.replace('pythonpath = ["src"]', 'pythonpath = ["src"]\naddopts = "--no-such-flag"')
    repo = Repo.create(tmp_path / "proj", {**BASE, "pyproject.toml": broken})
    repo.checkout("pr", new=True)
    repo.commit({"pyproject.toml": SAMPLE_PYPROJECT, "src/pkg/mod.py": PR_MOD}, "fix the config")
    proc = _report(repo, "--baseline", "rerun")
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("covbot: error:")]
    assert len(errors) == 1 and "before any test ran" in errors[0]
    report = json.loads(proc.stdout)
    assert report["totals"]["statements"] > 0 and report["base_totals"] is None
    assert len(repo.git("worktree", "list", "--porcelain").split("worktree ")) == 2   # only the checkout
