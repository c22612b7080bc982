"""Comment safety: text from the pull request (file names, test names, failure messages,
tracebacks, branch names) renders as inert text, and the body always fits GitHub's limit.

Comments are rendered from reports built by the real stages (analyze, triage, gate) out
of hostile inputs, then parsed with markdown-it-py (CommonMark + GFM tables) and checked
structurally: only covbot's own HTML, links, headings and code blocks exist; every table
row keeps its column count; nothing can mention a user or team or link an issue.
"""

from __future__ import annotations

import re

import pytest

from bot.stages import analyze, gate, triage
from bot.model.config import Config
from bot.model.diff import ChangedFile, Diff
from bot.inputs.results import TestResult as JUnitResult
from bot.model.coverage import CoverageSet, FileCoverage
from bot.render.markdown import COMMENT_LIMIT, render_comment, render_summary
from support.hostile import HOSTILE
from support.markdown_check import ZWSP, walk, check_inert

markdown_it = pytest.importorskip("markdown_it")


# -- building reports ---------------------------------------------------------------------

def _hostile_paths() -> list[str]:
    out = []
    for i, h in enumerate(HOSTILE):
        clean = h.replace("\n", " ").replace("\r", " ").replace("\x00", "")[:120]
        out.append(f"src/{clean}/m{i}.py")
    return out


def build_report(paths: list[str], *, failures: list[tuple[str, str, str]] = (), lines: int = 6,
                 warnings: list[str] = (), base_ref: str = "main", with_base: bool = True,
                 links: dict | None = None, indirect: int = 0):
    cfg = Config()
    head = CoverageSet(has_branches=True)
    base = CoverageSet(has_branches=True) if with_base else None
    diff = Diff()
    for i, p in enumerate(paths):
        statements = set(range(1, lines + 1))
        missing = {ln for ln in statements if (ln + i) % 3 == 0}
        head.files[p] = FileCoverage(p, statements, missing, {2: (2, 1)}, branches=2, missing_branches=1)
        if base is not None:
            base.files[p] = FileCoverage(p, statements, set(statements), {}, 0, 0)
        diff.files[p] = ChangedFile(path=p, status="modified" if i % 2 else "added",
                                    added_lines=set(range(1, lines + 1)))
    for i in range(indirect):   # not in the diff, coverage changed: indirect changes
        p = f"lib/indirect_{i}.py"
        head.files[p] = FileCoverage(p, set(range(1, 11)), {1, 2})
        base.files[p] = FileCoverage(p, set(range(1, 11)), {1, 2, 3, 4, 5})
    diff.deleted = [f"gone/{h[:50]}.py".replace("\n", " ") for h in HOSTILE[:5]]
    report = analyze.build_report(
        head=head, base=base, diff=diff, config=cfg,
        head_info={"sha": "a" * 40, "ref": "feature/<b>@octocat</b>#1"},
        base_info={"ref": base_ref, "sha": "b" * 40, "merge_base": "c" * 40},
        baseline_info={"mode": "file", "description": "report <i>@ghost</i> #9"})
    report.links = links or {}
    results = []
    for tid, message, text in failures:
        results.append(JUnitResult(id=tid, outcome="failed", file=tid.split("::")[0], message=message,
                                  text=text, exc_type="AssertionError", attempts=["failed"]))
    results.append(JUnitResult(id="tests/test_ok.py::test_fine", outcome="passed", attempts=["passed"]))
    report.tests = triage.build_tests(results, base=None, measured=set(head.files), config=cfg)
    report.warnings.extend(warnings)
    report.verdict = gate.evaluate(report, cfg)
    return report


def hostile_report(**kw):
    failures = []
    for i, h in enumerate(HOSTILE):
        tid = f"tests/test_{i}.py::test_{h[:80]}"
        failures.append((tid, f"AssertionError: {h}", f"def test():\n>   assert {h!r}\nE   {h}\n{h}"))
    return build_report(_hostile_paths(), failures=failures, **kw)


# -- the tests ----------------------------------------------------------------------------

def test_the_checker_catches_what_it_looks_for():
    """The structural checks are not vacuous: raw PR text fails each of them."""
    for bad in ("<script>x</script>", "hi @octocat", "see #12", "| a | b |\n|---|---|\n| 1 | 2 | 3 |",
                "[x](https://evil.example)", "```\nopen fence", "---", "# Heading injected",
                "fixes GH-12", "see https://evil.example", "<!-- covbot:comment-id=x -->"):
        with pytest.raises(AssertionError):
            check_inert("<!-- covbot:comment-id=covbot -->\n" + bad + "\n")
    check_inert("<!-- covbot:comment-id=covbot -->\n### ✅ covbot\n\nplain @\u200bx #\u200b1\n")


