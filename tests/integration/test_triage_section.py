"""The comment's test section: hostile test names and messages from a real pytest run
stay inert, many failures stay within GitHub's comment limit."""

from __future__ import annotations

import os
import re
import sys

import pytest

from bot.stages import triage
from bot.inputs.sources import source_reader
from bot.runs.collect import run_tests
from bot.inputs.junit import load_results
from bot.render.markdown import COMMENT_LIMIT, render_comment
from bot.render import tests_section as tsec
from bot.model.report import DiffCoverage, Report, Verdict
from support.repo_factory import LEAKY

HOSTILE = '''
import pytest

NAMES = ["<img src=x onerror=alert(1)>", "@octocat please", "#1 issue", "[click](https://evil.example)",
         "x|y", "<!-- -->", "```"]


@pytest.mark.parametrize("name", NAMES)
def test_name(name):
    raise ValueError("bad name " + name + "\\n```\\n<script>alert(1)</script> @team")
'''


def _report(tests: dict, links=None) -> Report:
    totals = {"statements": 10, "covered_statements": 8, "missing_statements": 2, "branches": 0,
              "covered_branches": 0, "percent_covered": 80.0}
    return Report(head={"sha": "a" * 40}, base={}, totals=totals, base_totals=None, delta=None,
                  diff=DiffCoverage(num_lines=0, num_covered=0, percent_covered=None, files={}), files=[],
                  verdict=Verdict(True, []), tests=tests, links=links or {})


@pytest.fixture
def hostile_tests(tmp_path, monkeypatch):
    for k in list(os.environ):
        if k in LEAKY or k.startswith("COV_CORE_"):
            monkeypatch.delenv(k)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_hostile.py").write_text(HOSTILE)
    run = run_tests(f"{sys.executable} -m pytest -q -p no:cacheprovider -p no:hypothesispytest -p no:benchmark",
                    root=tmp_path, out_dir=tmp_path / "out", measure=False)
    return triage.build_tests(load_results(run.junit_files, run.results_file), base=None, measured=set(),
                              root=tmp_path, read_source=source_reader(tmp_path))


def test_hostile_names_and_messages_are_inert(hostile_tests):
    assert hostile_tests["failed"] == 7
    section = tsec.tests_section(_report(hostile_tests)).text
    outside_code = re.sub(r"(?ms)^ *(`{4,})text\n.*?^ *\1$", "", section)   # drop fenced blocks
    outside_code = re.sub(r"(`+).+?\1", "", outside_code)                    # and code spans
    for raw in ("<img", "<script", "<!--", "@octocat", "@team", "](https://evil.example)", "x|y"):
        assert raw not in outside_code, raw
    # The tracebacks contain ``` so their fence is longer, and each block is closed.
    blocks = re.findall(r"(?ms)^ *(`{3,})text\n(.*?)^ *\1$", section)
    assert len(blocks) == 7
    for fence, body in blocks:
        assert "```" in body and len(fence) == 4
        # Nothing inside can close the block early.
        assert not re.search(r"(?m)^ *`{%d,} *$" % len(fence), body)
    # Different messages, different groups: seven groups of one.
    assert "**Failures: 7 tests in 7 groups**" in section
    assert section.count("**test bug** · 1 test ·") == 7


def test_many_failures_fit_the_comment_limit(hostile_tests):
    base = hostile_tests["failures"][0]
    failures = []
    for i in range(3000):
        f = dict(base, id=f"tests/test_big.py::test_{i}", signature=f"ValueError: case {i} @ tests/x.py:{i}",
                 traceback="tests/x.py:1\n" + "frame line\n" * 40)
        failures.append(f)
    tests = dict(hostile_tests, failures=failures, failed=3000, total=3000, passed=0, pass_rate=0.0)
    comment = render_comment(_report(tests))
    assert len(comment) <= COMMENT_LIMIT
    assert "<summary>Tests: " in comment
    assert "**Failures: 3000 tests in 3000 groups**" in comment
    assert "more groups (2990 tests) in report.json" in comment or "more groups (2960 tests) in report.json" in comment


def test_without_base_it_says_failures_not_new(hostile_tests):
    section = tsec.tests_section(_report(hostile_tests)).text
    assert "**Failures: 7 tests in 7 groups** (no base results to compare with)" in section


def test_locations_link_to_the_head(hostile_tests):
    links = {"server_url": "https://github.example", "repository": "o/r", "head_sha": "b" * 40}
    section = tsec.tests_section(_report(hostile_tests, links)).text
    assert f"(https://github.example/o/r/blob/{'b' * 40}/tests/test_hostile.py#L10)" in section


def test_no_section_without_test_results():
    assert tsec.tests_section(_report(None)) is None


def test_text_format_lists_the_failure_groups(hostile_tests):
    """The terminal rendering names each group, its class and reason, from a real run."""
    from bot.render.text import render_text

    text = render_text(_report(hostile_tests))
    groups = hostile_tests["groups"]
    failures = sum(g["count"] for g in groups)
    assert f"failures: {failures} test(s) in {len(groups)} group(s) (no base results to compare with):" in text
    shown = groups[:10]
    for g in shown:
        # the group's real message (first line), not its normalised signature
        assert f"[{g['category']}] {g['message'].splitlines()[0]} ({g['count']} test(s))" in text
        assert g["reason"] in text
    if len(groups) > 10:
        assert f"... {len(groups) - 10} more group(s) in report.json" in text
