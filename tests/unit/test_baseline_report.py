"""An earlier report.json as the baseline: only its files and tests are read."""

from __future__ import annotations

import pytest

from bot.baseline.sources import from_report_dict
from bot.model.errors import InputError


@pytest.mark.parametrize("extra", [{}, {"diff": None, "verdict": None}, {"head": None}])
def test_a_report_cut_down_to_its_files_is_a_baseline(extra):
    doc = {"schema_version": 1, "files": [{"path": "m.py", "statements": 10, "missing": 2},
                                          {"path": "n.py", "statements": 4, "missing": 0,
                                           "branches": 2, "missing_branches": 1}], **extra}
    base = from_report_dict(doc, "base.json")
    assert base.coverage.files["m.py"].numbers.statements == 10
    assert base.coverage.files["m.py"].numbers.missing == 2
    assert base.coverage.files["n.py"].numbers.missing_branches == 1
    assert base.tests is None


@pytest.mark.parametrize("files", [[["m.py", 10, 2]], [{"path": "m.py"}], [{"path": "m.py", "statements": "x",
                                                                            "missing": 0}], None])
def test_a_malformed_files_entry_is_one_input_error_naming_the_file(files):
    with pytest.raises(InputError, match=r"base\.json: malformed files entry"):
        from_report_dict({"schema_version": 1, "files": files}, "base.json")


def test_failures_give_the_base_failing_and_flaky_ids():
    doc = {"schema_version": 1, "files": [],
           "tests": {"total": 3, "passed": 1, "failed": 2, "errors": 0, "skipped": 0,
                     "failures": [{"id": "t::a"}, {"id": "t::b", "outcome": "flaky"}, "junk"]}}
    base = from_report_dict(doc, "base.json")
    assert base.tests.failing_ids == {"t::a"} and base.tests.flaky_ids == {"t::b"}
