"""The triage corpus: a small sample project and defects seeded into copies of it.

``project/`` is a clean project (all tests pass). Each directory under ``defects/`` is
laid over a copy of it and seeds one kind of failure; ``EXPECTED`` says, for each
defect, which tests it breaks and the class a reviewer would give each one. These are
the ground truth the triage is measured against: they follow from how each defect was
written, not from what covbot says.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "project"
DEFECTS = HERE / "defects"

#: defect → {test id: class}
EXPECTED: dict[str, dict[str, str]] = {
    "broken_import": {"tests/test_report_import.py": "test bug"},
    "missing_fixture": {"tests/test_missing_fixture.py::test_total_of_basket": "test bug"},
    "wrong_mock_target": {
        "tests/test_wrong_mock.py::test_average_uses_total": "test bug",
        "tests/test_wrong_mock.py::test_rate_with_module_typo": "test bug",
    },
    "wrong_return": {"tests/test_discount.py::test_save10": "production bug"},
    "source_exception": {"tests/test_parse.py::test_parse_trailing_separator": "production bug"},
    "flaky_rerunfailures": {"tests/test_flaky_marker.py::test_total_eventually": "flaky"},
    "flaky_rerun_pass": {"tests/test_flaky_order.py::test_average_warm_cache": "flaky"},
    "timeout": {"tests/test_slow.py::test_waits_for_rates_service": "environment"},
    "connection_refused": {"tests/test_rates.py::test_fetch_rate_from_service": "environment"},
}

ALL = tuple(EXPECTED)
#: Measured source files of the sample project (what coverage.py reports for it).
SOURCE_FILES = {"src/calc/__init__.py", "src/calc/engine.py", "src/calc/net.py",
                "src/calc/discount.py", "src/calc/parse.py"}
#: Tests of the clean project, all passing.
CLEAN_TESTS = 11


def expected(defects=ALL) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in defects:
        out.update(EXPECTED[d])
    return out


def seed(dest: Path, defects=ALL) -> Path:
    """Make ``dest`` the clean project with ``defects`` laid over it (a fresh copy).

    Files are copied without their modification times: a defect of the same size as
    the clean file, with the same old mtime (a fresh clone gives every file one) and a
    reused inode, looks unchanged to git's index, and the commit would leave it out."""
    shutil.copytree(PROJECT, dest, dirs_exist_ok=True, copy_function=shutil.copy)
    for d in defects:
        shutil.copytree(DEFECTS / d, dest, dirs_exist_ok=True, copy_function=shutil.copy)
    return dest


def unseed(dest: Path, defect: str) -> None:
    """Undo one defect in ``dest``: restore the clean files, drop the added ones."""
    for f in (DEFECTS / defect).rglob("*"):
        if f.is_file():
            rel = f.relative_to(DEFECTS / defect)
            clean = PROJECT / rel
            if clean.is_file():
                shutil.copy(clean, dest / rel)
            else:
                (dest / rel).unlink()
