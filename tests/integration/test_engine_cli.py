"""The real CLI as a subprocess: exit statuses 0/1/2, output formats, shallow clones."""

from __future__ import annotations

import json

import pytest

from support.repo_factory import Repo, run
from support.small_pr import BASE, PR_MOD, PR_TEST, make_pr


@pytest.fixture(scope="module")
def pr(tmp_path_factory):
    repo = make_pr(tmp_path_factory.mktemp("cli") / "proj")
    repo.coverage_run_pytest()
    repo.coverage("xml", "-q", "-o", "coverage.xml")
    return repo


def covbot(repo: Repo, *args: str, out=None):
    out = out or repo.path / ".out"
    return repo.covbot("report", "--no-run", "--coverage-file", ".coverage", "--base", "main",
                       "--baseline", "none", "--output-dir", str(out), *args)


def _error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("covbot: error:")]


def test_exit_0_when_the_gate_passes(pr):
    proc = covbot(pr, "--fail-on", "diff", "--diff-threshold", "50", "--min-lines", "1")
    assert proc.returncode == 0, proc.stderr
    assert "gate passed" in proc.stdout


def test_exit_1_when_the_gate_fails(pr):
    dc = pr.diff_cover("coverage.xml")
    assert 0 < dc["total_percent_covered"] < 100
    proc = covbot(pr, "--fail-on", "diff", "--diff-threshold", str(dc["total_percent_covered"] + 1),
                  "--min-lines", "1")
    assert proc.returncode == 1, proc.stderr
    assert "gate failed" in proc.stdout and f"{dc['total_percent_covered']:.2f}%" in proc.stdout


