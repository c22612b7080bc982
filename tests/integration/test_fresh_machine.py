"""The suite and covbot on a machine whose PATH offers a python or pytest without coverage.

The interpreter under test is ``sys.executable``; nothing may depend on what the
machine's ``PATH`` happens to hold (conftest.py puts the interpreter's ``bin`` first).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

from support.repo_factory import BIN, Repo, SAMPLE_PYPROJECT, clean_env, dedent

TESTS = Path(__file__).resolve().parents[1]
STUBBED = ("python", "python3", "pytest", "coverage", "diff-cover", "covbot", "pip")

#: Tests that start sample projects' test runs: covbot's default `pytest`, `coverage run`,
#: diff-cover, a base rerun in a worktree, the benchmark's workload builder (node ids
#: relative to tests/).
ESCAPE_PRONE = [
    "integration/test_engine_collect.py::test_test_environment_without_pytest_cov",
    "integration/test_engine_accuracy.py::test_rerun_baseline_deltas_renames_and_indirect_changes",
    "integration/test_demo.py::test_diff_coverage_matches_diff_cover",
    "integration/test_fresh_machine.py::test_a_pytest_without_coverage_is_named_in_the_error",
]


def ambient_stubs(where: Path) -> Path:
    """A folder of programs named like Python's that fail loudly (exit 99) when run."""
    where.mkdir(parents=True, exist_ok=True)
    for name in STUBBED:
        stub = where / name
        stub.write_text(f'#!/bin/sh\necho "ambient PATH: {name} was started: $0 $*" >&2\nexit 99\n')
        stub.chmod(0o755)
    return where


def path_without_bin(first: Path) -> str:
    rest = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != str(BIN)]
    return os.pathsep.join([str(first), *rest])


def test_the_stubs_fail_when_a_program_is_taken_from_path(tmp_path):
    """The check below can fail: with the stubs first, `python` on PATH exits 99."""
    stubs = ambient_stubs(tmp_path / "ambient")
    env = dict(os.environ, PATH=path_without_bin(stubs))
    for name in ("python", "pytest", "coverage"):
        proc = subprocess.run(["sh", "-c", f"{name} --version"], env=env, capture_output=True, text=True)
        assert proc.returncode == 99 and "ambient PATH" in proc.stderr


def test_tests_that_start_projects_never_take_python_or_pytest_from_path(tmp_path):
    """The tests most likely to escape the interpreter under test, run by a pytest whose
    PATH has failing stubs first and not the interpreter's bin: they pass all the same."""
    stubs = ambient_stubs(tmp_path / "ambient")
    env = clean_env(PATH=path_without_bin(stubs))
    ids = [str(TESTS / node) for node in ESCAPE_PRONE if "test_fresh_machine.py::test_tests_that" not in node]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", *ids], cwd=TESTS.parent, env=env,
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "ambient PATH" not in out
    assert f"{len(ids)} passed" in out


def _pytest_without_coverage(dest: Path) -> Path:
    """A virtual environment with pytest and its dependencies but no coverage package:
    the kind of pytest a machine's PATH may offer."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    site = next((dest / "lib").glob("python3*/site-packages"))
    for dist_name in ("pytest", "pluggy", "iniconfig", "packaging", "pygments"):
        dist = importlib.metadata.distribution(dist_name)
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in sorted(tops):
            src = Path(dist.locate_file(top))
            if src.exists() and not (site / top).exists() and top != "__pycache__":
                (site / top).symlink_to(src)
    pytest_script = dest / "bin" / "pytest"
    pytest_script.write_text(f"#!{dest / 'bin' / 'python'}\nimport sys, pytest\nsys.exit(pytest.main())\n")
    pytest_script.chmod(0o755)
    return dest


def test_a_pytest_without_coverage_is_named_in_the_error(tmp_path):
    """covbot runs the `pytest` the PATH it was given finds; when that interpreter has no
    coverage, the error names the program, its interpreter and the install command."""
    bare = _pytest_without_coverage(tmp_path / "bare")
    repo = Repo.create(tmp_path / "proj", {
        "pyproject.toml": SAMPLE_PYPROJECT,
        "src/pkg/__init__.py": "",
        "src/pkg/calc.py": "def add(a, b):\n    return a + b\n",
        "tests/test_calc.py": dedent("""
            from pkg.calc import add

            def test_add():
                assert add(1, 2) == 3
            """),
    })
    env = clean_env(PATH=f"{bare / 'bin'}{os.pathsep}{clean_env()['PATH']}", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    proc = repo.covbot("report", "--base", "main", "--baseline", "none", "--format", "json",
                       "--output-dir", str(tmp_path / "out"), env=env)
    assert proc.returncode == 2, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("covbot: error:")]
    assert len(errors) == 1, proc.stderr
    assert "produced no coverage data" in errors[0], proc.stderr
    assert f"{bare / 'bin' / 'pytest'}, Python {bare / 'bin' / 'python'}" in errors[0]
    assert f"{bare / 'bin' / 'python'} -m pip install coverage" in proc.stderr
    assert sys.executable in proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "produced no coverage data" in report["errors"][0]["message"]
