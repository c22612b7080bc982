"""Sample git repositories and projects for tests, and the real tools run on them.

Build a repository, commit a base on ``main``, branch, commit a PR, then measure it
with the real tools and with covbot::

    repo = Repo.create(tmp_path / "proj", SAMPLE_BASE)      # committed on main
    repo.checkout("pr", new=True)
    repo.commit({"src/pkg/calc.py": NEW_SOURCE, "src/pkg/gone.py": None}, "PR")
    repo.coverage_run_pytest()                               # .coverage, branch coverage
    expected = repo.coverage_json()["totals"]                # coverage.py's own figures
    repo.coverage("xml", "-o", "coverage.xml")
    dc = repo.diff_cover("coverage.xml")                     # diff-cover's JSON report
    report = repo.covbot_report("--no-run", "--coverage-file", ".coverage")

Everything runs as a subprocess with a clean environment (no PYTEST_ADDOPTS, no
coverage variables of the outer test run), so the outer pytest never leaks into the
sample project's runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

PY = sys.executable
BIN = Path(PY).parent

#: Environment variables of the outer run that must not reach the sample runs.
LEAKY = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID",
          "PYTEST_CURRENT_TEST", "COVERAGE_PROCESS_START", "COVERAGE_FILE", "COVERAGE_RCFILE",
          "COVBOT_COVERAGE_DATA", "COVBOT_COVERAGE_RC", "COVBOT_RESULTS", "COVBOT_TEST_CONTEXTS", "PYTHONPATH",
          "GITHUB_ACTIONS", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_TOKEN",
          "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_BASE_REF", "GITHUB_HEAD_REF")


def clean_env(**extra: str) -> dict[str, str]:
    """``os.environ`` without the outer run's test/coverage variables, git made deterministic."""
    env = {k: v for k, v in os.environ.items()
           if k not in LEAKY and not k.startswith(("COV_CORE_", "INPUT_"))}
    env.update({
        "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.invalid",
        "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": venv_path(),
    })
    env.update(extra)
    return env


def venv_path() -> str:
    """``PATH`` with the interpreter under test's ``bin`` first (once)."""
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != str(BIN)]
    return os.pathsep.join([str(BIN), *parts])


