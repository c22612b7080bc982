"""Collect: run the project's test suite under coverage.py, or find what earlier steps made.

The test command runs in a shell, in its own process group (a timeout kills the whole
group), with covbot's ``sitecustomize`` first on ``PYTHONPATH`` so every Python process
it starts is measured with branch coverage into covbot's own data files, and with
``PYTEST_ADDOPTS`` adding a JUnit file, covbot's per-attempt results plugin and
``--continue-on-collection-errors`` (one broken test module must not hide the others).
A command that sets ``PYTHONPATH`` or ``PYTEST_ADDOPTS`` itself keeps covbot's part in
front of its own (:mod:`bot.runs.command_vars`). A command that turns pytest-cov on
(``--cov`` in it, in PYTEST_ADDOPTS or in the pytest configuration) measures itself:
covbot's tracer stays off, ``--cov-branch`` is added, and covbot reads the data file
pytest-cov writes (the reports the command asks for are written as usual).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.model.errors import TestRunError
from bot.runs.command_vars import keep_hooks
from bot.runs.joblog import JobLog

SUPPORT_DIR = Path(__file__).parent / "support"
_COVERAGE_CONFIGS = (".coveragerc", "setup.cfg", "tox.ini", "pyproject.toml")
_MARKERS = {".coveragerc": None, "setup.cfg": "[coverage:", "tox.ini": "[coverage:",
            "pyproject.toml": "[tool.coverage"}
#: Variables that hold covbot's token or the runner's own credentials: never in the
#: environment of a command covbot runs (the project's tests, install command, reruns).
SECRET_VARIABLES = frozenset({
    "GITHUB_TOKEN", "COVBOT_GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN", "ACTIONS_RUNTIME_URL", "ACTIONS_RESULTS_URL", "ACTIONS_CACHE_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL",
})
LOCAL = JobLog(fenced=False)


@dataclass
class TestRun:
    """What one run of the test command left behind: status, time, data and result files."""

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


def child_environment(env=None) -> dict[str, str]:
    """``env`` (default ``os.environ``) without :data:`SECRET_VARIABLES`."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k not in SECRET_VARIABLES}


