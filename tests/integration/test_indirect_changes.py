"""An indirect change is a file the PR did not touch whose coverage percentage moved.

A PR that only adds an exclusion rule changes the statement count of an untouched,
fully covered file: coverage.py still says 100% on both sides, so covbot must not list
it as an indirect change ("100.00% → 100.00%, ±0.00"). A file whose coverage really
moved (its test lost a call) still is one.
"""

from __future__ import annotations

from support.repo_factory import SAMPLE_PYPROJECT, Repo, run

HELPERS = '''
    def double(x):
        return 2 * x


    def debug_dump(x):
        return repr(x)
'''
KEEP = '''
    def a():
        return 1


    def b():
        return 2
'''
BASE = {
    "pyproject.toml": SAMPLE_PYPROJECT,
    "src/pkg/__init__.py": "",
    "src/pkg/helpers.py": HELPERS,
    "src/pkg/keep.py": KEEP,
    "tests/test_helpers.py": '''
        from pkg.helpers import debug_dump, double


        def test_double():
            assert double(2) == 4
            assert debug_dump(1) == "1"
    ''',
    "tests/test_keep.py": '''
        from pkg.keep import a, b


        def test_keep():
            assert a() + b() == 3
    ''',
}


def test_a_statement_count_that_moved_alone_is_no_indirect_change(tmp_path):
    repo = Repo.create(tmp_path / "proj", BASE)
    repo.checkout("pr", new=True)
    repo.commit({"pyproject.toml": SAMPLE_PYPROJECT + '\n[tool.coverage.report]\nexclude_also = ["def debug_dump"]\n',
                 "tests/test_keep.py": BASE["tests/test_keep.py"].replace("a() + b() == 3", "a() == 1")},
                "exclude debug helpers; test less of keep")
    report = repo.covbot_report("--base", "main", "--baseline", "rerun", "--fail-on", "none")

    # the reference: coverage.py on the PR and on a checkout of the base
    repo.coverage_run_pytest()
    head = repo.coverage_json()["files"]
    base_repo = Repo(tmp_path / "base")
    run(["git", "clone", "-q", "--branch", "main", str(repo.path), str(base_repo.path)], tmp_path)
    base_repo.coverage_run_pytest()
    base = base_repo.coverage_json()["files"]
    helpers, base_helpers = head["src/pkg/helpers.py"]["summary"], base["src/pkg/helpers.py"]["summary"]
    # the scenario: the statement count moved, coverage did not
    assert helpers["num_statements"] < base_helpers["num_statements"]
    assert helpers["percent_covered"] == base_helpers["percent_covered"] == 100.0
    keep, base_keep = head["src/pkg/keep.py"]["summary"], base["src/pkg/keep.py"]["summary"]
    assert keep["percent_covered"] < base_keep["percent_covered"]

    rows = {r["path"]: r for r in report["files"]}
    assert rows["src/pkg/helpers.py"]["statements"] == helpers["num_statements"]
    assert rows["src/pkg/helpers.py"]["delta"] == 0
    assert [p for p, r in rows.items() if r["indirect"]] == ["src/pkg/keep.py"]
    assert rows["src/pkg/keep.py"]["delta"] == round(keep["percent_covered"] - base_keep["percent_covered"], 2)
    comment = (repo.path / ".covbot-test-out" / "comment.md").read_text(encoding="utf-8")
    assert "Indirect changes: 1 file(s)" in comment and "src/pkg/helpers.py" not in comment