def run(cmd: list[str], cwd: Path, *, check: bool = True, env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``cmd`` in ``cwd``; on failure raise with its output, so a test shows why."""
    proc = subprocess.run(cmd, cwd=cwd, env=env or clean_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode} in {cwd}\n"
                             f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


class Repo:
    """A git repository in a temporary folder, with the real tools run inside it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    # -- building -------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, files: dict[str, str | bytes] | None = None, *,
               branch: str = "main", message: str = "base") -> "Repo":
        """``git init`` at ``path`` and, when ``files`` are given, commit them on ``branch``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q", f"--initial-branch={branch}")
        repo.git("config", "user.name", "Test Author")
        repo.git("config", "user.email", "author@example.invalid")
        repo.git("config", "commit.gpgsign", "false")
        if files:
            repo.commit(files, message)
        return repo

    def git(self, *args: str, check: bool = True) -> str:
        return run(["git", *args], self.path, check=check).stdout

    def write(self, files: dict[str, str | bytes | None]) -> None:
        """Write files (str is dedented text, bytes written as is); ``None`` deletes."""
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(dedent(content), encoding="utf-8")

    def commit(self, files: dict[str, str | bytes | None] | None = None, message: str = "change") -> str:
        """Write ``files``, stage everything and commit; returns the new commit's SHA."""
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.sha()

    def move(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", old, new)

    def checkout(self, ref: str, *, new: bool = False) -> None:
        self.git("checkout", "-q", *(["-b"] if new else []), ref)

    def sha(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref).strip()

    # -- coverage.py ------------------------------------------------------------------
    def coverage(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        """``python -m coverage ARGS`` in the repository."""
        return run([PY, "-m", "coverage", *args], self.path, check=check, env=env)

    def coverage_run_pytest(self, *pytest_args: str, parallel: bool = False,
                            data_file: str | None = None, plugins: bool = False) -> subprocess.CompletedProcess:
        """Run pytest under ``coverage run`` (the project's coverage config applies).

        Installed pytest plugins are not loaded unless ``plugins`` (sample projects need
        none, and loading them costs about a second per run). Test failures are allowed
        (a PR may break a test); a pytest usage error is not.
        """
        args = ["run"]
        if parallel:
            args.append("--parallel-mode")
        if data_file:
            args.append(f"--data-file={data_file}")
        env = clean_env() if plugins else clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        proc = self.coverage(*args, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args,
                             check=False, env=env)
        if proc.returncode not in (0, 1):
            raise AssertionError(f"coverage run -m pytest exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def coverage_json(self, *args: str) -> dict:
        """coverage.py's JSON report (``coverage json``) of the current data, as a dict."""
        out = self.path / ".expected-coverage.json"
        self.coverage("json", "-q", "-o", str(out), *args)
        try:
            return json.loads(out.read_text(encoding="utf-8"))
        finally:
            out.unlink()

    def coverage_report_total(self, *args: str) -> float:
        """The TOTAL percentage ``coverage report --precision=2`` prints."""
        text = self.coverage("report", "--precision=2", *args).stdout
        line = next(ln for ln in text.splitlines() if ln.startswith("TOTAL"))
        return float(re.search(r"(\d+\.\d+)%\s*$", line).group(1))

    # -- diff-cover -------------------------------------------------------------------
    def diff_cover(self, *coverage_files: str, compare: str = "main") -> dict:
        """diff-cover's JSON report for ``coverage_files`` against ``compare``."""
        out = self.path / ".expected-diff-cover.json"
        run([str(BIN / "diff-cover"), *coverage_files, f"--compare-branch={compare}",
             "--total-percent-float", f"--format=json:{out}", "-q"], self.path)
        try:
            return json.loads(out.read_text(encoding="utf-8"))
        finally:
            out.unlink()

    # -- covbot -----------------------------------------------------------------------
    def covbot(self, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        """The real CLI, ``python -m bot ARGS``, in the repository (no check)."""
        return run([PY, "-m", "bot", *args], self.path, check=False, env=env, timeout=timeout)

    def covbot_report(self, *args: str, expect_exit: tuple[int, ...] = (0, 1)) -> dict:
        """``covbot report ARGS --format json`` → report.json as a dict (exit 0 or 1 expected)."""
        out_dir = self.path / ".covbot-test-out"
        proc = self.covbot("report", "--format", "json", "--output-dir", str(out_dir), *args)
        if proc.returncode not in expect_exit:
            raise AssertionError(f"covbot report exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        report = json.loads(proc.stdout)
        assert report == json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
        return report


# -- a sample project ----------------------------------------------------------------

def sample_pyproject(*, omit: str | None = None, relative_files: bool = False) -> str:
    """pyproject.toml of a sample ``src`` layout: pytest finds ``tests``, coverage.py
    measures ``src`` with branch coverage."""
    text = """
    [tool.pytest.ini_options]
    testpaths = ["tests"]
    pythonpath = ["src"]

    [tool.coverage.run]
    branch = true
    source = ["src"]
    """
    if omit:
        text += f'omit = ["{omit}"]\n'
    if relative_files:
        text += "relative_files = true\n"
    return dedent(text)


#: pyproject.toml of the sample project: branch coverage, ``src`` measured, one file omitted.
SAMPLE_PYPROJECT = sample_pyproject(omit="src/pkg/generated.py")


def git_available_bare_clone(repo: Repo, dest: Path) -> Path:
    """A bare clone of ``repo`` at ``dest`` (a ``file://`` remote for clone tests)."""
    run(["git", "clone", "-q", "--bare", str(repo.path), str(dest)], dest.parent)
    return dest
