"""Property tests (Hypothesis) for the coverage arithmetic.

The diff parser's properties, on real ``git diff`` output, are in
tests/integration/test_diff_properties.py.
"""

from __future__ import annotations

import itertools

import coverage.results as cr
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.stages.diff_coverage import diff_coverage
from bot.model.diff import ChangedFile, Diff
from bot.inputs.merge import merge
from bot.model.coverage import CoverageSet, FileCoverage
from bot.model.numbers import display_percent

PATHS = st.sampled_from(["a.py", "pkg/b.py", "pkg/c d.py", "x/y/z.py"])


@st.composite
def file_coverage(draw, path):
    statements = draw(st.sets(st.integers(1, 60), max_size=30))
    missing = draw(st.sets(st.sampled_from(sorted(statements)), max_size=len(statements))) if statements else set()
    branch_lines = {}
    for line in draw(st.sets(st.sampled_from(sorted(statements)), max_size=5)) if statements else ():
        total = draw(st.integers(1, 4))
        branch_lines[line] = (total, draw(st.integers(0, total)))
    fc = FileCoverage(path, set(statements), set(missing), branch_lines)
    fc.branches = sum(t for t, _ in branch_lines.values())
    fc.missing_branches = sum(m for _, m in branch_lines.values())
    return fc


@st.composite
def coverage_sets(draw):
    cs = CoverageSet(has_branches=True)
    for path in draw(st.sets(PATHS, max_size=4)):
        cs.files[path] = draw(file_coverage(path))
    return cs


@st.composite
def diffs(draw):
    d = Diff()
    for path in draw(st.sets(PATHS, max_size=4)):
        d.files[path] = ChangedFile(path=path, added_lines=draw(st.sets(st.integers(1, 70), max_size=20)))
    return d


@settings(max_examples=200, deadline=None)
@given(cov=coverage_sets())
def test_diff_coverage_of_an_empty_diff_is_na(cov):
    result = diff_coverage(cov, Diff())
    assert result.percent_covered is None and result.num_lines == 0 and result.note


@settings(max_examples=200, deadline=None)
@given(cov=coverage_sets(), diff=diffs())
def test_covered_plus_missing_is_the_executable_changed_lines(cov, diff):
    result = diff_coverage(cov, diff)
    executable = sum(len(f.added_lines & cov.files[p].statements) for p, f in diff.files.items() if p in cov.files)
    missing = sum(len(f.added_lines & cov.files[p].missing) for p, f in diff.files.items() if p in cov.files)
    assert result.num_covered + result.num_violations == result.num_lines == executable
    assert result.num_violations == missing
    assert sum(f.changed_lines for f in result.files.values()) == executable
    if executable == 0:
        assert result.percent_covered is None
    else:
        assert result.percent_covered == display_percent(100 * (executable - missing) / executable)
        assert (result.percent_covered == 100) == (missing == 0)
        assert (result.percent_covered == 0) == (missing == executable)


def _canonical(cs: CoverageSet) -> dict:
    return {p: (sorted(f.statements), sorted(f.missing), sorted(f.branch_lines.items()), f.branches,
                f.missing_branches) for p, f in cs.files.items()}


@settings(max_examples=150, deadline=None)
@given(shards=st.lists(coverage_sets(), min_size=2, max_size=4))
def test_combining_shards_is_order_independent(shards):
    results = [_canonical(merge(list(order))) for order in itertools.permutations(shards)]
    assert all(r == results[0] for r in results)
    combined = merge(shards)
    for path, fc in combined.files.items():
        inputs = [s.files[path] for s in shards if path in s.files]
        assert fc.statements == set().union(*(f.statements for f in inputs))
        covered = set().union(*(f.statements - f.missing for f in inputs))
        assert fc.missing == fc.statements - covered     # covered by any shard = covered


@settings(max_examples=500, deadline=None)
@given(pc=st.floats(min_value=0, max_value=100, allow_nan=False))
def test_display_percent_never_rounds_to_the_ends(pc):
    shown = display_percent(pc)
    if 0 < pc < 100:
        assert 0 < shown < 100
    assert f"{shown:.2f}" == cr.display_covered(pc, 2)
    assert abs(shown - pc) <= 0.01   # half a unit, or a whole one when kept off 0 and 100


@settings(max_examples=300, deadline=None)
@given(total=st.integers(1, 10**6), data=st.data())
def test_rounded_fraction_matches_coverage(total, data):
    covered = data.draw(st.integers(0, total))
    ref = cr.Numbers(precision=2, n_files=1, n_statements=total, n_missing=total - covered)
    from bot.model.numbers import Numbers

    assert f"{Numbers(total, total - covered).percent_covered:.2f}" == ref.pc_covered_str
