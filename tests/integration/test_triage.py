"""Failing-test triage on real failures: the corpus project with its seeded defects is run
with pytest (covbot's plugin recording every attempt), and each failure's class, group
and status are checked against how the defect was written (tests/support/triage_corpus)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bot.stages import frames, signatures, triage
from bot.inputs.sources import source_reader
from bot.runs.collect import run_tests
from bot.model.config import Config
from bot.inputs.junit import load_results
from bot.inputs.results import TestResult as Result
from bot.inputs.results_log import read_results_log
from bot.model.coverage import TestOutcomes as Outcomes
from bot.runs.rerun import merge, rerun_failed
from support.repo_factory import LEAKY
from support.triage_corpus import corpus

# Plugins the sample project does not use are kept out: they only slow every run down.
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider -p no:hypothesispytest -p no:benchmark"


@pytest.fixture(scope="module")
def clean_environ():
    """The outer run's pytest/coverage variables must not reach the sample runs."""
    saved = {k: os.environ.pop(k) for k in list(os.environ)
             if k in LEAKY or k.startswith("COV_CORE_")}
    yield
    os.environ.update(saved)


def _run(project: Path, out: Path, *args: str):
    return run_tests(" ".join([PYTEST, *args]), root=project, out_dir=out, measure=False,
                     label="corpus tests")


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, clean_environ):
    """Every defect seeded into one copy, run once with covbot's plugin, then covbot's
    rerun pass over the failures."""
    project = corpus.seed(tmp_path_factory.mktemp("corpus") / "project")
    work = tmp_path_factory.mktemp("corpus-out")
    run = _run(project, work / "head")
    results = load_results(run.junit_files, run.results_file)
    summary = rerun_failed(results, command=PYTEST, root=project, out_dir=work / "rerun")
    tests = triage.build_tests(results, base=None, measured=corpus.SOURCE_FILES | {
        "tests/conftest.py", "tests/test_engine.py"}, root=project, config=Config(),
        read_source=source_reader(project))
    return {"project": project, "run": run, "results": results, "rerun": summary, "tests": tests}


def _by_id(tests: dict) -> dict[str, dict]:
    return {f["id"]: f for f in tests["failures"]}


@pytest.mark.parametrize("defect", corpus.ALL)
def test_each_seeded_defect_gets_its_class(corpus_run, defect):
    failures = _by_id(corpus_run["tests"])
    for test_id, category in corpus.EXPECTED[defect].items():
        assert test_id in failures, f"{test_id} not reported; got {sorted(failures)}"
        f = failures[test_id]
        assert f["category"] == category, (test_id, f["category"], f["reason"])
        assert f["reason"], test_id
        assert f["status"] == "unknown"      # no base to compare with here


def test_nothing_else_fails_and_counts_add_up(corpus_run):
    t = corpus_run["tests"]
    expected = corpus.expected()
    assert set(_by_id(t)) == set(expected)
    # The clean tests + the tests the defects add; the broken-import module counts as one error.
    added = [i for i in expected if not (corpus.PROJECT / i.split("::")[0]).exists()]
    assert t["total"] == corpus.CLEAN_TESTS + len(added)
    assert t["skipped"] == 0
    assert t["flaky"] == 2
    assert t["errors"] == 2                   # collection error + missing fixture
    assert t["failed"] == len(expected) - 2 - 2
    assert t["passed"] == t["total"] - t["failed"] - t["errors"]
    assert t["pass_rate"] == round(100 * t["passed"] / t["total"], 2)


def test_reasons_name_the_evidence(corpus_run):
    f = _by_id(corpus_run["tests"])
    assert f["tests/test_parse.py::test_parse_trailing_separator"]["reason"] == \
        "raised in src/calc/parse.py:9, a measured source file"
    assert "discounted() from src/calc/discount.py" in f["tests/test_discount.py::test_save10"]["reason"]
    fixture = f["tests/test_missing_fixture.py::test_total_of_basket"]
    assert "fixture 'basket' not found" in fixture["reason"]
    assert fixture["location"] == "tests/test_missing_fixture.py:4"
    assert fixture["signature"] == "fixture error: fixture 'basket' not found @ tests/test_missing_fixture.py:4"
    assert "sum_prices" in f["tests/test_wrong_mock.py::test_average_uses_total"]["reason"]
    assert "collection error" in f["tests/test_report_import.py"]["reason"]
    assert "pytest-timeout" in f["tests/test_slow.py::test_waits_for_rates_service"]["reason"]
    assert "connection refused" in f["tests/test_rates.py::test_fetch_rate_from_service"]["reason"]
    assert "pytest-rerunfailures" in f["tests/test_flaky_marker.py::test_total_eventually"]["reason"]
    assert "covbot's rerun pass" in f["tests/test_flaky_order.py::test_average_warm_cache"]["reason"]
    # No reason leaks the temporary checkout's absolute path.
    root = str(corpus_run["project"])
    assert not any(root in x["reason"] or root in x["traceback"] for x in f.values())


