"""The comment as a reviewer reads it on GitHub: ``covbot report`` on a real git
repository (a PR that leaves changed lines uncovered, breaks a test and adds a flaky
one), rendered with cmark-gfm (GitHub's renderer, GitHub's options) and checked on the
rendered HTML: what to do to pass, no visible backslash escapes, real failure messages,
test counts that add up; and ``--format text`` on every path."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support.repo_factory import Repo, clean_env

cmarkgfm = pytest.importorskip("cmarkgfm")

CONFIG = ("test-command: python -m pytest -q -p no:cacheprovider -p rerunfailures --reruns 1\n"
          "gate: [diff, new-failures]\n"
          "thresholds:\n  diff: 80\n  min-lines: 1\n"
          # a tier name with Markdown characters, shown in a <summary>
          "tiers:\n  - {name: every_file, min-statements: 1, target: 90}\n")

BASE = {
    "pyproject.toml": """\
        [tool.pytest.ini_options]
        pythonpath = ["src"]
        [tool.coverage.run]
        source = ["src"]
        branch = true
        """,
    ".covbot.yml": CONFIG,
    # records that the tests ran (the marker is named by the environment)
    "tests/conftest.py": """\
        import os

        if os.environ.get("READER_MARK"):
            open(os.environ["READER_MARK"], "a").close()
        """,
    "src/shop/__init__.py": "",
    "src/shop/pricing.py": """\
        from decimal import Decimal


        def unit_price(sku):
            return Decimal("2.50")


        def total(sku, qty):
            return unit_price(sku) * qty
        """,
    "tests/test_pricing.py": """\
        from decimal import Decimal

        from shop.pricing import total


        def test_total():
            assert total("a", 2) == Decimal("5.00")


        def test_bulk():
            assert total("a", 10) == Decimal("25.00")
        """,
}

PR = {
    "src/shop/pricing.py": """\
        from decimal import Decimal


        def unit_price(sku):
            return Decimal("2.50")


        def total(sku, qty):
            price = unit_price(sku) * qty
            if qty >= 10:
                price = price * Decimal("0.9")
            return price


        def refund(amount, reason):
            if reason == "damaged":
                return amount
            if reason == "late":
                return amount / 2
            return Decimal("0")
        """,
    "tests/test_flaky.py": """\
        import os
        from pathlib import Path

        MARK = Path(os.environ.get("TMPDIR", "/tmp")) / ("covbot-flaky-" + str(os.getppid()))


        def test_sometimes():
            if not MARK.exists():
                MARK.write_text("1")
                raise AssertionError("first attempt fails")
            MARK.unlink()
        """,
}


def _render(markdown: str) -> str:
    """The comment as GitHub shows it: cmark-gfm with GitHub's extensions, raw HTML kept."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)