def test_min_lines_keeps_a_small_diff_from_failing(pr):
    """Fewer changed executable lines than min-lines: the diff rule does not apply."""
    proc = covbot(pr, "--fail-on", "diff", "--diff-threshold", "100", "--min-lines", "1000")
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("args, needle", [
    (["--coverage-file", "missing.xml"], "missing.xml"),
    (["--coverage-file", "pyproject.toml"], "pyproject.toml"),
    (["--fail-on", "difff"], "'diff'"),
    (["--diff-threshold", "lots"], "--diff-threshold"),
    (["--format", "html"], "--format"),
    (["--config", "nope.yml"], "nope.yml"),
])
def test_exit_2_with_one_clear_line(pr, args, needle):
    proc = covbot(pr, *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    errors = _error_lines(proc.stderr)
    assert len(errors) == 1 and needle in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_exit_2_outside_a_git_repository(tmp_path):
    proc = Repo(tmp_path).covbot("report", "--no-run")
    assert proc.returncode == 2 and "not a git repository" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_exit_2_for_a_missing_base_still_writes_the_report(pr, tmp_path):
    out = tmp_path / "out"
    proc = pr.covbot("report", "--no-run", "--coverage-file", ".coverage", "--base", "no-such-branch",
                     "--baseline", "none", "--output-dir", str(out))
    assert proc.returncode == 2
    assert "no-such-branch" in "".join(_error_lines(proc.stderr))
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["statements"] > 0          # what could be computed was written
    assert (out / "comment.md").read_text().strip()


def test_formats(pr, tmp_path):
    md = covbot(pr, "--fail-on", "none", "--format", "markdown", out=tmp_path / "md")
    text = covbot(pr, "--fail-on", "none", "--format", "text", out=tmp_path / "text")
    js = covbot(pr, "--fail-on", "none", "--format", "json", out=tmp_path / "json")
    assert md.returncode == text.returncode == js.returncode == 0
    # markdown is the comment, byte for byte
    assert md.stdout == (tmp_path / "md" / "comment.md").read_text(encoding="utf-8")
    assert md.stdout.startswith("<!-- covbot:comment-id=covbot -->") and "| File |" in md.stdout
    # json is report.json
    report = json.loads(js.stdout)
    assert report == json.loads((tmp_path / "json" / "report.json").read_text(encoding="utf-8"))
    assert report["schema_version"] == 1
    # text is for a terminal: no Markdown table syntax or HTML comment, same figures
    assert "<!--" not in text.stdout and "|---" not in text.stdout
    assert f"{report['totals']['percent_covered']:.2f}%" in text.stdout
    assert f"{report['diff']['percent_covered']:.2f}%" in text.stdout


def test_the_console_script_flushes_everything_and_leaves_nothing_behind(pr, tmp_path):
    """The console script leaves without tearing the interpreter down: its output must
    still be complete (a large --format json on a pipe), the exit status the gate's,
    and a report of given files must leave no scratch folder in the temporary folder."""
    import os
    import subprocess
    import sys

    from support.repo_factory import clean_env

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(clean_env(), TMPDIR=str(tmp))
    proc = subprocess.run([sys.executable, "-m", "bot", "report", "--no-run", "--coverage-file", ".coverage",
                           "--base", "main", "--baseline", "none", "--output-dir", str(tmp_path / "out"),
                           "--format", "json", "--fail-on", "diff", "--diff-threshold", "100", "--min-lines", "1"],
                          cwd=pr.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert os.listdir(tmp) == []
    # A reader that stops early (covbot report | head): no traceback, the gate's status.
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    proc = subprocess.run([sys.executable, "-m", "bot", "report", "--no-run", "--coverage-file", ".coverage",
                           "--base", "main", "--baseline", "none", "--output-dir", str(tmp_path / "out2"),
                           "--format", "json", "--fail-on", "none"],
                          cwd=pr.path, env=env, stdout=reader.stdin, stderr=subprocess.PIPE, text=True)
    reader.stdin.close()
    reader.wait()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert (tmp_path / "out2" / "report.json").is_file()


def test_the_diff_is_read_without_a_temporary_file_when_none_can_be_made(pr, tmp_path, monkeypatch, capsys):
    """git writes the diff to a temporary file while coverage loads; where none can be
    made (a read-only temporary folder), the diff is read from git's output instead, with
    the same numbers."""
    import errno
    import os

    from bot.runs import git as gitrepo
    from bot.app.cli import main

    args = ["report", "-C", str(pr.path), "--no-run", "--coverage-file", ".coverage", "--base", "main",
            "--baseline", "none", "--format", "json"]
    monkeypatch.setenv("COVBOT_SERIAL", "1")
    assert main(args + ["--output-dir", str(tmp_path / "normal")]) in (0, 1)
    normal = json.loads((tmp_path / "normal" / "report.json").read_text(encoding="utf-8"))

    def unwritable(*a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(gitrepo.tempfile, "TemporaryFile", unwritable)
    assert main(args + ["--output-dir", str(tmp_path / "readonly")]) in (0, 1)
    capsys.readouterr()
    fallback = json.loads((tmp_path / "readonly" / "report.json").read_text(encoding="utf-8"))
    assert fallback["errors"] == [] and fallback["diff"] == normal["diff"] and normal["diff"]["num_lines"] > 0


def test_report_json_has_the_design_keys(pr):
    report = json.loads(covbot(pr, "--fail-on", "none", "--format", "json").stdout)
    for key in ("schema_version", "head", "base", "totals", "base_totals", "delta", "diff", "files",
                "verdict"):
        assert key in report, key
    assert set(report["head"]) >= {"sha", "ref"}
    assert set(report["base"]) >= {"ref", "sha", "merge_base"}
    assert set(report["totals"]) == {"statements", "covered_statements", "missing_statements", "branches",
                                     "covered_branches", "percent_covered", "percent_statements"}
    assert set(report["diff"]) >= {"num_lines", "num_covered", "num_violations", "percent_covered",
                                   "branches", "files"}
    row = report["files"][0]
    assert set(row) >= {"path", "statements", "missing", "percent_covered", "base_percent_covered",
                        "delta", "changed", "indirect"}
    assert report["base"]["merge_base"] == run(["git", "merge-base", "main", "HEAD"], pr.path).stdout.strip()


# -- shallow clones --------------------------------------------------------------------

@pytest.fixture()
def origin(tmp_path):
    """A bare repository whose PR branch is 3 commits ahead of a main that moved on."""
    repo = Repo.create(tmp_path / "work", BASE)
    repo.commit({"src/pkg/extra.py": "E = 1\n"}, "main 2")
    repo.checkout("pr", new=True)
    repo.commit({"src/pkg/mod.py": PR_MOD}, "pr 1")
    repo.commit({"tests/test_mod.py": PR_TEST}, "pr 2")
    repo.commit({"src/pkg/extra.py": "E = 1\nF = 2\n"}, "pr 3")
    repo.checkout("main")
    repo.commit({"README.md": "main moved on\n"}, "main 3")
    merge_base = run(["git", "merge-base", "main", "pr"], repo.path).stdout.strip()
    bare = tmp_path / "origin.git"
    run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], tmp_path)
    return bare, merge_base


def _shallow_clone(bare, dest) -> Repo:
    run(["git", "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{bare}", str(dest)], dest.parent)
    clone = Repo(dest)
    assert clone.git("rev-parse", "--is-shallow-repository").strip() == "true"
    clone.coverage_run_pytest()
    return clone


def test_shallow_clone_is_deepened_to_the_merge_base(origin, tmp_path):
    bare, merge_base = origin
    clone = _shallow_clone(bare, tmp_path / "shallow")
    assert clone.git("cat-file", "-t", merge_base, check=False).strip() != "commit"
    report = clone.covbot_report("--no-run", "--coverage-file", ".coverage", "--base", "main",
                                 "--baseline", "none")
    assert report["base"]["merge_base"] == merge_base
    assert report["base"]["ref"] == "origin/main"
    # the diff is the PR's three commits, the same as in a full clone
    full = Repo(tmp_path / "full")
    run(["git", "clone", "-q", "--branch", "pr", f"file://{bare}", str(full.path)], tmp_path)
    full.coverage_run_pytest()
    expected = full.covbot_report("--no-run", "--coverage-file", ".coverage", "--base", "origin/main",
                                  "--baseline", "none")
    assert report["diff"] == expected["diff"] and report["diff"]["num_lines"] > 0


def test_shallow_clone_that_cannot_be_deepened_is_one_clear_error(origin, tmp_path):
    bare, _merge_base = origin
    clone = _shallow_clone(bare, tmp_path / "shallow")
    clone.git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    clone.git("remote", "set-url", "origin", f"file://{tmp_path}/gone.git")
    proc = clone.covbot("report", "--no-run", "--coverage-file", ".coverage", "--base", "main",
                        "--baseline", "none", "--output-dir", str(tmp_path / "out"))
    assert proc.returncode == 2
    errors = _error_lines(proc.stderr)
    assert len(errors) == 1 and "shallow" in errors[0], proc.stderr
    assert "fetch-depth: 0" in proc.stderr and "Traceback" not in proc.stderr


def test_shallow_base_branch_fetched_with_depth_1_is_deepened(origin, tmp_path):
    """The common CI setup: the PR head and the base branch each fetched with depth 1."""
    bare, merge_base = origin
    clone = _shallow_clone(bare, tmp_path / "shallow")
    clone.git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    assert clone.git("merge-base", "origin/main", "HEAD", check=False).strip() == ""
    report = clone.covbot_report("--no-run", "--coverage-file", ".coverage", "--base", "main",
                                 "--baseline", "none")
    assert report["base"]["merge_base"] == merge_base and report["diff"]["num_lines"] > 0
