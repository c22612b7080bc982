"""The python-version input, with the real uv: another Python found on the machine, a venv
made with it, and a real pytest run under covbot's coverage hooks on that Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from bot.runs import python as pyversion
from bot.runs.collect import run_tests
from bot.model.errors import UsageError
from support.repo_factory import clean_env

RUNNING = sys.version_info[:2]


def _other_python() -> Path | None:
    """A CPython ≥ 3.9 on this machine whose X.Y differs from the running one (pyenv's)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not root.is_dir():
        return None
    for d in sorted(root.iterdir(), reverse=True):
        parts = d.name.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            continue
        ver = (int(parts[0]), int(parts[1]))
        if ver != RUNNING and ver >= pyversion.MIN_VERSION and (d / "bin" / "python3").is_file():
            return d / "bin"
    return None


def _env_without_downloads(extra_path: Path | None = None) -> dict[str, str]:
    env = clean_env(UV_PYTHON_DOWNLOADS="never")
    if extra_path:
        env["PATH"] = f"{extra_path}{os.pathsep}{env['PATH']}"
    return env


@pytest.mark.parametrize("text", ["three", "3", "3.x", "4.0.0.1", "latest"])
def test_not_a_version_is_a_usage_error(text):
    with pytest.raises(UsageError) as info:
        pyversion.ensure_python(text, clean_env())
    assert f"python-version {text!r} is not a Python version" in info.value.message
    assert "3.12" in info.value.hint


def test_too_old_a_python_points_to_report_only_mode():
    with pytest.raises(UsageError) as info:
        pyversion.ensure_python("3.8", clean_env())
    assert "3.9 or newer" in info.value.message
    assert "coverage-files" in info.value.hint


def test_the_running_python_needs_nothing():
    here = f"{RUNNING[0]}.{RUNNING[1]}"
    assert pyversion.ensure_python(here, clean_env()) == {}
    assert pyversion.ensure_python(f"{here}.{sys.version_info[2]}", clean_env()) == {}
    assert pyversion.ensure_python("", clean_env()) == {}
    assert pyversion.ensure_python(None, clean_env()) == {}


def test_an_unknown_version_says_what_uv_can_install(tmp_path):
    if pyversion.find_uv(clean_env()) is None:
        pytest.fail("uv is a test dependency (pyproject's test extra)")
    with pytest.raises(UsageError) as info:
        pyversion.ensure_python("3.99", clean_env(), venv_dir=tmp_path / "venv")
    assert "`uv python install 3.99` failed" in info.value.message
    assert "No download found" in info.value.message
    assert "uv python list" in info.value.hint and "coverage-files" in info.value.hint
    assert not (tmp_path / "venv").exists()


def test_without_uv_the_error_says_so(tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(sys, "executable", str(empty / "python"))   # nothing beside it either
    env = dict(clean_env(), PATH=str(empty))
    with pytest.raises(UsageError) as info:
        pyversion.ensure_python("3.99" if RUNNING != (3, 99) else "3.98", env)
    assert "no `uv`" in info.value.message and "coverage-files" in info.value.hint


SAMPLE_TEST = '''
import json, os, sys

from calc import double


def test_double():
    with open(os.environ["VERSION_OUT"], "w") as fh:
        json.dump(list(sys.version_info[:3]), fh)
    assert double(2) == 4
'''


def test_tests_run_on_the_requested_python_under_covbots_coverage(tmp_path):
    other = _other_python()
    if other is None:
        pytest.skip("no second CPython (>= 3.9) under ~/.pyenv/versions on this machine")
    if pyversion.find_uv(clean_env()) is None:
        pytest.fail("uv is a test dependency (pyproject's test extra)")
    probe = subprocess.run([str(other / "python3"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           stdout=subprocess.PIPE, text=True, check=True)
    want = probe.stdout.strip()

    env = _env_without_downloads(other)             # found on PATH, as setup-python leaves it
    changes = pyversion.ensure_python(want, env, venv_dir=tmp_path / "venv", log=lambda *_: None)
    assert changes["VIRTUAL_ENV"] == str(tmp_path / "venv")
    assert changes["PATH"].split(os.pathsep)[0] == str(tmp_path / "venv" / "bin")
    run_env = dict(env, **changes)

    # pip and python on PATH are the new environment's: an install command lands there.
    pip = subprocess.run("pip --version && python -c 'import sys; print(sys.prefix)'", shell=True,
                         env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert pip.returncode == 0, pip.stdout
    assert f"(python {want})" in pip.stdout
    assert pip.stdout.strip().splitlines()[-1] == str(tmp_path / "venv")

    # A real pytest run through covbot's collector, on that Python.
    proj = tmp_path / "proj"
    (proj / "tests").mkdir(parents=True)
    (proj / "calc.py").write_text("def double(x):\n    if x:\n        return 2 * x\n    return 0\n")
    (proj / "tests" / "test_calc.py").write_text(SAMPLE_TEST)
    (proj / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n'
                                         '[tool.coverage.run]\nsource = ["."]\n')
    out = tmp_path / "out"
    version_out = tmp_path / "version.json"
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(run_env, VERSION_OUT=str(version_out))
        run = run_tests("pytest -q -p no:cacheprovider", root=proj, out_dir=out, timeout=300)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert run.returncode == 0
    assert ".".join(map(str, json.loads(version_out.read_text())[:2])) == want
    data = coverage.CoverageData(basename=str(run.data_files[0]))
    data.read()
    calc = next(f for f in data.measured_files() if Path(f).name == "calc.py")
    assert sorted(data.lines(calc)) == [1, 2, 3]                # line 4 never ran
    assert data.has_arcs()                                       # branch coverage, as covbot asks