def _report(repo: Repo, out: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = clean_env(GITHUB_REPOSITORY="acme/shop", GITHUB_SERVER_URL="https://github.example", **env_extra)
    return subprocess.run([sys.executable, "-m", "bot", "report", "--output-dir", str(out), *args],
                          cwd=repo.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def pr(tmp_path_factory):
    root = tmp_path_factory.mktemp("reader")
    repo = Repo.create(root / "repo", BASE)
    repo.checkout("pr", new=True)
    repo.commit(PR, "bulk discount and refunds")
    out = root / "out"
    proc = _report(repo, out, "--base", "main", "--baseline", "rerun")
    assert proc.returncode == 1, proc.stderr
    report = json.loads((out / "report.json").read_text())
    comment = (out / "comment.md").read_text()
    text = _report(repo, root / "out-text", "--base", "main", "--baseline", "rerun", "--format", "text")
    assert text.returncode == 1, text.stderr
    return {"repo": repo, "root": root, "report": report, "comment": comment, "html": _render(comment),
            "text": text.stdout}


def _visible(fragment: str) -> str:
    """The text a browser shows for an HTML fragment."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _first_screen(page: str) -> str:
    """What shows before the first collapsed section."""
    return re.split(r"<details\b", page, maxsplit=1)[0]


# -- 2. what to do to pass ------------------------------------------------------------------

def test_failing_comment_says_which_changed_lines_to_cover_and_which_tests_to_fix(pr):
    # refund() (lines 16-20) never runs: 5 of 10 changed lines covered; the 80% target
    # needs 8, so 3 more: the first three uncovered lines, 16-18.
    d = pr["report"]["diff"]
    assert (d["num_covered"], d["num_lines"]) == (5, 10)
    screen = _visible(_first_screen(pr["html"]))
    line = next((ln for ln in screen.splitlines() if ln.startswith("To pass:")), None)
    assert line is not None, screen
    assert "cover 3 more changed lines (src/shop/pricing.py 16-18)" in line
    assert "fix 1 failing test (tests/test_pricing.py::test_bulk)" in line
    assert "test_sometimes" not in line        # flaky: passed on a retry, nothing to fix
    assert re.search(r"to pass: cover 3 more changed line\(s\) \(src/shop/pricing.py 16-18\); "
                     r"fix 1 failing test\(s\) \(tests/test_pricing.py::test_bulk\)", pr["text"]), pr["text"]


# -- 5. escaping that matches where the text lands ------------------------------------------

def test_summary_of_a_traceback_shows_the_test_id_without_backslashes(pr):
    summaries = re.findall(r"<summary>(.*?)</summary>", pr["html"], re.S)
    traceback = [s for s in summaries if "traceback" in s]
    assert traceback, summaries
    for s in summaries:
        assert "\\" not in _visible(s), s
    assert "traceback of tests/test_pricing.py::test_bulk" in [_visible(s) for s in traceback]


# -- 6. real failure messages ---------------------------------------------------------------

def test_failure_shows_the_real_message_not_the_grouping_signature(pr):
    page = _visible(pr["html"])
    head = page.split("traceback of", 1)[0]      # the group's line, before its traceback
    assert "assert Decimal('22.500') == Decimal('25.00')" in head
    assert "Decimal('N')" not in page
    assert "Decimal('N')" not in pr["text"]
    assert "assert Decimal('22.500') == Decimal('25.00')" in pr["text"]


# -- 7. one counting rule for tests ---------------------------------------------------------

COUNTS = re.compile(r"(\d+) passed(?: \((\d+) after a retry\))?((?:, \d+ (?:failed|errors|skipped|flaky))*)")


def test_test_counts_add_up_to_the_tests_run_everywhere(pr):
    # three tests: test_total passes, test_bulk fails, test_sometimes passes on its retry
    page = _visible(pr["html"])
    found = COUNTS.findall(page) + COUNTS.findall(pr["text"])
    assert len(found) >= 3, found
    for passed, retried, rest in found:
        others = dict((w, int(n)) for n, w in re.findall(r"(\d+) (\w+)", rest))
        assert "flaky" not in others, (passed, rest)           # a flaky test is a pass
        assert int(passed) + others.get("failed", 0) + others.get("errors", 0) == 3, (passed, rest)
        assert retried == "1"
    # the text output counts one failure, not the flaky test as a second one
    assert re.search(r"failures: 1 test\(s\) in 1 group\(s\), 1 new", pr["text"]), pr["text"]


# -- 4 and 8. the base is checked first; --format text on every path --------------------------

def test_missing_base_stops_before_any_test_runs_and_text_format_is_honoured(pr, tmp_path):
    mark = tmp_path / "tests-ran"
    proc = _report(pr["repo"], tmp_path / "out", "--base", "nope", "--format", "text", READER_MARK=str(mark))
    assert proc.returncode == 2, proc.stderr
    assert not mark.exists(), "the tests ran before the missing base was reported"
    assert not proc.stdout.startswith("<!--") and "###" not in proc.stdout, proc.stdout
    assert "could not compute coverage" in proc.stdout
    assert "'nope' not found" in proc.stdout
    assert "changes no files" not in proc.stdout
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert doc["error"] is True and "'nope' not found" in doc["errors"][0]["message"]
    assert "'nope' not found" in (tmp_path / "out" / "comment.md").read_text()


def test_base_that_resolves_to_head_is_a_warning_in_the_comment_and_on_stderr(pr, tmp_path):
    # a clone whose origin/HEAD points at the PR branch: the default base is HEAD itself
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(pr["repo"].path), str(clone)], check=True, env=clean_env())
    repo = Repo(clone)
    repo.git("checkout", "-q", "pr")
    repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/pr")
    proc = _report(repo, tmp_path / "out", "--baseline", "none", "--fail-on", "none")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"warning: the base '(origin\/)?pr' resolves to HEAD's own", proc.stderr), proc.stderr
    page = _visible(_render((tmp_path / "out" / "comment.md").read_text()))
    assert "resolves to HEAD's own" in _first_screen(page)


def test_unknown_gate_rule_reads_as_one_plain_sentence(tmp_path):
    repo = Repo.create(tmp_path / "repo", {**BASE, ".covbot.yml": "gate: [dif]\n"})
    proc = _report(repo, tmp_path / "out", "--base", "main")
    assert proc.returncode == 2, proc.stderr
    assert "unknown gate rule 'dif' (did you mean 'diff'?)" in proc.stderr
    assert "must be unknown" not in proc.stderr
    assert "Traceback" not in proc.stderr


# -- 3. incomplete inputs first -------------------------------------------------------------

HANGS = """\
    import time

    from shop.pricing import total


    def test_a_first():
        assert total("a", 1) == total("a", 1)


    def test_hangs():
        time.sleep(60)
    """


def test_a_run_cut_short_leads_the_comment_and_its_partial_numbers_are_not_judged(tmp_path):
    repo = Repo.create(tmp_path / "repo", {**BASE, ".covbot.yml": "test-command: python -m pytest -q -p no:cacheprovider\n"
                                           "gate: [diff, total-drop, new-failures]\n"})
    repo.checkout("pr", new=True)
    repo.commit({"src/shop/pricing.py": PR["src/shop/pricing.py"], "tests/test_slow.py": HANGS}, "slow test")
    out = tmp_path / "out"
    proc = _report(repo, out, "--base", "main", "--baseline", "none", "--timeout", "8")
    assert proc.returncode == 2, proc.stderr
    report = json.loads((out / "report.json").read_text())
    page = _visible(_render((out / "comment.md").read_text()))
    body = page.split("covbot: gate failed", 1)[1].strip()
    # the first thing after the verdict is that the run is incomplete
    assert body.startswith("⚠️ Incomplete:"), body[:300]
    reasons = {r["rule"]: r for r in report["verdict"]["reasons"]}
    assert reasons["diff"]["status"] == "skipped" and "not judged" in reasons["diff"]["message"]
    assert reasons["total-drop"]["status"] == "skipped"
    assert reasons["inputs"]["status"] == "failed"
    assert "▼" not in _first_screen(page) and "(partial)" in _first_screen(page)


def test_a_run_cut_short_counts_the_tests_that_never_ran(tmp_path):
    # the suite hangs in its 4th test: the three after it are collected but never reached
    slow = textwrap.dedent(HANGS) + "".join(f"\n\ndef test_after_{i}():\n    assert True\n" for i in range(3))
    repo = Repo.create(tmp_path / "repo", {**BASE, ".covbot.yml": "test-command: python -m pytest -q -p no:cacheprovider\n"
                                           "gate: [diff, new-failures]\n"})
    repo.checkout("pr", new=True)
    repo.commit({"tests/test_slow.py": slow}, "slow test")
    listed = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                            cwd=repo.path, env=clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
                            stdout=subprocess.PIPE, text=True, timeout=120).stdout
    collected = [ln for ln in listed.splitlines() if "::" in ln]
    assert len(collected) == 7, listed              # pricing 2, slow 2, after 3
    out = tmp_path / "out"
    proc = _report(repo, out, "--base", "main", "--baseline", "none", "--timeout", "8")
    assert proc.returncode == 2, proc.stderr
    tests = json.loads((out / "report.json").read_text())["tests"]
    assert tests["not_run"] == 3
    # the counts of the tests line add up to what pytest collected
    assert tests["passed"] + tests["failed"] + tests["errors"] + tests["skipped"] + tests["not_run"] == len(collected)
    page = _visible(_render((out / "comment.md").read_text()))
    screen = _first_screen(page)
    incomplete = next(ln for ln in screen.splitlines() if ln.startswith("⚠️ Incomplete:"))
    assert "3 of 7 tests did not run." in incomplete, screen
    line = re.search(r"Tests (\d+) passed((?:, \d+ [a-z ]+?)*)(?: ·|\n|$)", screen)
    assert line, screen
    parts = dict((w.strip(), int(n)) for n, w in re.findall(r"(\d+) ([a-z ]+)", line.group(2)))
    assert parts.get("not run") == 3 and int(line.group(1)) + sum(parts.values()) == len(collected), line.group(0)
    text = _report(repo, tmp_path / "out-text", "--base", "main", "--baseline", "none", "--timeout", "8",
                   "--format", "text")
    assert "3 of 7 tests did not run" in text.stdout, text.stdout


# -- 9. a first screen of a few lines; the rest collapsed unless it must be acted on --------

def _opened(page: str) -> dict[str, bool]:
    """Each top-level <details> section's summary and whether it is open."""
    out, depth = {}, 0
    for m in re.finditer(r"<details( open)?>\s*<summary>(.*?)</summary>|</details>", page, re.S):
        if m.group(0) == "</details>":
            depth -= 1
            continue
        if depth == 0:
            out[re.split(r":| · ", _visible(m.group(2)))[0]] = bool(m.group(1))
        depth += 1
    return out


def test_first_screen_is_a_few_lines_and_only_what_must_be_acted_on_is_open(pr):
    screen = _first_screen(pr["html"])
    lines = [ln for ln in _visible(re.sub(r"</(p|li|h3|tr)>", "\n", screen)).splitlines() if ln.strip()]
    # verdict, headline, "To pass", the two failed rules
    assert len(lines) <= 12, lines
    assert lines[0].startswith("❌ covbot: gate failed") and lines[-1].startswith("❌ new-failures"), lines
    assert "<table>" not in screen                     # the totals table repeated the headline
    # 1. the measure is named once, at the top, for files, tiers and the goal alike
    assert _visible(screen).count("statements and branches, as coverage report") == 1
    assert "the same figure for every file, tier target and the goal" in _visible(screen)
    opened = _opened(pr["html"])
    assert opened["Totals"] is False
    assert opened["Changed files"] is True             # diff coverage fails: the lines to cover
    assert opened["Tests"] is True                     # a new failure
    assert opened["🎯 Tier targets"] is False           # tier-regression is not a gate rule here
    # each section is titled by its summary, not by a heading as well
    assert "#### Changed files" not in pr["comment"] and "#### Tests" not in pr["comment"]


def test_text_format_is_honoured_when_coverage_cannot_be_computed(pr, tmp_path):
    # a coverage file that is not there: no coverage, the error path
    proc = _report(pr["repo"], tmp_path / "out", "--base", "main", "--no-run", "--coverage-file", "missing.cov",
                   "--format", "text")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.startswith("covbot: could not compute coverage\n"), proc.stdout
    assert "<!--" not in proc.stdout and "###" not in proc.stdout
    assert "missing.cov" in proc.stdout



def test_totals_delta_column_holds_only_deltas(pr):
    # the totals table (collapsed): its Δ column holds signed numbers, no note stretching it
    table = re.search(r"<summary>Totals.*?<table>(.*?)</table>", pr["html"], re.S).group(1)
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        delta = _visible(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[-1]).strip()
        assert re.fullmatch(r"|0|[+-]\d+(\.\d+)?", delta), delta
    assert "Diff coverage: 5 of 10 changed lines covered; branches on changed lines: 2 of 6" in _visible(pr["html"])



def test_a_tier_rows_change_in_files_meeting_says_what_it_is_against(pr):
    # every_file: on the base src/shop/pricing.py met 90% (all 5 statements run), now it
    # does not (refund() never runs): one file fewer meets the target than on the base
    rows = [_visible(r) for r in re.findall(r"<tr>(.*?)</tr>", pr["html"], re.S) if "every_file" in r]
    assert any("0/1 at 90% (-1 vs base)" in r for r in rows), rows


# -- 1. one figure per file, everywhere -------------------------------------------------------

def _cells(page: str, needle: str) -> list[list[str]]:
    """The visible cells of every table row that mentions ``needle``."""
    return [[_visible(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", page, re.S) if needle in _visible(row)]


def test_a_file_has_one_figure_everywhere_and_the_goal_is_coverage_reports_total(pr, tmp_path):
    # coverage.py's own figures for the PR's code, measured here with the PR's settings (branch on)
    repo = pr["repo"]
    repo.coverage_run_pytest("-k", "not sometimes")
    try:
        data = repo.coverage_json()
        total = repo.coverage_report_total()
    finally:
        repo.git("clean", "-qfdx")
    figure = f"{data['files']['src/shop/pricing.py']['summary']['percent_covered']:.2f}%"
    statements_only = data["files"]["src/shop/pricing.py"]["summary"]["percent_statements_covered"]
    assert figure != f"{statements_only:.2f}%"          # the premise: the two measures differ here
    page = pr["html"]
    changed = [row for row in _cells(page, "src/shop/pricing.py") if len(row) == 5]   # Changed files
    tiered = [row for row in _cells(page, "src/shop/pricing.py") if len(row) == 6]    # the tier's table
    assert changed and tiered, _cells(page, "src/shop/pricing.py")
    assert changed[0][1] == figure and tiered[0][2] == figure
    report = pr["report"]
    (row,) = [r for r in report["files"] if r["path"] == "src/shop/pricing.py"]
    (member,) = [m for t in report["tiers"] for m in t["members"] if m["path"] == "src/shop/pricing.py"]
    assert f"{row['percent_covered']:.2f}%" == f"{member['percent_covered']:.2f}%" == figure
    # the totals and the goal are what `coverage report` prints as TOTAL
    assert report["totals"]["percent_covered"] == report["goal"]["current"] == pytest.approx(total, abs=0.005)
    goal_line = next(ln for ln in _visible(page).splitlines() if ln.startswith("Goal "))
    assert f"{total:.2f}% covered" in goal_line, goal_line
    assert "statements and branches to cover" in goal_line, goal_line


# -- 9. one rounding rule for a change: headline, totals table and trend caption ---------------

def _defs(count: int, body: int) -> str:
    """``count`` functions of ``body`` statements each: importing runs only the ``def`` lines."""
    return "".join(f"def f{i}():\n" + "".join(f"    x{j} = {j}\n" for j in range(body - 1)) + "    return 0\n\n\n"
                   for i in range(count))


def test_a_change_in_points_is_rounded_one_way_in_the_headline_the_totals_and_the_trend(tmp_path):
    # base: 3 of 9 statements run (33.33%); PR: 2 of 12 (16.67%). The exact change is
    # -16.666… (-16.67 rounded); the displayed figures differ by -16.66. The headline
    # used to say one and the trend caption the other.
    files = {"pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['src']\n"
                               "[tool.coverage.run]\nsource = ['src']\n",
             ".covbot.yml": "test-command: python -m pytest -q -p no:cacheprovider\n",
             "src/m.py": _defs(3, 2),
             "tests/test_m.py": "import m\n\n\ndef test_imports():\n    assert m\n"}
    repo = Repo.create(tmp_path / "repo", files)
    saved = repo.covbot("baseline", "save", "--remote", ".")
    assert saved.returncode == 0, saved.stderr
    repo.checkout("pr", new=True)
    repo.commit({"src/m.py": _defs(2, 5)}, "longer functions")
    out = tmp_path / "out"
    proc = _report(repo, out, "--base", "main", "--baseline", "auto", "--fail-on", "none")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    # coverage.py's own figures for both sides
    repo.coverage_run_pytest()
    head_total = repo.coverage_report_total()
    repo.checkout("main")
    repo.coverage_run_pytest()
    base_total = repo.coverage_report_total()
    assert (head_total, base_total) == (16.67, 33.33)
    assert report["totals"]["percent_covered"] == head_total and report["base_totals"]["percent_covered"] == base_total
    shown = f"{head_total - base_total:+.2f}"
    assert shown == "-16.66" and report["delta"] == -16.66
    page = _visible(_render((out / "comment.md").read_text()))
    assert f"Coverage 16.67% ({shown} ▼)" in page, page[:400]
    assert f"this PR 16.67% ({shown} against the last saved baseline)" in page
    totals = re.search(r"Coverage\s*33.33%\s*16.67%\s*(\S+)", page)
    assert totals and totals.group(1) == shown, page
    assert "-16.67" not in page


# -- 9. a 0-statement file and a deleted file ----------------------------------------------------

OLD = """\
    def legacy(x):
        if x:
            return 1
        return 2
    """


def test_empty_files_are_not_critical_at_100_and_deleted_files_are_counted_as_removed(tmp_path):
    config = ("test-command: python -m pytest -q -p no:cacheprovider\n"
              "gate: [diff]\nthresholds:\n  diff: 0\n"
              "tiers:\n  - {name: every_file, min-statements: 2, target: 50}\n"
              "critical:\n  paths: ['src/shop/**']\n  target: 70\n")
    repo = Repo.create(tmp_path / "repo", {**BASE, ".covbot.yml": config, "src/shop/old.py": OLD})
    repo.checkout("pr", new=True)
    repo.write({"src/shop/old.py": None})
    repo.commit({"src/shop/extra/__init__.py": ""}, "drop old.py, add an empty package")
    # coverage.py's view: both __init__.py files measured with no statements, old.py gone
    repo.coverage_run_pytest()
    data = repo.coverage_json()["files"]
    repo.git("clean", "-qfdx")
    empties = sorted(p for p, f in data.items() if f["summary"]["num_statements"] == 0)
    assert empties == ["src/shop/__init__.py", "src/shop/extra/__init__.py"] and "src/shop/old.py" not in data
    out = tmp_path / "out"
    proc = _report(repo, out, "--base", "main", "--baseline", "rerun")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    page = _render((out / "comment.md").read_text())
    rows = {r["path"]: r for r in report["files"]}
    for path in empties:
        assert rows[path]["target"] is None and not rows[path].get("critical"), rows[path]
        assert not [m for t in report["tiers"] for m in t["members"] if m["path"] == path]
        # never a tier row (a 6-cell table row) nor a critical file at 100%
        assert all(len(cells) != 6 for cells in _cells(page, path)), _cells(page, path)
    assert sum(t["critical"] for t in report["tiers"]) == 1          # pricing.py, not the empty files
    # the new empty package in Changed files: no statements, not "100%"
    (new_row,) = _cells(page, "src/shop/extra/__init__.py")
    assert new_row[1] == "no statements", new_row
    # the deleted file: named as deleted, in no table at 0% or 100%, counted as removed from its tier
    assert report["deleted_files"] == ["src/shop/old.py"]
    assert _cells(page, "src/shop/old.py") == []
    assert "1 file(s) deleted: src/shop/old.py" in _visible(page)
    (tier,) = [t for t in report["tiers"] if t["name"] == "every_file"]
    assert tier["removed"] == 1 and tier["base"]["files"] == tier["files"] + 1
    assert any("1 removed in this PR" in " ".join(cells) for cells in _cells(page, "every_file")), _cells(page, "every_file")


# -- 9. a pre-existing failure in a file the PR changes elsewhere ---------------------------------

WRONG = """\


    def test_unit_price():
        assert unit_price("a") == Decimal("3.00")
    """


def test_a_pre_existing_failure_is_not_changed_in_this_pr_when_only_its_files_changed(tmp_path):
    tests = textwrap.dedent(BASE["tests/test_pricing.py"]).replace("import total", "import total, unit_price") \
        + textwrap.dedent(WRONG)
    pricing = textwrap.dedent(BASE["src/shop/pricing.py"])
    repo = Repo.create(tmp_path / "repo", {**BASE, ".covbot.yml": "test-command: python -m pytest -q -p no:cacheprovider\n"
                                           "gate: [new-failures]\n", "tests/test_pricing.py": tests})
    repo.checkout("pr", new=True)
    # the PR edits both files, but neither unit_price() nor test_unit_price()
    repo.commit({"src/shop/pricing.py": pricing + "\n\ndef tax(x):\n    return x\n",
                 "tests/test_pricing.py": tests + "\n\ndef test_tax():\n    from shop.pricing import tax\n"
                                                   "    assert tax(1) == 1\n"}, "add tax()")
    out = tmp_path / "out"
    proc = _report(repo, out, "--base", "main", "--baseline", "rerun")
    assert proc.returncode == 0, proc.stderr               # the failure is the base's: no new failure
    (failure,) = json.loads((out / "report.json").read_text())["tests"]["failures"]
    assert failure["id"] == "tests/test_pricing.py::test_unit_price" and failure["status"] == "pre-existing"
    assert failure["category"] == "production bug", failure["reason"]
    page = _visible(_render((out / "comment.md").read_text()))
    assert "changed in this PR" not in failure["reason"] and "the test changed" not in failure["reason"]
    # and what the test ran (per-test contexts): none of the lines the PR changed
    assert failure["reason"].endswith("a measured source file; this PR changes src/shop/pricing.py, not unit_price(); "
                                      "it ran none of the lines this PR changed")
    assert failure["reason"] in page
    # the same failure once the PR does change unit_price(): now it says so
    repo.commit({"src/shop/pricing.py": pricing.replace('"2.50"', '"2.5"') + "\n\ndef tax(x):\n    return x\n"},
                "touch unit_price")
    proc = _report(repo, tmp_path / "out2", "--base", "main", "--baseline", "rerun")
    (failure,) = json.loads((tmp_path / "out2" / "report.json").read_text())["tests"]["failures"]
    assert "; unit_price() changed in this PR; runs 1 line this PR changed: src/shop/pricing.py " \
        in failure["reason"], failure["reason"]


def test_to_pass_stays_a_few_lines_on_a_large_pr(tmp_path):
    """Six new modules, each with scattered lines no test runs: "To pass" names the files
    with the most lines to cover and their first ranges, counts the rest, and the first
    screen stays a few lines; every line it leaves out is still in report.json."""
    repo = Repo.create(tmp_path / "repo", BASE)
    repo.checkout("pr", new=True)
    modules = {}
    for m in range(6):
        body = "".join(f"def f{i}(x):\n    if x:\n        return {i}\n    return -x\n\n\n" for i in range(30 + m))
        modules[f"src/shop/big{m}.py"] = body
    modules["tests/test_big.py"] = "".join(f"import shop.big{m}\n" for m in range(6)) + \
        "\n\ndef test_imports():\n    assert shop.big0.f0(0) == 0\n"
    repo.commit(modules, "six modules, barely tested")
    out = tmp_path / "out"
    proc = _report(repo, out, "--base", "main", "--baseline", "none")
    assert proc.returncode == 1, proc.stderr
    report = json.loads((out / "report.json").read_text())
    page = _render((out / "comment.md").read_text())
    screen = _visible(_first_screen(page))
    line = next(ln for ln in screen.splitlines() if ln.startswith("To pass:"))
    assert len(line) <= 420, line
    files = report["diff"]["files"]
    worst = sorted(files, key=lambda p: (-len(files[p]["missing_lines"]), p))
    named = re.findall(r"src/shop/big\d\.py", line)
    assert named == worst[:3], (named, worst)
    # each named file: its first six runs of lines, then how many lines more
    missing = files[worst[0]]["missing_lines"]
    runs = []
    for n in missing:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs[:6])
    rest = sum(b - a + 1 for a, b in runs[6:])
    assert f"{worst[0]} {shown}, +{rest} more;" in line, line
    assert re.search(r"\d+ in \d+ more file\(s\), under Changed files", line), line
    rendered = [ln for ln in _visible(re.sub(r"</(p|li|h3|tr)>", "\n", _first_screen(page))).splitlines()
                if ln.strip()]
    assert len(rendered) <= 12 and sum(len(ln) for ln in rendered) <= 1500, rendered
