"""The ``python-version`` input: run the project's install and test commands on another Python.

The action's image carries one Python (the one whose coverage tracer is fastest). For a
project that needs another X.Y, uv provides it: an interpreter already on the machine
(``uv python find``) or one of uv's managed Pythons (``uv python install X.Y``). covbot
makes a virtual environment with it, pip seeded (an install command that says
``pip install -e .[test]`` then installs into it, not into covbot's environment),
installs coverage.py (covbot's start-up hook imports it in every test process) and
pytest, and puts the environment first on ``PATH`` for the install and test commands.
covbot itself keeps running on the image's Python and reads the data files the other
Python wrote (coverage.py's data format is the same across 7.x).

Where that cannot be done (no uv, an unknown version, no way to download a Python) the
run stops with one message saying why and pointing at report-only mode: run the tests
with ``actions/setup-python`` in earlier steps and pass their coverage files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.model.errors import UsageError

#: The oldest Python covbot's test-run hooks (bot/runs/support) and coverage.py 7.6+ run on.
MIN_VERSION = (3, 9)

_VERSION = re.compile(r"^(?:python|cpython|py)?-?(3)\.(\d{1,2})(?:\.(\d{1,3}))?$", re.IGNORECASE)
_REPORT_ONLY = ("or use report-only mode: run the tests with actions/setup-python in earlier steps "
                "and pass their coverage files (coverage-files, and junit-files)")
_UV_TIMEOUT = 900.0


@dataclass(frozen=True)
class PythonEnv:
    """A virtual environment on the requested Python, and the variables that select it."""

    requested: str
    version: str            # the interpreter's own X.Y.Z
    venv: Path
    python: Path
    env: dict[str, str]     # changes to apply to the install and test commands' environment


def parse_version(text: str) -> tuple[int, int, int | None]:
    """``"3.12"`` → (3, 12, None), ``"3.12.4"`` → (3, 12, 4); anything else is a usage error."""
    m = _VERSION.match(text.strip())
    if not m:
        raise UsageError(f"input python-version {text!r} is not a Python version",
                         "give X.Y (e.g. 3.12) or X.Y.Z (e.g. 3.12.4)")
    major, minor = int(m.group(1)), int(m.group(2))
    patch = int(m.group(3)) if m.group(3) is not None else None
    if (major, minor) < MIN_VERSION:
        raise UsageError(f"input python-version {text}: covbot runs tests on Python "
                         f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer (coverage.py 7.6 needs it)",
                         _REPORT_ONLY)
    return major, minor, patch


def _spec(major: int, minor: int, patch: int | None) -> str:
    return f"{major}.{minor}" if patch is None else f"{major}.{minor}.{patch}"


def _matches(version_info: tuple[int, ...], major: int, minor: int, patch: int | None) -> bool:
    return tuple(version_info[:2]) == (major, minor) and (patch is None or version_info[2] == patch)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lower().startswith(("error", "cause"))]
    return (errors or lines or ["(no output)"])[-1]


def _run(cmd: list[str], env: dict[str, str], timeout: float = _UV_TIMEOUT) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, stdout=f"error: timed out after {timeout:g} s")
    except OSError as exc:
        return subprocess.CompletedProcess(cmd, 127, stdout=f"error: {exc}")


def find_uv(env: dict[str, str]) -> str | None:
    """uv on the command's PATH, or next to the running Python (a virtual environment's bin)."""
    found = shutil.which("uv", path=env.get("PATH"))
    if found:
        return found
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def find_or_install(spec: str, *, uv: str, env: dict[str, str], log=print) -> str:
    """Path of an interpreter for ``spec``: one already here, else uv's managed download."""
    quiet = dict(env, UV_PYTHON_DOWNLOADS="never")
    found = _run([uv, "python", "find", "--no-project", spec], quiet, timeout=120)
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip().splitlines()[-1]
    log(f"covbot: python-version {spec}: installing it with `uv python install {spec}`")
    installed = _run([uv, "python", "install", spec], env)
    if installed.returncode != 0:
        detail = _last_line(installed.stdout)
        if "no download found" in installed.stdout.lower() or "no download" in detail.lower():
            hint = f"`uv python list --all-versions` shows what uv can install; {_REPORT_ONLY}"
        else:
            hint = ("uv downloads Pythons from GitHub releases (python-build-standalone): the runner "
                    "must reach them, or set UV_PYTHON_INSTALL_MIRROR to a mirror; " + _REPORT_ONLY)
        raise UsageError(f"input python-version {spec}: `uv python install {spec}` failed: {detail}", hint)
    found = _run([uv, "python", "find", "--no-project", spec], quiet, timeout=120)
    if found.returncode != 0 or not found.stdout.strip():
        raise UsageError(f"input python-version {spec}: uv installed it but cannot find it: "
                         f"{_last_line(found.stdout)}", _REPORT_ONLY)
    return found.stdout.strip().splitlines()[-1]


