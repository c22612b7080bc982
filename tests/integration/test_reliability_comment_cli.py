"""Comment safety through the CLI: a real pytest run in a real git repository whose test
ids, failure messages and tracebacks are hostile; covbot's comment stays inert."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.render.markdown import COMMENT_LIMIT
from support.hostile import HOSTILE
from support.markdown_check import check_inert

markdown_it = pytest.importorskip("markdown_it")


def test_end_to_end_hostile_test_names_and_failures(tmp_path):
    """A real pytest run whose test ids, messages and tracebacks are hostile, through the CLI."""
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args):
        subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "user.name=Dev", "-c",
                        "user.email=dev@example.invalid", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    (repo / "pkg").mkdir()
    (repo / "pkg/__init__.py").write_text("")
    (repo / "pkg/core.py").write_text("def f(x):\n    return x\n")
    (repo / "tests").mkdir()
    (repo / "pytest.ini").write_text("[pytest]\npythonpath = .\naddopts = -p no:cacheprovider\n")
    (repo / "tests/test_core.py").write_text("from pkg.core import f\n\ndef test_f():\n    assert f(1) == 1\n")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    git("checkout", "-q", "-b", "pr")
    (repo / "pkg/core.py").write_text("def f(x):\n    return x\n\n\ndef g(x):\n    if x:\n        return 1\n    return 0\n")
    cases = [h for h in HOSTILE if "\x00" not in h][:12]
    (repo / "tests/test_hostile.py").write_text(
        "import pytest\nfrom pkg.core import g\n\n"
        f"CASES = {cases!r}\n\n"
        "@pytest.mark.parametrize('text', CASES, ids=CASES)\n"
        "def test_hostile(text):\n    assert g(1) == 1\n    raise AssertionError(text)\n")
    git("add", "-A")
    git("commit", "-q", "-m", "pr")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "bot", "report", "--base", "main", "--baseline", "none",
                           "--fail-on", "none", "--output-dir", str(out)],
                          cwd=repo, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    comment = (out / "comment.md").read_text(encoding="utf-8")
    check_inert(comment)
    import json

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["tests"]["failed"] == len(cases)
    assert len(comment) <= COMMENT_LIMIT
