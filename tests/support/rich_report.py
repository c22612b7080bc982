"""A pull request whose report fills every part of report.json.

``origin`` (bare) with two saved baselines on ``main`` (a trend), tiers and a critical
file configured, and a PR that adds a file, changes covered and uncovered lines, breaks
a test (a new failure in measured source), keeps a pre-existing failure, fixes one, and
has a test that passes only on its second attempt (flaky). ``covbot report`` runs the
tests itself, against the stored baseline (``--baseline auto``).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from support.repo_factory import Repo, run, sample_pyproject

FAST = "python -m pytest -p no:benchmark -p no:hypothesispytest -p no:xdist"

CONFIG = """
tiers:
  - {name: Tier 1, min-statements: 12, target: 50}
  - {name: Tier 2, min-statements: 4, target: 80}
critical: {paths: ["src/pkg/calc.py"], target: 70}
goal: 80
"""

CALC = """
    def add(a, b):
        return a + b


    def sign(x):
        if x > 0:
            return 1
        if x < 0:
            return -1
        return 0


    def unused(x):
        y = x * 2
        z = y + 1
        return z
"""

TEXT = """
    def shout(s):
        return s.upper() + "!"


    def whisper(s):
        if not s:
            return ""
        return s.lower()
"""

TESTS = """
    from pkg.calc import add, sign


    def test_add():
        assert add(2, 3) == 5


    def test_sign():
        assert sign(4) == 1


    def test_old_broken():
        assert add(1, 1) == 3


    def test_to_fix():
        assert sign(0) == 1
"""

PR_TESTS = textwrap.dedent(TESTS).replace("assert sign(0) == 1", "assert sign(0) == 0") + '''

def test_double():
    from pkg.calc import double
    assert double(2) == 5


def test_area():
    from pkg.shapes import area
    assert area(-1, 2) == 0


def test_flaky_once():
    import pathlib
    mark = pathlib.Path(__file__).with_name(".flaky-once")
    if not mark.exists():
        mark.write_text("failed once")
        raise ConnectionError("connection refused by the test service")
'''

SHAPES = """
    def area(w, h):
        if w < 0:
            raise ValueError("negative width")
        return w * h


    def perimeter(w, h):
        return 2 * (w + h)
"""


def build(tmp: Path) -> tuple[Path, str]:
    """The report folder of the PR and the PR's head SHA."""
    origin = tmp / "origin.git"
    run(["git", "init", "-q", "--bare", "--initial-branch=main", str(origin)], tmp)
    base = {"pyproject.toml": sample_pyproject(), ".covbot.yml": CONFIG, ".gitignore": ".flaky-once\n",
            "src/pkg/__init__.py": "", "src/pkg/calc.py": CALC, "src/pkg/text.py": TEXT,
            "tests/test_calc.py": TESTS}
    repo = Repo.create(tmp / "work", base, message="A")
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    for message in ("B", None):
        (repo.path / ".coverage").unlink(missing_ok=True)
        repo.coverage_run_pytest("--junitxml=junit.xml")
        proc = repo.covbot("baseline", "save", "--no-run", "--coverage-file", ".coverage", "--junit", "junit.xml")
        assert proc.returncode == 0, proc.stderr
        if message:
            repo.commit({"README.md": "the project\n"}, message)
            repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit({"src/pkg/calc.py": textwrap.dedent(CALC).lstrip("\n")
                        + "\n\ndef double(x):\n    if x:\n        return 2 * x\n    return 0\n",
                        "src/pkg/shapes.py": SHAPES, "tests/test_calc.py": PR_TESTS}, "PR")
    out = tmp / "out"
    proc = repo.covbot("report", "--base", "main", "--baseline", "auto", "--test-command", f"{FAST} --reruns 1",
                       "--output-dir", str(out), "--repository", "acme/shop")
    assert proc.returncode in (0, 1), proc.stderr
    return out, head


def load(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))