def ensure_python(version: str | None, env: dict[str, str] | None = None, *,
                  venv_dir: str | os.PathLike | None = None, log=print) -> dict[str, str]:
    """Environment changes that make ``python``, ``pip`` and ``pytest`` the requested version.

    Empty when no version is asked for or when it is the running Python's. Raises
    :class:`UsageError` with a hint where it cannot be done.
    """
    prepared = prepare_python(version, env, venv_dir=venv_dir, log=log)
    return dict(prepared.env) if prepared else {}


def prepare_python(version: str | None, env: dict[str, str] | None = None, *,
                   venv_dir: str | os.PathLike | None = None, log=print) -> PythonEnv | None:
    if not version or not version.strip():
        return None
    version = version.strip()
    major, minor, patch = parse_version(version)
    if _matches(sys.version_info, major, minor, patch):
        return None
    spec = _spec(major, minor, patch)
    env = dict(os.environ if env is None else env)
    uv = find_uv(env)
    if not uv:
        here = ".".join(map(str, sys.version_info[:3]))
        raise UsageError(f"input python-version {spec}: this environment has Python {here} and no `uv` "
                         "to install another", "install uv (pip install uv), " + _REPORT_ONLY)
    interpreter = find_or_install(spec, uv=uv, env=env, log=log)

    if venv_dir is None:
        parent = env.get("RUNNER_TEMP") or None
        if parent and not Path(parent).is_dir():
            parent = None
        venv_dir = Path(tempfile.mkdtemp(prefix=f"covbot-python-{spec}-", dir=parent)) / "venv"
    venv = Path(venv_dir)
    made = _run([uv, "venv", "--seed", "--no-project", "--python", interpreter, str(venv)], env)
    if made.returncode != 0:
        raise UsageError(f"input python-version {spec}: `uv venv` with {interpreter} failed: "
                         f"{_last_line(made.stdout)}", _REPORT_ONLY)
    python = venv / "bin" / "python"
    deps = _run([uv, "pip", "install", "--python", str(python), "coverage>=7.6", "pytest"], env)
    if deps.returncode != 0:
        raise UsageError(f"input python-version {spec}: installing coverage and pytest for Python {spec} "
                         f"failed: {_last_line(deps.stdout)}",
                         "the runner must reach the package index (pip's and uv's settings apply); "
                         + _REPORT_ONLY)
    probe = _run([str(python), "-c", "import sys, coverage; print('%d.%d.%d' % sys.version_info[:3])"], env,
                 timeout=120)
    got = probe.stdout.strip().splitlines()[-1] if probe.returncode == 0 and probe.stdout.strip() else ""
    if not got or not _matches(tuple(int(x) for x in got.split(".")), major, minor, patch):
        raise UsageError(f"input python-version {spec}: the environment at {venv} runs Python "
                         f"{got or 'nothing'} (expected {spec}): {_last_line(probe.stdout)}", _REPORT_ONLY)
    log(f"covbot: python-version {spec}: tests run on Python {got} ({venv})")
    changes = {
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "UV_PYTHON": str(python),
        "COVBOT_TEST_PYTHON": str(python),
    }
    return PythonEnv(requested=version, version=got, venv=venv, python=python, env=changes)
