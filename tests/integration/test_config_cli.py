"""``.covbot.yml`` errors through the real CLI: one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import pytest

from support.repo_factory import Repo


@pytest.mark.parametrize("text, needle", [
    ("thresholds:\n  diff: 80\n  min_lines: 3\n", "did you mean 'thresholds.min-lines'"),
    ("goal: lots\n", "`goal` must be a number"),
])
def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path, text, needle):
    repo = Repo.create(tmp_path / "r", {"a.py": "a = 1\n", ".covbot.yml": text})
    proc = repo.covbot("report", "--no-run")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("covbot: error: ") and needle in lines[0]
    assert ".covbot.yml" in lines[0] and "Traceback" not in proc.stderr
