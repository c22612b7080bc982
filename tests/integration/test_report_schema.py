"""report.json as ``covbot report`` writes it fits the one schema the publisher validates
against (bot/model/report_schema.py), key for key: ``strict`` refuses a key the schema
does not list, so a writer that grows a key must list it (and its type) there too."""

from __future__ import annotations

import json

import pytest

from bot.model import report_schema
from bot.model.report import report_from_dict
from support import rich_report
from support.hard_cases_pr import build_sample
from support.repo_factory import Repo


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    out, head = rich_report.build(tmp_path_factory.mktemp("rich"))
    return rich_report.load(out)


def test_a_report_with_every_part_filled_fits_the_schema_exactly(rich):
    # the fixture fills what the schema describes: trend, tiers, tier changes, failures of each kind
    assert len(rich["trend"]) == 2 and rich["tiers"] and rich["tier_changes"]["new_below_target"]
    assert {f["status"] for f in rich["tests"]["failures"]} == {"new", "pre-existing"}
    assert any(f["outcome"] == "flaky" for f in rich["tests"]["failures"]) and rich["tests"]["fixed"]
    assert report_schema.validate(rich, strict=True) == rich
    # and the one reader of reports turns it back into the same report.json
    again = report_from_dict(report_schema.validate(rich)).to_dict()
    assert report_schema.validate(again, strict=True) == again
    assert {k: again[k] for k in ("totals", "diff", "files", "tiers", "tests", "verdict")} == \
        {k: rich[k] for k in ("totals", "diff", "files", "tiers", "tests", "verdict")}


def test_renames_deletions_and_new_files_fit_the_schema(tmp_path):
    repo = build_sample(tmp_path / "hard")
    out = tmp_path / "out"
    proc = repo.covbot("report", "--base", "main", "--baseline", "rerun", "--output-dir", str(out),
                       "--test-command", rich_report.FAST)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads((out / "report.json").read_text())
    assert {f["status"] for f in doc["files"] if f["changed"]} >= {"added", "renamed"} and doc["deleted_files"]
    assert report_schema.validate(doc, strict=True) == doc


def test_the_report_of_a_run_without_coverage_fits_the_error_schema(tmp_path):
    repo = Repo.create(tmp_path / "broken", {"src/m.py": "x = 1\n", "coverage.xml": "<coverage"})
    out = tmp_path / "out"
    proc = repo.covbot("report", "--no-run", "--coverage-file", "coverage.xml", "--output-dir", str(out))
    assert proc.returncode == 2
    doc = json.loads((out / "report.json").read_text())
    assert doc["error"] is True and doc["errors"]
    assert report_schema.validate(doc, strict=True) == doc


@pytest.mark.parametrize("where, value, expected", [
    ("tests.passed", "3", "tests.passed"),
    ("trend.0.commit", "```\n<b>", "trend[0].commit"),
    ("files.0.percent_covered", float("nan"), "files[0].percent_covered"),
    ("totals.percent_covered", 5555627.78, "totals.percent_covered"),
    ("tests.failures.0.status", "<details open>", "tests.failures[0].status"),
])
def test_a_value_of_the_wrong_type_or_range_is_named(rich, where, value, expected):
    doc = json.loads(json.dumps(rich))
    *path, last = where.split(".")
    node = doc
    for key in path:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    with pytest.raises(report_schema.SchemaError) as err:
        report_schema.validate(doc)
    assert err.value.where == f"report.json.{expected}"


def test_unknown_keys_are_dropped_when_reading_and_refused_when_strict(rich):
    doc = json.loads(json.dumps(rich))
    doc["injected"] = "<img src=x>"
    doc["tests"]["failures"][0]["html"] = "<script>"
    read = report_schema.validate(doc)
    assert "injected" not in read and "html" not in read["tests"]["failures"][0]
    with pytest.raises(report_schema.SchemaError):
        report_schema.validate(doc, strict=True)
