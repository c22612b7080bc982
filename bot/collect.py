"""Collect: run the project's test suite under coverage.py, or find what earlier steps made.

The test command runs in a shell, in its own process group (a timeout kills the whole
group), with covbot's ``sitecustomize`` first on ``PYTHONPATH`` so every Python process
it starts is measured with branch coverage into covbot's own data files, and with
``PYTEST_ADDOPTS`` adding a JUnit file, covbot's per-attempt results plugin and
``--continue-on-collection-errors`` (one broken test module must not hide the others).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import TestRunError

SUPPORT_DIR = Path(__file__).parent / "support"
_COVERAGE_CONFIGS = (".coveragerc", "setup.cfg", "tox.ini", "pyproject.toml")
_MARKERS = {".coveragerc": None, "setup.cfg": "[coverage:", "tox.ini": "[coverage:",
            "pyproject.toml": "[tool.coverage"}


@dataclass
class TestRun:
    command: str
    returncode: int
    duration: float
    data_files: list[Path] = field(default_factory=list)
    junit_files: list[Path] = field(default_factory=list)
    results_file: Path | None = None
    workdir: Path | None = None


def coverage_config_file(root: Path) -> str | None:
    """The project's coverage configuration file, found like coverage.py finds it."""
    for name in _COVERAGE_CONFIGS:
        path = root / name
        if not path.is_file():
            continue
        marker = _MARKERS[name]
        if marker is None:
            return str(path)
        try:
            if marker in path.read_text(encoding="utf-8", errors="replace"):
                return str(path)
        except OSError:
            continue
    return None


def run_tests(command: str, *, root: Path, out_dir: Path, timeout: float | None = None,
              pythonpath_first: list[Path] | None = None, extra_env: dict[str, str] | None = None,
              pytest_args: list[str] | None = None, measure: bool = True,
              label: str = "tests") -> TestRun:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / ".coverage"
    junit = out_dir / "junit.xml"
    results = out_dir / "results.jsonl"
    for stale in list(out_dir.glob(".coverage*")) + [junit, results]:
        stale.unlink(missing_ok=True)

    env = dict(os.environ)
    path_parts = [str(SUPPORT_DIR)] + [str(p) for p in (pythonpath_first or [])]
    if env.get("PYTHONPATH"):
        path_parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path_parts)
    if measure:
        env["COVBOT_COVERAGE_DATA"] = str(data)
        rc = coverage_config_file(root)
        if rc:
            env["COVBOT_COVERAGE_RC"] = rc
        else:
            env.pop("COVBOT_COVERAGE_RC", None)
    else:
        env.pop("COVBOT_COVERAGE_DATA", None)
    env["COVBOT_RESULTS"] = str(results)
    addopts = ["-p", "covbot_pytest_plugin", f"--junitxml={junit}", "-o", "junit_family=xunit2",
               "--continue-on-collection-errors"]
    if importlib.util.find_spec("pytest_cov") is not None:
        addopts.append("--no-cov")   # covbot measures; a second tracer would fight it
    addopts += pytest_args or []
    env["PYTEST_ADDOPTS"] = " ".join(shlex.quote(a) for a in addopts) + (
        " " + env["PYTEST_ADDOPTS"] if env.get("PYTEST_ADDOPTS") else "")
    env.update(extra_env or {})

    print(f"covbot: running {label}: {command}", file=sys.stderr, flush=True)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(command, shell=True, cwd=root, env=env, stdin=subprocess.DEVNULL,
                                stdout=sys.stderr.fileno(), stderr=sys.stderr.fileno(),
                                start_new_session=True)
    except OSError as exc:
        raise TestRunError(f"could not start the test command {command!r}: {exc}") from None
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise TestRunError(
            f"the test command {command!r} did not finish within {timeout:g} s; its process group was killed",
            "raise the `timeout` setting, or find the hanging test (pytest-timeout helps)") from None
    except KeyboardInterrupt:
        _kill_group(proc)
        raise
    duration = time.monotonic() - start
    if returncode == 127:
        raise TestRunError(f"the test command {command!r} was not found (exit status 127)",
                           "install the project's test dependencies (`install-command`) or fix `test-command`")
    if returncode == 126:
        raise TestRunError(f"the test command {command!r} is not executable (exit status 126)")
    if returncode < 0:
        raise TestRunError(f"the test command {command!r} was killed by signal {-returncode}",
                           "the test run crashed or ran out of memory")
    run = TestRun(command=command, returncode=returncode, duration=duration, workdir=out_dir)
    run.data_files = sorted(p for p in out_dir.glob(".coverage.*") if p.is_file())
    if junit.is_file() and junit.stat().st_size > 0:
        run.junit_files = [junit]
    if results.is_file():
        run.results_file = results
    if returncode == 5 and not run.junit_files:
        raise TestRunError(f"the test command {command!r} collected no tests (pytest exit status 5)",
                           "check `testpaths` / the test command's arguments")
    if measure and not run.data_files:
        if returncode in (2, 3, 4) or (returncode != 0 and not run.junit_files):
            raise TestRunError(
                f"the test command {command!r} failed (exit status {returncode}) before any test ran",
                "run it locally to see the error; it must be a pytest run (or start one)")
        raise TestRunError(
            f"the test command {command!r} produced no coverage data",
            "covbot measures Python processes it starts; is `coverage` installed in the test environment?")
    return run


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    except ProcessLookupError:
        pass


def scratch_dir(prefix: str = "covbot-run-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