def test_rerun_pass_reruns_only_the_failed_tests(corpus_run):
    summary = corpus_run["rerun"]
    assert summary.ran
    # Collection errors are not rerun; everything else that failed is, once.
    failed_once = [i for i, c in corpus.expected().items()
                   if i != "tests/test_report_import.py" and "flaky_marker" not in i]
    assert summary.rerun == len(failed_once)
    assert summary.passed == ["tests/test_flaky_order.py::test_average_warm_cache"]
    flaky = next(r for r in corpus_run["results"] if r.id.endswith("test_average_warm_cache"))
    assert flaky.attempts == ["failed", "passed"] and flaky.outcome == "passed"
    still = next(r for r in corpus_run["results"] if r.id.endswith("test_save10"))
    assert still.attempts == ["failed", "failed"] and still.outcome == "failed"
    # The rerun pass ran only those tests, not the suite.
    rerun_log = read_results_log(corpus_run["run"].workdir.parent / "rerun" / "results.jsonl")
    assert sorted(r.id for r in rerun_log) == sorted(failed_once)


def test_traceback_is_trimmed_to_project_frames(corpus_run):
    f = _by_id(corpus_run["tests"])["tests/test_rates.py::test_fetch_rate_from_service"]
    tb = f["traceback"]
    assert tb.splitlines()[0] == "tests/test_rates.py:15"
    assert "src/calc/net.py:7 in fetch_rate" in tb
    assert "socket.py" not in tb
    assert tb.rstrip().endswith("ConnectionRefusedError: [Errno 111] Connection refused")
    assert f["location"] == "src/calc/net.py:7"


def test_every_failure_is_in_exactly_one_group(corpus_run):
    t = corpus_run["tests"]
    grouped = [i for g in t["groups"] for i in g["tests"]]
    assert sorted(grouped) == sorted(f["id"] for f in t["failures"])
    assert all(g["count"] == len(g["tests"]) for g in t["groups"])


def test_source_that_cannot_be_imported_is_a_production_bug(tmp_path, clean_environ):
    """A syntax error or a missing dependency in source breaks collection of the tests
    that import it: the source is to blame, not the tests."""
    project = corpus.seed(tmp_path / "p", ())
    (project / "src/calc/discount.py").write_text("def discounted(amount, code)\n    return amount\n")
    (project / "src/calc/parse.py").write_text("import calc.rates_client\n")
    run = _run(project, tmp_path / "out")
    t = triage.build_tests(load_results(run.junit_files, run.results_file), base=None,
                           measured={"src/calc/engine.py"}, root=project,
                           read_source=source_reader(project))
    got = {f["id"]: f for f in t["failures"]}
    assert set(got) == {"tests/test_discount.py", "tests/test_parse.py"}
    assert got["tests/test_discount.py"]["category"] == "production bug"
    assert got["tests/test_discount.py"]["location"] == "src/calc/discount.py:1"
    assert got["tests/test_discount.py"]["signature"].startswith("SyntaxError: expected ':'")
    assert got["tests/test_parse.py"]["category"] == "production bug"
    assert "src/calc/parse.py:1" in got["tests/test_parse.py"]["reason"]


# -- grouping --------------------------------------------------------------------------

MANY_IMPORT = """
import pytest

@pytest.mark.parametrize("n", range(40))
def test_uses_exporter(n):
    from calc.export import to_csv  # the module was never added
    assert to_csv([n])
"""

MANY_MODULES = "from calc.engine import format_total\n\n\ndef test_{n}():\n    assert format_total(1)\n"


def test_forty_tests_failing_on_one_import_error_are_one_group(tmp_path, clean_environ):
    project = corpus.seed(tmp_path / "p", ())
    (project / "tests" / "test_export.py").write_text(MANY_IMPORT)
    for n in range(3):
        (project / "tests" / f"test_fmt_{n}.py").write_text(MANY_MODULES.format(n=n))
    run = _run(project, tmp_path / "out")
    t = triage.build_tests(load_results(run.junit_files, run.results_file), base=None,
                           measured=corpus.SOURCE_FILES, root=project,
                           read_source=source_reader(project))
    assert t["failed"] == 40 and t["errors"] == 3
    sizes = sorted((g["count"], g["signature"]) for g in t["groups"])
    assert len(sizes) == 2, sizes
    assert sizes[1][0] == 40 and sizes[1][1] == "ModuleNotFoundError: No module named 'calc.export'"
    # Three test modules that cannot import one name: one group too, whatever their paths.
    assert sizes[0][0] == 3 and sizes[0][1].startswith("ImportError: cannot import name 'format_total'")
    assert all(f["category"] == "test bug" for f in t["failures"])


def test_per_class_table(corpus_run, capsys):
    """The corpus score per class (printed with -s; asserted to be all right)."""
    got = _by_id(corpus_run["tests"])
    rows: dict[str, list[int]] = {}
    for test_id, category in corpus.expected().items():
        right = got.get(test_id, {}).get("category") == category
        rows.setdefault(category, [0, 0])
        rows[category][0] += right
        rows[category][1] += 1
    with capsys.disabled():
        print("\nclass            right / seeded")
        for category, (right, total) in sorted(rows.items()):
            print(f"{category:16} {right} / {total}")
    assert all(right == total for right, total in rows.values())
    assert set(rows) == {"test bug", "production bug", "flaky", "environment"}
