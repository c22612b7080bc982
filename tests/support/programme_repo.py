"""A coverage programme's repository: a dozen default-branch commits a week apart (merge
commits and squash merges naming their pull requests, a direct commit, rises and drops),
each measured with coverage.py and saved with the real ``covbot baseline save``.

The expected figures are computed here from coverage.py's own JSON report of each save
and from the schedule below, never from covbot's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from support.repo_factory import Repo, clean_env, run, sample_pyproject

START = datetime(2025, 1, 6, 12, 0, tzinfo=timezone.utc)
GOAL = 80.0
#: Tiers small enough for a sample project: (name, min statements, target).
TIERS = (("Tier 1", 40, 60.0), ("Tier 2", 15, 50.0))
CONFIG = f"""
goal: {GOAL:g}
tiers:
  - {{name: "{TIERS[0][0]}", min-statements: {TIERS[0][1]}, target: {TIERS[0][2]:g}}}
  - {{name: "{TIERS[1][0]}", min-statements: {TIERS[1][1]}, target: {TIERS[1][2]:g}}}
"""


@dataclass
class Step:
    """One default-branch commit: the code's shape, how it lands, who made it."""

    big: int             # functions in src/pkg/big.py (4 statements, 1 branch each)
    big_tested: int      # of which the tests call (one side of the branch)
    mid: int             # functions in src/pkg/mid.py
    mid_tested: int
    how: str             # "merge" | "squash" | "direct"
    pr: int | None
    author: str
    subject: str
    failing: int = 0     # tests that fail at this commit


#: Step 2 is the largest drop of all, before the pace's window (the last 56 days); in
#: the window, #108 drops most and #110 gains most.
SCHEDULE = [
    Step(8, 3, 4, 2, "direct", None, "Ada", "Start the programme"),
    Step(8, 5, 4, 3, "merge", 101, "Grace", "tests for big"),
    Step(14, 5, 4, 3, "squash", 102, "Linus", "Add the reporting functions (#102)"),
    Step(14, 7, 5, 3, "merge", 103, "Ada", "tests for reporting"),
    Step(14, 8, 5, 4, "squash", 104, "Grace", "Cover mid (#104)", failing=1),
    Step(15, 8, 5, 4, "squash", 105, "Linus", "Add one more function (#105)"),
    Step(15, 10, 5, 5, "merge", 106, "Ada", "tests for the new function"),
    Step(15, 11, 5, 5, "direct", None, "Grace", "Tidy the tests"),
    Step(19, 11, 6, 5, "merge", 108, "Linus", "feature without tests"),
    Step(19, 13, 6, 5, "squash", 109, "Ada", "Cover part of the feature (#109)"),
    Step(19, 17, 6, 6, "merge", 110, "Grace", "cover the feature"),
    Step(19, 18, 6, 6, "squash", 111, "Linus", "Cover the rest (#111)", failing=2),
]


def module(name: str, count: int) -> str:
    return "\n\n".join(f"def {name}{i}(x):\n    if x > {i}:\n        return x - {i}\n    return x + {i}\n"
                       for i in range(count))


def tests_for(name: str, module_name: str, tested: int, failing: int = 0) -> str:
    lines = [f"from pkg.{module_name} import *  # noqa: F403", ""]
    for i in range(tested):
        lines += [f"def test_{name}{i}():", f"    assert {name}{i}({i + 1}) == 1", ""]
    for i in range(failing):
        lines += [f"def test_{name}_broken{i}():", "    assert False", ""]
    return "\n".join(lines) + "\n"


def files_of(step: Step) -> dict[str, str]:
    return {"src/pkg/big.py": module("big", step.big), "src/pkg/mid.py": module("mid", step.mid),
            "tests/test_big.py": tests_for("big", "big", step.big_tested, step.failing),
            "tests/test_mid.py": tests_for("mid", "mid", step.mid_tested)}


@dataclass
class Saved:
    """One save, as the test knows it: its commit, date, PR and coverage.py's figures."""

    sha: str
    when: datetime
    pr: int | None
    author: str
    subject: str
    coverage: dict              # coverage.py's JSON report
    junit_failed: int


@dataclass
class Programme:
    repo: Repo
    saves: list[Saved] = field(default_factory=list)


def _git(repo: Repo, when: datetime, author: str, *args: str) -> None:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    env = clean_env(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp, GIT_AUTHOR_NAME=author,
                    GIT_AUTHOR_EMAIL=f"{author.lower()}@example.invalid")
    run(["git", *args], repo.path, env=env)


def land(repo: Repo, step: Step, when: datetime) -> str:
    """Commit ``step`` on main as a merge commit, a squash merge or a direct commit."""
    repo.write(files_of(step))
    if step.how == "merge":
        branch = f"{step.author.lower()}/pr-{step.pr}"
        repo.git("checkout", "-q", "-b", branch)
        repo.git("add", "-A")
        _git(repo, when - timedelta(hours=3), step.author, "commit", "-q", "-m", step.subject)
        repo.git("checkout", "-q", "main")
        _git(repo, when, "Merger", "merge", "-q", "--no-ff", "-m",
             f"Merge pull request #{step.pr} from {branch}", "-m", step.subject, branch)
    else:
        repo.git("add", "-A")
        _git(repo, when, step.author, "commit", "-q", "-m", step.subject)
    return repo.sha()


def measure(repo: Repo) -> tuple[dict, int]:
    """coverage.py's JSON report of the tests run under coverage, and the failed tests."""
    (repo.path / ".coverage").unlink(missing_ok=True)
    proc = repo.coverage_run_pytest("--junitxml=junit.xml")
    failed = sum(1 for line in proc.stdout.splitlines() if line.startswith("FAILED"))
    return repo.coverage_json(), failed


#: What the saves see of GitHub: the links on the page go to this repository's pages.
SERVER, REPOSITORY = "https://github.example", "acme/widgets"


def covbot_env(**extra: str) -> dict:
    return clean_env(GITHUB_SERVER_URL=SERVER, GITHUB_REPOSITORY=REPOSITORY, **extra)


def build(path: Path, schedule: list[Step] = SCHEDULE) -> Programme:
    repo = Repo.create(path)
    repo.write({"pyproject.toml": sample_pyproject(relative_files=True), ".covbot.yml": CONFIG,
                "src/pkg/__init__.py": "", ".gitignore": ".coverage\njunit.xml\n.covbot/\nout/\n"})
    prog = Programme(repo)
    for i, step in enumerate(schedule):
        when = START + timedelta(days=7 * i)
        sha = land(repo, step, when)
        cov, failed = measure(repo)
        proc = repo.covbot("baseline", "save", "--no-run", "--coverage-file", ".coverage", "--junit", "junit.xml",
                           "--remote", ".", env=covbot_env())
        assert proc.returncode == 0, proc.stderr
        prog.saves.append(Saved(sha, when, step.pr, step.author, step.subject, cov, failed))
    return prog


def history(repo: Repo) -> list[dict]:
    return [json.loads(line) for line in repo.git("show", "covbot-data:history.jsonl").splitlines()]