@pytest.mark.parametrize("with_base", [True, False])
def test_hostile_names_and_messages_render_inert(with_base):
    report = hostile_report(with_base=with_base, warnings=HOSTILE[:8])
    comment = render_comment(report)
    tokens = check_inert(comment)
    assert len(comment) <= COMMENT_LIMIT
    # Everything is still there, as text: each file row is present (code spans keep names).
    code = " ".join(t.content for t in walk(tokens) if t.type in ("code_inline", "fence")).replace(ZWSP, "")
    for path in _hostile_paths()[:10]:
        shown = path.replace("|", "\u2502").replace("\t", " ")[:119]
        assert shown[:40] in code, path
    summary = render_summary(report)
    check_inert(summary)


def test_links_only_go_to_the_repository():
    links = {"server_url": "https://github.com", "repository": "acme/widgets", "head_sha": "a" * 40}
    report = hostile_report(links=links)
    comment = render_comment(report)
    tokens = check_inert(comment, link_prefix="https://github.com/acme/widgets/blob/" + "a" * 40 + "/")
    hrefs = [t.attrs["href"] for t in walk(tokens) if t.type == "link_open"]
    assert hrefs, "line links expected"
    for h in hrefs:
        assert " " not in h and "<" not in h and ">" not in h and "`" not in h


@pytest.mark.parametrize("text", HOSTILE)
def test_each_hostile_string_alone_in_every_slot(text):
    """One hostile string at a time in a file name, test id, message, traceback, warning and ref."""
    path = "src/" + text.replace("\n", " ").replace("\x00", "")[:150] + ".py"
    report = build_report([path], failures=[(f"tests/t.py::test_{text}", text, text)],
                          warnings=[text], base_ref=text)
    comment = render_comment(report)
    check_inert(comment)


def test_thousands_of_changed_files_fit_and_say_so():
    paths = [f"src/pkg{i // 100}/module_with_a_long_name_{i}.py" for i in range(5000)]
    report = build_report(paths, lines=40)
    comment = render_comment(report, max_files=10_000)
    assert len(comment) <= COMMENT_LIMIT
    assert "shortened to fit GitHub's 65,536-character limit" in comment
    check_inert(comment)
    # The most important parts survive: the headline and the totals.
    assert "covbot: gate" in comment and "| Coverage |" in comment
    # The summary (1 MiB limit) lists every changed file.
    summary = render_summary(report)
    assert sum(1 for p in paths if f"`{p}`" in summary) == len(paths)


def test_least_important_sections_go_first():
    """Over the limit, the indirect changes (priority 40) go before the changed files (80)."""
    paths = [f"src/m{i}.py" for i in range(60)]
    report = build_report(paths, indirect=1500)
    full = render_comment(report, max_files=2000, limit=10_000_000)
    assert "Indirect changes" in full and len(full) > COMMENT_LIMIT   # the premise
    comment = render_comment(report, max_files=2000)
    assert len(comment) <= COMMENT_LIMIT
    check_inert(comment)
    note = re.search(r"shortened to fit GitHub's 65,536-character limit \((.*?)\)", comment).group(1)
    assert note.startswith("indirect shortened"), note
    assert "changed" not in note and "totals" not in note
    # the changed files are all still listed; the indirect ones are summarised
    assert all(f"`{p}`" in comment for p in paths)
    assert "Indirect changes: 1500 file(s); see report.json." in comment
    assert "lib/indirect_0.py" not in comment


@pytest.mark.parametrize("size", [70_000, 1_000_000])
def test_huge_messages_and_warnings_fit(size):
    big = ("@octocat #1 <b>x</b> | `tick` " * (size // 30))[:size]
    report = build_report(["src/a.py"], failures=[("tests/t.py::test_big", big, big)], warnings=[big])
    comment = render_comment(report)
    assert len(comment) <= COMMENT_LIMIT
    check_inert(comment)
    # One long message does not push the numbers out: headline, totals and files stay.
    assert "covbot: gate" in comment and "| Coverage |" in comment and "`src/a.py`" in comment


def test_error_comment_is_inert():
    from bot.model.errors import InputError
    from bot.app.pipeline import error_comment

    errors = [InputError(f"coverage file /tmp/{h} is empty", f"regenerate {h}") for h in HOSTILE]
    check_inert(error_comment(errors, "covbot"))
