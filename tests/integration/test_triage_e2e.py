"""``covbot report --base main --baseline rerun`` on real git repositories of the corpus
project: defects introduced by the PR are *new*, defects already on the base are
*pre-existing*, a defect the PR removes is *fixed*; the comment's test section says so."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support.repo_factory import Repo, clean_env
from support.triage_corpus import corpus

CONFIG = ("test-command: python -m pytest -q -p no:cacheprovider -p no:hypothesispytest -p no:benchmark\n"
          "gate: [new-failures, pass-rate]\n")


def _commit_tree(repo: Repo, defects, message: str, extra: dict | None = None) -> None:
    # Start from a clean tree so a defect left out of ``defects`` is really gone.
    for p in list(repo.path.iterdir()):
        if p.name != ".git":
            subprocess.run(["rm", "-rf", str(p)], check=True)
    corpus.seed(repo.path, defects)
    (repo.path / ".covbot.yml").write_text(CONFIG)
    repo.commit(extra or {}, message)


def _report(repo: Repo, out: Path) -> tuple[int, dict, str]:
    env = clean_env(GITHUB_REPOSITORY="acme/calc", GITHUB_SERVER_URL="https://github.example")
    proc = subprocess.run([sys.executable, "-m", "bot", "report", "--base", "main", "--baseline", "rerun",
                           "--output-dir", str(out)], cwd=repo.path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads((out / "report.json").read_text())
    return proc.returncode, report, (out / "comment.md").read_text()


def _section(comment: str) -> str:
    # the tests section: from its summary to the next section's (tiers, trend) or the footer
    m = re.search(r"^<summary>Tests: .*?(?=^<summary>🎯|^<summary>Coverage trend|^<sub>head)", comment, re.S | re.M)
    assert m, comment
    return m.group(0)


@pytest.fixture(scope="module")
def introduced(tmp_path_factory):
    """Base: the clean project. PR: every defect."""
    root = tmp_path_factory.mktemp("introduced")
    repo = Repo.create(root / "repo")
    _commit_tree(repo, (), "clean project")
    repo.checkout("pr", new=True)
    _commit_tree(repo, corpus.ALL, "seed every defect")
    code, report, comment = _report(repo, root / "out")
    return {"repo": repo, "code": code, "report": report, "comment": comment}


@pytest.fixture(scope="module")
def inherited(tmp_path_factory):
    """Base: every defect. PR: the same defects but one (source_exception, fixed) and a
    harmless change."""
    root = tmp_path_factory.mktemp("inherited")
    repo = Repo.create(root / "repo")
    _commit_tree(repo, corpus.ALL, "project with every defect")
    repo.checkout("pr", new=True)
    _commit_tree(repo, [d for d in corpus.ALL if d != "source_exception"], "fix parse_prices",
                 {"NOTES.md": "Parsing now skips empty items.\n"})
    code, report, comment = _report(repo, root / "out")
    return {"repo": repo, "code": code, "report": report, "comment": comment}


def test_introduced_defects_are_new_with_their_class(introduced):
    tests = introduced["report"]["tests"]
    got = {f["id"]: f for f in tests["failures"]}
    assert set(got) == set(corpus.expected())
    for test_id, category in corpus.expected().items():
        assert got[test_id]["category"] == category, got[test_id]
        assert got[test_id]["status"] == "new", got[test_id]
    assert tests["fixed"] == []
    # The changed function is named as the evidence for the wrong return value, and the
    # changed line the test ran (line 8 of discount.py is the seeded defect).
    assert got["tests/test_discount.py::test_save10"]["reason"].endswith(
        "src/calc/discount.py, a measured source file; discounted() changed in this PR; "
        "runs 1 line this PR changed: src/calc/discount.py 8")
    assert got["tests/test_discount.py::test_save10"]["changed_lines_run"] == {"src/calc/discount.py": [8]}
    # The PR deleted parse.py's guard: the test ran no added line, but its traceback passes
    # through a file the PR changed, so it is not cleared; a broken module ran no test.
    assert got["tests/test_parse.py::test_parse_trailing_separator"]["changed_lines_run"] == {}
    assert "ran none" not in got["tests/test_parse.py::test_parse_trailing_separator"]["reason"]
    assert "ran none" not in got["tests/test_report_import.py"]["reason"]


def test_new_failures_fail_the_gate_but_flaky_tests_do_not(introduced):
    assert introduced["code"] == 1
    reasons = {r["rule"]: r for r in introduced["report"]["verdict"]["reasons"]}
    blocking = [i for i, c in corpus.expected().items() if c != "flaky"]
    assert reasons["new-failures"]["status"] == "failed"
    assert reasons["new-failures"]["message"].startswith(f"{len(blocking)} test(s)")
    assert reasons["pass-rate"]["status"] == "failed"


def test_introduced_comment_section(introduced):
    section = _section(introduced["comment"])
    t = introduced["report"]["tests"]
    # a flaky test is a pass that needed a retry: counted once, among the passes
    assert f"{t['passed']} passed (2 after a retry), {t['failed']} failed, {t['errors']} errors ·" in section
    assert f"pass rate {t['pass_rate']:.2f}% (below the 98% target)" in section
    broken = [i for i, c in corpus.expected().items() if c != "flaky"]
    assert f"**New failures: {len(broken)} tests in " in section
    for category in ("production bug", "test bug", "environment"):
        assert f"**{category}**" in section
    # New failures come before the flaky list; flaky tests are listed with why.
    assert section.index("New failures") < section.index("**Flaky: 2 tests**")
    assert "passed when covbot's rerun pass retried it" in section
    assert "passed when pytest-rerunfailures retried it" in section
    # file:line links point at the PR head.
    head = introduced["report"]["head"]["sha"]
    assert f"(https://github.example/acme/calc/blob/{head}/src/calc/parse.py#L9)" in section
    # Tracebacks are collapsed and trimmed to project frames.
    assert section.count("<details>") >= len(broken) - 1
    assert "socket.py" not in section and "site-packages" not in section
    assert "Pre-existing" not in section


def test_inherited_defects_are_pre_existing_and_the_fix_is_listed(inherited):
    tests = inherited["report"]["tests"]
    got = {f["id"]: f for f in tests["failures"]}
    fixed_id = "tests/test_parse.py::test_parse_trailing_separator"
    expected = {i: c for i, c in corpus.expected().items() if i != fixed_id}
    assert set(got) == set(expected)
    for test_id, category in expected.items():
        assert got[test_id]["category"] == category, got[test_id]
        # Failing on the base too, or flaky there too (the rerunfailures test): pre-existing.
        assert got[test_id]["status"] == "pre-existing", got[test_id]
    assert tests["fixed"] == [{"id": fixed_id}]
    assert inherited["code"] == 1     # pass-rate still below 98%
    reasons = {r["rule"]: r for r in inherited["report"]["verdict"]["reasons"]}
    assert reasons["new-failures"]["status"] == "passed"


def test_inherited_comment_section(inherited):
    section = _section(inherited["comment"])
    assert "No new failures." in section
    assert "<summary>Pre-existing failures: 7 tests in 7 groups, failing on the base too</summary>" in section
    assert "**Fixed: 1 test** failed on the base and pass now" in section
    assert "`tests/test_parse.py::test_parse_trailing_separator`" in section


@pytest.mark.parametrize("setting, category", [("true", "flaky"), ("false", "test bug")])
def test_rerun_failures_setting_turns_the_rerun_pass_on_and_off(tmp_path, setting, category):
    repo = Repo.create(tmp_path / "repo")
    _commit_tree(repo, (), "clean project")
    repo.checkout("pr", new=True)
    _commit_tree(repo, ("flaky_rerun_pass",), "order-dependent test")
    with open(repo.path / ".covbot.yml", "a") as fh:
        fh.write(f"rerun-failures: {setting}\n")
    code, report, _ = _report_none(repo, tmp_path / "out")
    (f,) = report["tests"]["failures"]
    assert f["id"] == "tests/test_flaky_order.py::test_average_warm_cache"
    assert f["category"] == category
    assert f["attempts"] == (["failed", "passed"] if setting == "true" else ["failed"])


def _report_none(repo: Repo, out: Path):
    env = clean_env()
    proc = subprocess.run([sys.executable, "-m", "bot", "report", "--base", "main", "--baseline", "none",
                           "--output-dir", str(out)], cwd=repo.path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads((out / "report.json").read_text()), (out / "comment.md").read_text()
