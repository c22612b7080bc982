"""``covbot dashboard`` on data branches of every kind: hundreds of saves (fast and
small), entries written before the dashboard existed, hostile commit subjects, authors
and file names, and no data branch at all.

The data branches are written here with plain git (an orphan branch in a temporary
repository), or by real saves of real commits; the pages are opened in headless
Chromium.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from support.browser import dump_dom, fetched_urls, parse
from support.hostile import HOSTILE
from support.repo_factory import Repo, clean_env, run, sample_pyproject

from bot.baseline.site import render_index
from bot.model.config import Config

START = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)


def sha_of(i: int) -> str:
    return f"{i:040x}"


def entry(i: int, *, old: bool = False, subject: str | None = None, author: str | None = None) -> dict:
    """The ``i``-th save: 20,000 statements, coverage rising from about 30%."""
    statements, missing = 20000, 14000 - 40 * i + (700 if i % 17 == 5 else 0)
    e = {"commit": sha_of(i), "ref": "main", "committed": (START + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "saved": "2026-01-01T00:00:00Z", "percent_covered": round(100 * (statements - missing) / statements, 2),
         "statements": statements, "missing": missing, "branches": 0, "missing_branches": 0,
         "tests": {"total": 400, "passed": 400 - i % 3, "failed": i % 3, "errors": 0}}
    if not old:
        e.update(subject=subject or f"Change number {i} (#{1000 + i})", author=author or f"dev{i % 7}",
                 pr=1000 + i, pr_source="message", goal=80.0,
                 tiers=[{"name": n, "files": 100, "targeted": 100, "meeting": 10 + i // (k + 2)}
                        for k, n in enumerate(("Tier 1", "Tier 2", "Tier 3"))])
    return e


def summary(sha: str, files: int, *, names=None) -> dict:
    rows = []
    for i in range(files):
        statements = 40 + (i * 37) % 900
        missing = (i * 53) % statements
        path = names[i % len(names)] + f"/{i}.py" if names else f"src/pkg/mod{i:05d}.py"
        rows.append([path, statements, f"1-{missing}" if missing else "", 0, 0, ""])
    return {"format": 1, "commit": sha, "ref": "main", "committed": None, "saved": None, "branch_coverage": False,
            "totals": {}, "file_columns": ["path", "statements", "missing", "branches", "missing_branches", "partial"],
            "files": rows, "tests": None}


def data_repo(tmp_path, entries: list[dict], newest_summary: dict | None) -> Repo:
    """A checkout whose local ``covbot-data`` branch holds ``entries`` and a summary."""
    repo = Repo.create(tmp_path / "repo", {"README.md": "x\n"})
    repo.git("checkout", "-q", "--orphan", "covbot-data")
    repo.git("rm", "-rq", "--cached", ".")
    (repo.path / "README.md").unlink()
    files = {"history.jsonl": "".join(json.dumps(e) + "\n" for e in entries)}
    if newest_summary is not None:
        sha = newest_summary["commit"]
        files[f"baselines/{sha[:2]}/{sha}/summary.json"] = json.dumps(newest_summary)
    for rel, text in files.items():
        (repo.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo.path / rel).write_text(text, encoding="utf-8")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "data")
    repo.git("checkout", "-q", "-f", "main")
    run(["git", "clean", "-fdq"], repo.path)
    return repo


def dashboard(repo: Repo, out) -> tuple[object, str]:
    proc = repo.covbot("dashboard", "--output-dir", str(out), "--remote", ".")
    assert proc.returncode == 0, proc.stderr
    html = (out / "index.html").read_text(encoding="utf-8")
    return parse(dump_dom(out / "index.html")), html


def test_five_hundred_saves_render_in_under_a_second_and_under_a_megabyte(tmp_path):
    history = [entry(i) for i in range(500)]
    newest = summary(history[-1]["commit"], 3000)
    repo = data_repo(tmp_path, history, newest)
    dom, html = dashboard(repo, tmp_path / "site")
    assert len(html.encode("utf-8")) < 1_000_000
    assert float(dom.by_id("total").attrs["data-value"]) == history[-1]["percent_covered"]
    coverage_lines = dom.by_id("coverage").find_all("path")
    assert sum(p.attrs["d"].count("L") + p.attrs["d"].count("M") for p in coverage_lines[:1]) == 500
    assert len(dom.find_all("p", cls="tier-now")) == 3
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        render_index(history, newest, Config(), links={"server_url": "https://github.com", "repository": "a/b"},
                     pages={})
        timings.append(time.perf_counter() - start)
    assert min(timings) < 1.0, timings


def test_entries_saved_before_the_dashboard_existed_still_render(tmp_path):
    history = [entry(i, old=True) for i in range(30)]
    repo = data_repo(tmp_path, history, summary(history[-1]["commit"], 40))
    dom, _ = dashboard(repo, tmp_path / "site")
    assert float(dom.by_id("total").attrs["data-value"]) == history[-1]["percent_covered"]
    # statement coverage rises by 40 statements of 20,000 a day, except every 17th save
    assert float(dom.by_id("pace").attrs["data-value"]) > 0
    drops = dom.by_id("drops").find_all("tr", cls="move")
    assert drops and all(tr.attrs["data-pr"] == "" for tr in drops)
    assert [int(p.attrs["data-files"]) for p in dom.find_all("p", cls="tier-now")]   # from the newest summary
    assert dom.by_id("pass-rate-now").attrs["data-value"]


def test_hostile_subjects_authors_and_file_names_stay_text(tmp_path):
    texts = [t for t in HOSTILE if "\x00" not in t and len(t) < 200]
    history = [entry(i, subject=t, author=t[:60]) for i, t in enumerate(texts)]
    history[3]["commit"] = '"><script>alert(1)</script>'
    history[4]["pr"] = "<b>7</b>"
    newest = summary(history[-1]["commit"], 60, names=["src/<script>alert(1)</script>", 'src/a"b', "src/x&y"])
    repo = data_repo(tmp_path, history, newest)
    dom, html = dashboard(repo, tmp_path / "site")
    urls = fetched_urls(dom)
    assert not [u for u in urls if u.startswith("<")], urls
    assert all(u.startswith(("https://github.com/", "#", "html/")) for u in urls), urls
    assert not dom.find_all("script") and not dom.find_all("img") and not dom.find_all("b")
    text = dom.text()
    assert "src/<script>alert(1)</script>/" in text
    shown = [td.text() for tr in dom.find_all("tr", cls="move") for td in tr.find_all("td")[5:6]]
    assert shown and all(s in texts for s in shown)


def test_hostile_commit_messages_through_real_saves(tmp_path):
    repo = Repo.create(tmp_path / "repo", {"pyproject.toml": sample_pyproject(relative_files=True),
                                           "src/pkg/__init__.py": "", "src/pkg/m.py": "def f():\n    return 1\n",
                                           "tests/test_m.py": "from pkg.m import f\n\n\ndef test_f():\n"
                                                              "    assert f() == 1\n"})
    repo.coverage_run_pytest()
    subjects = ["<img src=x onerror=alert(1)> (#5)", "Merge pull request #6 from x/<script>y</script>"]
    for i, subject in enumerate(subjects):
        (repo.path / "README.md").write_text(f"{i}\n")
        repo.git("add", "README.md")
        repo.git("commit", "-q", "-m", subject, "-m", "</td></tr><tr><td>title & more")
        proc = repo.covbot("baseline", "save", "--no-run", "--coverage-file", ".coverage", "--remote", ".")
        assert proc.returncode == 0, proc.stderr
    history = [json.loads(line) for line in repo.git("show", "covbot-data:history.jsonl").splitlines()]
    assert [e["pr"] for e in history] == [5, 6]
    assert history[0]["subject"] == subjects[0] and history[1]["subject"] == "</td></tr><tr><td>title & more"
    page = tmp_path / "index.html"
    page.write_text(repo.git("show", "covbot-data:index.html"), encoding="utf-8")
    dom = parse(dump_dom(page))
    assert not dom.find_all("img") and not dom.find_all("script")
    assert "</td></tr><tr><td>title & more" in dom.by_id("newest").text()


def test_without_a_data_branch_one_message_and_exit_2(tmp_path):
    repo = Repo.create(tmp_path / "repo", {"README.md": "x\n"})
    proc = repo.covbot("dashboard", "--output-dir", str(tmp_path / "site"), "--remote", ".")
    assert proc.returncode == 2
    assert proc.stderr.startswith("covbot: error: there is no data branch 'covbot-data'"), proc.stderr
    assert "covbot baseline save" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "site" / "index.html").exists()


@pytest.mark.parametrize("history", ["", "not json\n{\"commit\": 3}\n"])
def test_an_empty_or_damaged_history_is_one_message(tmp_path, history):
    repo = data_repo(tmp_path, [], None)
    repo.git("checkout", "-q", "covbot-data")
    (repo.path / "history.jsonl").write_text(history)
    repo.git("add", "-A")
    repo.git("commit", "-q", "--allow-empty", "-m", "damaged")
    repo.git("checkout", "-q", "main")
    proc = repo.covbot("dashboard", "--output-dir", str(tmp_path / "site"), "--remote", ".")
    assert proc.returncode == 2
    assert "covbot-data:history.jsonl has no saved baselines" in proc.stderr and "Traceback" not in proc.stderr


def test_a_window_of_no_days_is_a_usage_error(tmp_path):
    repo = data_repo(tmp_path, [entry(i) for i in range(3)], None)
    proc = repo.covbot("dashboard", "--output-dir", str(tmp_path / "site"), "--remote", ".", "--window-days", "-3")
    assert proc.returncode == 2
    assert "--window-days -3: the pace's window must be at least one day" in proc.stderr
    ok = repo.covbot("dashboard", "--output-dir", str(tmp_path / "site"), "--remote", ".", "--window-days", "1")
    assert ok.returncode == 0, ok.stderr
    dom = parse(dump_dom(tmp_path / "site" / "index.html"))
    assert dom.by_id("pace").parent.text().endswith("over the last day (2 saves)")   # days 1 and 2
    assert "summary" in ok.stderr                                     # the newest summary is missing


def test_an_older_commit_saved_late_keeps_the_newest_saves_page(tmp_path):
    files = {"pyproject.toml": sample_pyproject(relative_files=True), "src/pkg/__init__.py": "",
             "src/pkg/m.py": "def f(x):\n    if x:\n        return 1\n    return 2\n",
             "tests/test_m.py": "from pkg.m import f\n\n\ndef test_f():\n    assert f(1) == 1\n"}
    repo = Repo.create(tmp_path / "repo", files, message="A")
    run(["git", "commit", "-q", "--amend", "--no-edit", "--date=2025-01-01T00:00:00Z"], repo.path,
        env=clean_env(GIT_COMMITTER_DATE="2025-01-01T00:00:00Z"))
    older = repo.sha()
    newer = repo.commit({"tests/test_m.py": files["tests/test_m.py"] + "\n\ndef test_g():\n    assert f(0) == 2\n"},
                        "B")
    for sha in (newer, older):                  # the newer commit is saved first
        repo.git("checkout", "-q", sha)
        (repo.path / ".coverage").unlink(missing_ok=True)
        repo.coverage_run_pytest()
        proc = repo.covbot("baseline", "save", "--no-run", "--coverage-file", ".coverage", "--remote", ".")
        assert proc.returncode == 0, proc.stderr
    repo.git("checkout", "-q", "main")
    history = [json.loads(line)["commit"] for line in repo.git("show", "covbot-data:history.jsonl").splitlines()]
    assert history == [newer, older]
    assert repo.sha("covbot-data:html") == repo.sha("covbot-data~1:html")   # the newer save's report stays
    page = tmp_path / "index.html"
    page.write_text(repo.git("show", "covbot-data:index.html"), encoding="utf-8")
    dom = parse(dump_dom(page))
    assert dom.by_id("newest").attrs["data-commit"] == newer
    assert dom.by_id("total").text() == "100.00%"
    assert "2 saves since 2025-01-01" in dom.by_id("newest").text()