def run_tests(command: str, *, root: Path, out_dir: Path, timeout: float | None = None,
              pythonpath_first: list[Path] | None = None, extra_env: dict[str, str] | None = None,
              pytest_args: list[str] | None = None, measure: bool = True,
              contexts: list[Path] | None = None, label: str = "tests", log: JobLog = LOCAL) -> TestRun:
    """Run ``command`` in a shell at ``root``, measured into ``out_dir`` (with ``contexts``,
    the files whose lines each test runs are recorded under its node id); raises TestRunError (with what a crashed or
    killed run still wrote) when it did not give a report. Its output goes where ``log``
    says (fenced from the runner in the Action)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    junit, results = out_dir / "junit.xml", out_dir / "results.jsonl"
    for stale in list(out_dir.glob(".coverage*")) + [junit, results]:
        stale.unlink(missing_ok=True)
    if contexts:
        # NUL-separated: a file name may hold any other character
        (out_dir / "context-files").write_bytes(b"\0".join(os.fsencode(p) for p in contexts))
    env = command_env(command, root=root, data=out_dir / ".coverage", junit=junit, results=results,
                   pythonpath_first=pythonpath_first, pytest_args=pytest_args, measure=measure,
                   contexts=contexts)
    env.update(extra_env or {})
    # A command that uses pytest-cov measures itself: covbot reads the data file it writes.
    cov_data = pytest_cov_data_file(root, env) if measure and "COVBOT_COVERAGE_DATA" not in env else None

    log.message(f"covbot: running {label}: {command}")
    start, started = time.monotonic(), time.time()
    with log.child_output() as output:
        returncode = _wait(keep_hooks(command), root=root, env=env, output=output, timeout=timeout,
                           partial=lambda: _found(TestRun(command, -9, time.monotonic() - start, workdir=out_dir),
                                                  junit, results, cov_data=cov_data, since=started))
    run = _found(TestRun(command=command, returncode=returncode, duration=time.monotonic() - start,
                         workdir=out_dir), junit, results, cov_data=cov_data, since=started)
    _check_exit(run, measure=measure, search_path=env.get("PATH", ""), cov_data=cov_data)
    return run


def pytest_cov_data_file(root: Path, env: dict[str, str]) -> Path:
    """Where pytest-cov leaves its (combined) data file: coverage.py's ``data_file``
    (``COVERAGE_FILE``, else the project's ``[run] data_file``, else ``.coverage``),
    relative to the directory pytest runs in."""
    import coverage   # start-up time: only a command that uses pytest-cov needs it here

    name = env.get("COVERAGE_FILE")   # the test command's environment is covbot's: no other value
    if not name:
        try:
            name = coverage.Coverage(config_file=coverage_config_file(root) or False).config.data_file
        except Exception:   # noqa: BLE001 - a configuration coverage.py refuses: the run says why
            name = ".coverage"
    return Path(name) if os.path.isabs(name) else root / name


def _wait(command: str, *, root: Path, env: dict, output: int, timeout: float | None, partial) -> int:
    """Start ``command`` in its own process group and wait for it; a timeout kills the group."""
    try:
        proc = subprocess.Popen(command, shell=True, cwd=root, env=env, stdin=subprocess.DEVNULL,
                                stdout=output, stderr=output, start_new_session=True)
    except OSError as exc:
        raise TestRunError(f"could not start the test command {command!r}: {exc}") from None
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise _partial(TestRunError(
            f"the test command {command!r} did not finish within {timeout:g} s; its process group was killed",
            "raise the `timeout` setting, or find the hanging test (pytest-timeout helps)"), partial()) from None
    except KeyboardInterrupt:
        _kill_group(proc)
        raise
    finally:
        _kill_group(proc, grace=0)   # daemons the tests left behind in the group


def command_env(command: str, *, root: Path, data: Path, junit: Path, results: Path,
             pythonpath_first: list[Path] | None = None, pytest_args: list[str] | None = None,
             measure: bool = True, contexts: list[Path] | None = None) -> dict[str, str]:
    """The test command's environment: covbot's hooks first on PYTHONPATH, its coverage
    data file and results log, and PYTEST_ADDOPTS for the JUnit file and its plugin;
    without :data:`SECRET_VARIABLES`."""
    # The project's pytest session is its own: variables of a pytest (or xdist worker)
    # that covbot itself may run under must not leak into it (the results plugin stays
    # silent in xdist workers).
    # covbot's token and the runner's credentials are never handed to the project's code.
    env = {k: v for k, v in child_environment().items()
           if not k.startswith("PYTEST_XDIST_") and k != "PYTEST_CURRENT_TEST"}
    path_parts = [str(SUPPORT_DIR)] + [str(p) for p in (pythonpath_first or [])]
    # covbot's parts alone, for a command that sets the variables itself (PYTHONPATH=src pytest)
    env["COVBOT_PYTHONPATH"] = os.pathsep.join(path_parts)
    if env.get("PYTHONPATH"):
        path_parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path_parts)
    pytest_cov = _uses_pytest_cov(root, command, env.get("PYTEST_ADDOPTS", ""))
    if measure and not pytest_cov:
        env["COVBOT_COVERAGE_DATA"] = str(data)
        rc = coverage_config_file(root)
        if rc:
            env["COVBOT_COVERAGE_RC"] = rc
        else:
            env.pop("COVBOT_COVERAGE_RC", None)
    else:
        env.pop("COVBOT_COVERAGE_DATA", None)
    env.pop("COVBOT_TEST_CONTEXTS", None)
    if contexts and measure and not pytest_cov:
        # covbot's plugin records these files' lines per test (written by run_tests)
        env["COVBOT_TEST_CONTEXTS"] = str(data.parent / "context-files")
    env["COVBOT_RESULTS"] = str(results)
    addopts = ["-p", "covbot_pytest_plugin", f"--junitxml={junit}", "-o", "junit_family=xunit2",
               "--continue-on-collection-errors"]
    # Only with pytest-cov turned on: the test environment may lack it, and pytest refuses
    # an option no plugin defines.
    if pytest_cov and measure:
        # pytest-cov measures (one tracer: covbot's stays off) and writes the data and the
        # reports the command asks for; covbot reads its data file, with branch coverage.
        addopts.append("--cov-branch")
        if contexts:
            addopts.append("--cov-context=test")   # pytest-cov's per-test contexts: nodeid|run
    elif pytest_cov:
        # an unmeasured run (the rerun of failed tests) must not rewrite the project's
        # coverage files; the warning pytest-cov gives for it must not fail a run with
        # `filterwarnings = error`
        addopts += ["--no-cov", "-W", "ignore::pytest_cov.CovDisabledWarning"]
    addopts += pytest_args or []
    env["COVBOT_PYTEST_ADDOPTS"] = " ".join(shlex.quote(a) for a in addopts)
    env["PYTEST_ADDOPTS"] = env["COVBOT_PYTEST_ADDOPTS"] + (
        " " + env["PYTEST_ADDOPTS"] if env.get("PYTEST_ADDOPTS") else "")
    return env


def _check_exit(run: TestRun, *, measure: bool, search_path: str, cov_data: Path | None = None) -> None:
    """Raise the TestRunError a finished run's exit status and outputs call for."""
    command, returncode = run.command, run.returncode
    if returncode == 127:
        raise TestRunError(f"the test command {command!r} was not found (exit status 127)",
                           "install the project's test dependencies (`install-command`) or fix `test-command`")
    if returncode == 126:
        raise TestRunError(f"the test command {command!r} is not executable (exit status 126)",
                           "check the command's permissions and `test-command`")
    # A shell reports a child killed by signal N as exit status 128 + N.
    signum = -returncode if returncode < 0 else (returncode - 128 if 128 < returncode <= 128 + 64 else 0)
    if signum:
        raise _partial(TestRunError(
            f"the test command {command!r} was killed by signal {signum} ({_signal_name(signum)})",
            "the test run crashed (a native extension, os.abort()) or ran out of memory; "
            "run it locally to reproduce"), run)
    if returncode == 5:
        raise TestRunError(f"the test command {command!r} collected no tests (pytest exit status 5)",
                           "check `testpaths` / the test command's arguments")
    if returncode in (2, 3, 4) and not run.junit_files:
        # pytest interrupted, crashed or was misused: coverage of its start-up is no report
        raise _partial(TestRunError(
            f"the test command {command!r} failed (exit status {returncode}) before any test ran",
            "run it locally to see the error; it must be a pytest run (or start one)"), run)
    if measure and not run.data_files:
        if returncode in (2, 3, 4) or (returncode != 0 and not run.junit_files):
            raise TestRunError(
                f"the test command {command!r} failed (exit status {returncode}) before any test ran",
                "run it locally to see the error; it must be a pytest run (or start one)")
        if cov_data is not None:
            raise TestRunError(
                f"the test command {command!r} uses pytest-cov, which wrote no coverage data to {cov_data}",
                "covbot reads the data file pytest-cov writes in the directory the tests run in; "
                "keep coverage.py's `data_file` (or COVERAGE_FILE) there, or drop `--cov` and let covbot measure")
        program, python = command_interpreter(command, search_path)
        ran = (f" (Python {python})" if python == program else f" ({program}, Python {python})" if python
               else f" ({program})" if program else "")
        raise TestRunError(
            f"the test command {command!r}{ran} produced no coverage data",
            "covbot measures the Python processes the command starts with the coverage package "
            f"of their own interpreter: install coverage into it (`{shlex.quote(python or 'python')} "
            "-m pip install coverage`), or set `test-command` to the pytest of an environment that "
            f"has it (covbot itself runs on {sys.executable})")


def command_interpreter(command: str, search_path: str) -> tuple[str | None, str | None]:
    """The program a test command starts and the Python interpreter that program runs on,
    as the shell finds them on ``search_path`` (best effort: ``(None, None)`` when the first
    word is not found, e.g. a shell construct; no interpreter when it is no script)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None, None
    while words and "=" in words[0] and not words[0].startswith("="):   # VAR=value pytest
        words.pop(0)
    program = shutil.which(words[0], path=search_path) if words else None
    if program is None:
        return None, None
    if Path(program).name.startswith("python"):
        return program, program
    try:
        with open(program, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return program, None
    if not head.startswith(b"#!"):
        return program, None
    shebang = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not shebang:
        return program, None
    python = shebang[-1] if Path(shebang[0]).name == "env" else shebang[0]
    if "/" not in python:
        python = shutil.which(python, path=search_path) or python
    # A wrapper script (a pyenv shim runs bash) says nothing of the interpreter.
    return program, python if Path(python).name.startswith("python") else None


def _uses_pytest_cov(root: Path, command: str, addopts: str) -> bool:
    """Whether the project turns pytest-cov on (``--cov`` in the command, PYTEST_ADDOPTS
    or its pytest configuration); pytest-cov does nothing without it."""
    if "--cov" in command or "--cov" in addopts:
        return True
    for name in ("pytest.ini", ".pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"):
        try:
            if "--cov" in (root / name).read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


def _found(run: TestRun, junit: Path, results: Path, *, cov_data: Path | None = None,
           since: float = 0.0) -> TestRun:
    """Fill in what the run left behind (also after a crash or a timeout): covbot's data
    files, or the data file pytest-cov wrote during the run (``cov_data``)."""
    out_dir = run.workdir
    if cov_data is not None:
        try:
            fresh = cov_data.is_file() and cov_data.stat().st_mtime >= since - 1.0
        except OSError:
            fresh = False
        run.data_files = [cov_data] if fresh else []
    else:
        run.data_files = sorted(p for p in out_dir.glob(".coverage.*") if p.is_file())
    if junit.is_file() and junit.stat().st_size > 0:
        run.junit_files = [junit]
    if results.is_file() and results.stat().st_size > 0:
        run.results_file = results
    return run


def _partial(exc: TestRunError, run: TestRun) -> TestRunError:
    """Attach what a failed run still wrote, so the caller can report it."""
    exc.run = run
    return exc


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(proc: subprocess.Popen, grace: float = 3.0, int_grace: float = 10.0) -> None:
    """End the test command's whole process group: SIGINT (then up to ``int_grace`` s),
    SIGTERM (then up to ``grace`` s), then SIGKILL.

    SIGINT first: pytest stops like on Ctrl-C, writes its JUnit file and exits normally,
    so coverage.py saves what the finished tests measured. The leader exiting is not
    enough: a child that ignores the signals keeps the group (and the job) alive, so
    the group itself is watched.
    """
    pgid = proc.pid
    if not _group_alive(pgid):
        return
    for sig, wait in ((signal.SIGINT, int_grace), (signal.SIGTERM, grace)) if grace > 0 else ():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
            if proc.returncode is not None and not _group_alive(pgid):
                return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def scratch_dir(prefix: str = "covbot-run-") -> Path:
    """A fresh folder in the temporary directory for covbot's own test runs; the caller
    removes it with :func:`remove_scratch` when it is done, however it ends."""
    return Path(tempfile.mkdtemp(prefix=prefix))


@contextlib.contextmanager
def scratch(prefix: str = "covbot-run-"):
    """:func:`scratch_dir`, removed on the way out (a failure and Ctrl-C included)."""
    path = scratch_dir(prefix)
    try:
        yield path
    finally:
        remove_scratch(path)


def remove_scratch(path: Path | None) -> None:
    """Remove a folder :func:`scratch_dir` made (nothing when ``path`` is None)."""
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
