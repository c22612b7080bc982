"""docs/reliability.md stays true: every row names a test, and every named test exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
TEST_ID = re.compile(r"`(tests/[\w/]+\.py::\w+(?:\[[^`]*\])?)`")


def _rows() -> list[str]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("|---") and not re.match(r"\| (input|fault|invariant|what) \|", line):
            rows.append(line)
    return rows


def test_every_row_names_a_test_or_says_it_is_missing():
    rows = _rows()
    assert len(rows) > 60
    for row in rows:
        assert TEST_ID.search(row) or "MISSING" in row, f"row without a test: {row}"


def test_every_named_test_exists():
    ids = sorted({m.group(1) for m in TEST_ID.finditer(DOC.read_text(encoding="utf-8"))})
    files = sorted({i.split("::")[0] for i in ids})
    missing_files = [f for f in files if not (ROOT / f).is_file()]
    assert not missing_files, missing_files
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           *files], cwd=ROOT, capture_output=True, text=True, timeout=300)
    collected = {line.strip() for line in proc.stdout.splitlines() if "::" in line}
    functions = {c.split("[")[0] for c in collected}
    unknown = [i for i in ids if i not in collected and i not in functions]
    assert not unknown, f"named in docs/reliability.md but not collected: {unknown}"
