"""The PR run's HTML report through ``covbot report`` on a real repository: a huge PR
keeps the page small, its first changed lines shown and the rest by their figures."""

from __future__ import annotations

import json

import pytest

from support.browser import dump_dom, parse
from support.repo_factory import Repo, clean_env, sample_pyproject

BASE = {"pyproject.toml": sample_pyproject(relative_files=True), "src/pkg/__init__.py": "",
        "tests/test_small.py": "from pkg.small import f\n\n\ndef test_f():\n    assert f(1) == 1\n",
        "src/pkg/small.py": "def f(x):\n    return x\n"}


def test_a_huge_pr_lists_its_first_changed_lines_and_the_rest_by_figures(tmp_path):
    repo = Repo.create(tmp_path / "repo", BASE)
    repo.checkout("pr", new=True)
    huge = "".join(f"v{i} = {i}\n" for i in range(20_005))
    repo.commit({"src/pkg/small.py": "def f(x):\n    return x\n\n\ndef g(x):\n    return -x\n",
                 "src/pkg/huge.py": huge,
                 "tests/test_huge.py": "import pkg.huge\n\n\ndef test_huge():\n    assert pkg.huge.v3 == 3\n"}, "PR")
    repo.coverage_run_pytest()
    out = tmp_path / "out"
    proc = repo.covbot("report", "--no-run", "--coverage-file", ".coverage", "--base", "main", "--baseline", "none",
                       "--output-dir", str(out))
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["diff"]["files"]["src/pkg/small.py"]["missing_lines"] == [6]
    page = out / "html" / "index.html"
    assert page.stat().st_size < 2_000_000
    dom = parse(dump_dom(page))
    small = dom.find("section", data_path="src/pkg/small.py")
    assert [int(r.attrs["data-line"]) for r in small.find_all("tr", cls="missing")] == [6]
    big = dom.find("section", data_path="src/pkg/huge.py")
    assert not big.find_all("tr", cls="line") and "Not shown" in big.text()
    assert "report.json" in big.text()


def test_lines_are_numbered_as_python_numbers_them(tmp_path):
    """A form feed (``\\f``) is whitespace to Python, not a line break, and ``\\r\\n`` is
    one break: the page's line numbers must be coverage.py's, so the missing changed
    line is the one marked, and the source text on that row is that line's."""
    repo = Repo.create(tmp_path / "repo", BASE)
    repo.checkout("pr", new=True)
    src = ("def f(x):\r\n    return x\r\n\x0c\r\n\r\ndef g(x):\r\n    if x:\x0c\r\n        return 1\r\n"
           "    return -x\r\n")
    repo.commit({"src/pkg/small.py": src,
                 "tests/test_small.py": "from pkg.small import f, g\n\n\ndef test_f():\n    assert f(1) == 1\n"
                                        "    assert g(0) == 0\n"}, "PR")
    repo.coverage_run_pytest()
    out = tmp_path / "out"
    proc = repo.covbot("report", "--no-run", "--coverage-file", ".coverage", "--base", "main", "--baseline", "none",
                       "--output-dir", str(out))
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads((out / "report.json").read_text())
    missing = report["diff"]["files"]["src/pkg/small.py"]["missing_lines"]
    assert missing == [7]     # `return 1`: the branch not taken, on Python's line 7
    dom = parse(dump_dom(out / "html" / "index.html"))
    small = dom.find("section", data_path="src/pkg/small.py")
    rows = small.find_all("tr", cls="missing")
    assert [int(r.attrs["data-line"]) for r in rows] == missing
    assert "return 1" in rows[0].find("td", cls="code").text()
    numbered = [int(r.attrs["data-line"]) for r in small.find_all("tr", cls="line")]
    assert numbered == list(range(1, 9))


@pytest.mark.parametrize("serial", [False, True], ids=["forked", "serial"])
def test_a_page_that_cannot_be_written_is_a_warning_and_the_comment_does_not_point_to_it(tmp_path, serial):
    """The page is written beside the comment (by a forked child when one can be): when
    it cannot be written, report.json and comment.md still are, with a warning and no
    pointer to a page that is not there; the verdict does not change."""
    repo = Repo.create(tmp_path / "repo", BASE)
    repo.checkout("pr", new=True)
    repo.commit({"src/pkg/small.py": "def f(x):\n    return x\n\n\ndef g(x):\n    return -x\n"}, "PR")
    repo.coverage_run_pytest()
    runs = {}
    for name, blocked in (("ok", False), ("blocked", True)):
        out = tmp_path / f"out-{name}"
        out.mkdir()
        if blocked:
            (out / "html").write_text("a file where the page's folder goes\n", encoding="utf-8")
        env = dict(clean_env(), COVBOT_SERIAL="1") if serial else None
        proc = repo.covbot("report", "--no-run", "--coverage-file", ".coverage", "--base", "main",
                           "--baseline", "none", "--output-dir", str(out), env=env)
        runs[name] = (proc, json.loads((out / "report.json").read_text()), (out / "comment.md").read_text())
    (ok, ok_report, ok_comment), (bad, bad_report, bad_comment) = runs["ok"], runs["blocked"]
    assert bad.returncode == ok.returncode in (0, 1), bad.stderr
    assert ok_report["links"]["html_report"] and "index.html" in ok_comment   # the footer points to it
    assert "html_report" not in bad_report["links"]
    assert "index.html" not in bad_comment
    assert [w for w in bad_report["warnings"] if w.startswith("the HTML report was not written: ")]
    assert bad_report["verdict"] == ok_report["verdict"]
    assert (tmp_path / "out-blocked" / "html").read_text() == "a file where the page's folder goes\n"
