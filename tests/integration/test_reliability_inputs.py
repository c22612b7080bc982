"""Broken and hostile inputs through the real CLI (`python -m bot report` as a subprocess)
on real git repositories built in temporary folders.

Every case asserts the same contract: a defined exit status (2 for an input error), one
clear message naming the file or command and saying what to do, no traceback, and
report.json + comment.md written with whatever could still be computed.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from support.markdown_check import check_inert

MARKER = "<!-- covbot:comment-id=covbot -->"

CALC_BASE = textwrap.dedent('''\
    def add(a, b):
        return a + b


    def sign(x):
        if x < 0:
            return -1
        return 1
''')

CALC_PR = CALC_BASE + textwrap.dedent('''\


    def clamp(x, lo, hi):
        if x < lo:
            return lo
        if x > hi:
            return hi
        return x


    def unused(x):
        y = x * 2
        return y
''')

TESTS_BASE = textwrap.dedent('''\
    from pkg.calc import add, sign


    def test_add():
        assert add(1, 2) == 3


    def test_sign():
        assert sign(-3) == -1
''')

TESTS_PR = TESTS_BASE + textwrap.dedent('''\


    def test_clamp():
        from pkg.calc import clamp
        assert clamp(5, 0, 3) == 3
''')


# -- helpers ----------------------------------------------------------------------------

def git(repo: Path, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.invalid",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.invalid",
           "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always",
                           *args], cwd=repo, env=env, check=check, capture_output=True, **kw)


def write(root: Path, rel: str | bytes, text: str) -> None:
    path = Path(os.fsdecode(os.path.join(os.fsencode(root), os.fsencode(rel))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_project(repo: Path) -> Path:
    """``main`` with pkg/calc.py and its tests; ``pr`` (checked out) adds clamp() and unused()."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q")
    write(repo, "pkg/__init__.py", "")
    write(repo, "pkg/calc.py", CALC_BASE)
    write(repo, "tests/test_calc.py", TESTS_BASE)
    write(repo, "pytest.ini", "[pytest]\ntestpaths = tests\npythonpath = .\naddopts = -p no:cacheprovider\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "pr")
    write(repo, "pkg/calc.py", CALC_PR)
    write(repo, "tests/test_calc.py", TESTS_PR)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "pr")
    return repo


def covbot(repo: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "INPUT_", "COVBOT_", "PYTEST_", "COV_CORE_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, "-m", "bot", "report", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=timeout)


def check_outcome(proc: subprocess.CompletedProcess, out: Path, *, code: int,
                  mentions: tuple[str, ...] = (), errors: int | None = 1, hint: bool = True) -> dict:
    """The common contract; returns report.json."""
    assert proc.returncode == code, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback (most recent call last)" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-3000:]
    if errors is not None:   # (the test run's own output may precede it on the same line)
        assert proc.stderr.count("covbot: error:") == errors, proc.stderr[-3000:]
    for word in mentions:
        assert word in proc.stderr, (word, proc.stderr[-3000:])
    if code == 2 and hint:
        assert "hint:" in proc.stderr, proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    comment = (out / "comment.md").read_text(encoding="utf-8")
    assert comment.startswith(MARKER)
    assert report["schema_version"] == 1
    if code == 2:
        assert report["errors"], report
    return report


def coverage_py(repo: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "coverage", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(repo)})


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A project measured once by coverage.py itself: .coverage, coverage.json, coverage.xml, junit.xml."""
    repo = make_project(tmp_path_factory.mktemp("measured") / "repo")
    coverage_py(repo, "run", "--branch", "--source=pkg", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "--junitxml=junit.xml")
    coverage_py(repo, "json", "-o", "coverage.json")
    coverage_py(repo, "xml", "-o", "coverage.xml")
    files = {}
    keep = repo.parent / "inputs"
    keep.mkdir()
    for name in (".coverage", "coverage.json", "coverage.xml", "junit.xml"):
        shutil.move(str(repo / name), keep / name)
        files[name] = keep / name
    expected = json.loads(files["coverage.json"].read_text())["totals"]["percent_covered"]
    return repo, files, expected


# -- coverage files ---------------------------------------------------------------------

def _truncate(src: Path, dest: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


BROKEN_COVERAGE = {
    # name: (file name, builder(src_files, dest) -> path, words the message must contain)
    "xml-empty": ("coverage.xml", lambda f, d: (d.write_bytes(b""), d)[1], ("is empty",)),
    "xml-truncated": ("coverage.xml", lambda f, d: _truncate(f["coverage.xml"], d), ("not well-formed XML",)),
    "xml-not-cobertura": ("coverage.xml", lambda f, d: (d.write_text("<html><body>hi</body></html>"), d)[1],
                          ("not a Cobertura",)),
    "xml-bad-number": ("coverage.xml", lambda f, d: (d.write_text(
        f["coverage.xml"].read_text().replace('number="1"', 'number="one"', 1)), d)[1], ("invalid value",)),
    "xml-entity-expansion": ("coverage.xml", lambda f, d: (d.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
        '<coverage><sources><source>&lol3;</source></sources></coverage>'), d)[1], ("refused",)),
    "json-empty": ("coverage.json", lambda f, d: (d.write_bytes(b""), d)[1], ("is empty",)),
    "json-truncated": ("coverage.json", lambda f, d: _truncate(f["coverage.json"], d), ("not valid JSON",)),
    "json-wrong-shape": ("coverage.json", lambda f, d: (d.write_text('{"files": [1, 2]}'), d)[1],
                         ("not a coverage.py JSON report",)),
    "json-bad-entry": ("coverage.json", lambda f, d: (d.write_text(
        '{"files": {"pkg/calc.py": {"executed_lines": [1], "missing_lines": 7}}}'), d)[1], ("malformed",)),
    "data-empty": (".coverage", lambda f, d: (d.write_bytes(b""), d)[1], ("is empty",)),
    "data-truncated": (".coverage", lambda f, d: _truncate(f[".coverage"], d, 0.3), ("cannot be read",)),
    "data-garbage": (".coverage", lambda f, d: (d.write_bytes(b"\x00\x01garbage" * 50), d)[1],
                     ("not a coverage file",)),
    "data-not-coverage-sqlite": (".coverage", None, ("SQLite database but not coverage.py data",)),
    "missing": ("nonexistent.xml", lambda f, d: d, ("does not exist",)),
}


def _other_sqlite(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("create table t (x)")
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("case", sorted(BROKEN_COVERAGE))
def test_broken_coverage_file_is_one_clear_error_and_junit_is_still_reported(case, measured, tmp_path):
    repo, files, _ = measured
    name, build, words = BROKEN_COVERAGE[case]
    dest = tmp_path / name
    path = _other_sqlite(dest) if build is None else build(files, dest)
    out = tmp_path / "out"
    proc = covbot(repo, "--no-run", "--baseline", "none", "--coverage-file", str(path),
                  "--junit", str(files["junit.xml"]), "--output-dir", str(out))
    report = check_outcome(proc, out, code=2, mentions=(str(path), *words))
    # Nothing about coverage could be computed, but the test results and the diff could.
    assert report["error"] is True
    assert report["tests"]["total"] == 3 and report["tests"]["passed"] == 3
    assert "pkg/calc.py" in report["diff"]["changed_files"]
    comment = (out / "comment.md").read_text(encoding="utf-8")
    assert "could not compute coverage" in comment and name in comment


def test_good_files_give_coverage_py_numbers(measured, tmp_path):
    """The control case for the table above: the same call with intact files passes."""
    repo, files, expected = measured
    for name in (".coverage", "coverage.json", "coverage.xml"):
        out = tmp_path / name
        proc = covbot(repo, "--no-run", "--baseline", "none", "--fail-on", "none", "--coverage-file",
                      str(files[name]), "--junit", str(files["junit.xml"]), "--output-dir", str(out))
        report = check_outcome(proc, out, code=0, errors=0)
        if name != "coverage.xml":   # Cobertura has no per-branch arcs: its figure differs by design
            assert report["totals"]["percent_covered"] == pytest.approx(expected, abs=0.01)
        assert report["tests"]["total"] == 3


def test_one_broken_shard_of_several_is_named(measured, tmp_path):
    repo, files, _ = measured
    good = tmp_path / ".coverage.good"
    shutil.copy(files[".coverage"], good)
    bad = _truncate(files[".coverage"], tmp_path / ".coverage.bad", 0.3)
    out = tmp_path / "out"
    proc = covbot(repo, "--no-run", "--baseline", "none", "--coverage-file", str(good),
                  "--coverage-file", str(bad), "--output-dir", str(out))
    check_outcome(proc, out, code=2, mentions=(str(bad),))
    assert str(good) + " " not in proc.stderr.split("hint:")[0].replace(str(bad), "")


# -- JUnit ------------------------------------------------------------------------------

BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + "".join(f' <!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">\n'
                            for i in range(1, 10))
                  + ']>\n<testsuites><testsuite name="s"><testcase classname="t" name="&lol9;"/>'
                    '</testsuite></testsuites>\n')

EXTERNAL_ENTITY = ('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
                   '<testsuites><testsuite name="s"><testcase classname="t" name="x">'
                   '<failure message="&xxe;">&xxe;</failure></testcase></testsuite></testsuites>\n')


@pytest.mark.parametrize("payload", ["billion-laughs", "external-entity", "truncated", "not-junit"])
def test_hostile_or_broken_junit_keeps_the_coverage_report(payload, measured, tmp_path):
    repo, files, expected = measured
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    junit = tmp_path / "junit.xml"
    if payload == "billion-laughs":
        junit.write_text(BILLION_LAUGHS)
    elif payload == "external-entity":
        junit.write_text(EXTERNAL_ENTITY.replace("{secret}", str(secret)))
    elif payload == "truncated":
        _truncate(files["junit.xml"], junit)
    else:
        junit.write_text("<html/>")
    out = tmp_path / "out"
    start = time.monotonic()
    proc = covbot(repo, "--no-run", "--baseline", "none", "--coverage-file", str(files["coverage.json"]),
                  "--junit", str(junit), "--output-dir", str(out), timeout=60)
    assert time.monotonic() - start < 30
    # The message for a well-formed non-JUnit document has no hint yet (bot/inputs/junit.py).
    report = check_outcome(proc, out, code=2, mentions=(str(junit),), hint=payload != "not-junit")
    if payload in ("billion-laughs", "external-entity"):
        assert "refused" in proc.stderr
    # The JUnit error did not cost the coverage report, and it fails the gate.
    assert report["totals"]["percent_covered"] == pytest.approx(expected, abs=0.01)
    assert report["verdict"]["passed"] is False
    assert "inputs" in [r["rule"] for r in report["verdict"]["reasons"] if r["status"] == "failed"]
    assert "pkg/calc.py" in report["diff"]["files"]
    everything = proc.stdout + proc.stderr + (out / "report.json").read_text() + (out / "comment.md").read_text()
    assert "TOP-SECRET-CONTENT" not in everything
    assert "lollollol" not in everything


def _big_junit(path: Path, n: int, failing_every: int) -> int:
    failing = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest" tests="{n}">\n')
        for i in range(n):
            mod = f"tests.test_m{i % 500}"
            if i % failing_every == 0:
                failing += 1
                fh.write(f'<testcase classname="{mod}" name="test_{i}" time="0.001">'
                         f'<failure message="AssertionError: assert {i} == 0">'
                         f'def test_{i}():\n&gt;   assert {i} == 0\nE   AssertionError</failure></testcase>\n')
            else:
                fh.write(f'<testcase classname="{mod}" name="test_{i}" time="0.001"/>\n')
        fh.write("</testsuite></testsuites>\n")
    return failing


def test_100000_junit_test_cases_are_fast_and_modest_in_memory(measured, tmp_path):
    repo, files, _ = measured
    junit = tmp_path / "junit.xml"
    failing = _big_junit(junit, 100_000, failing_every=10)
    out = tmp_path / "out"
    # Run the CLI in a child that reports its own peak memory.
    code = ("import resource, sys\nfrom bot.app.cli import main\nrc = main(sys.argv[1:])\n"
            "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(rc)\n")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, "report", "--no-run", "--baseline", "none", "--fail-on", "none",
                           "--coverage-file", str(files["coverage.json"]), "--junit", str(junit),
                           "--output-dir", str(out)], cwd=repo, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - start
    report = check_outcome(proc, out, code=0, errors=0)
    rss_mb = int(proc.stderr.split("MAXRSS_KB")[1].split()[0]) / 1024
    print(f"100,000 test cases ({junit.stat().st_size / 1e6:.1f} MB): {elapsed:.1f} s, peak RSS {rss_mb:.0f} MB")
    assert report["tests"]["total"] == 100_000
    assert report["tests"]["failed"] == failing == 10_000
    assert elapsed < 60
    assert rss_mb < 400
    comment = (out / "comment.md").read_text(encoding="utf-8")
    assert len(comment) <= 65536


# -- names and kinds of files in the diff -----------------------------------------------

HOSTILE_NAMES = [
    "pkg/with space.py",
    "pkg/back`tick.py",
    "pkg/pi|pe.py",
    "pkg/<lt>.py",
    "pkg/@octocat.py",
    "pkg/#123 GH-1.py",
    "pkg/ünï.py",
    "pkg/new\nline.py",
    "pkg/tab\there \"quoted\".py",
]
NON_UTF8 = b"pkg/caf\xe9.py"


def _hostile_repo(repo: Path) -> list[str]:
    make_project(repo)
    names = list(HOSTILE_NAMES)
    body = "def f(x):\n    if x:\n        return 1\n    return 2\n"
    for n in names:
        write(repo, n, body)
    write(repo, NON_UTF8, body)
    loader = textwrap.dedent('''\
        import importlib.util, os, pathlib

        def test_hostile_files():
            root = pathlib.Path(__file__).resolve().parent.parent / "pkg"
            for entry in os.listdir(os.fsencode(root)):
                name = os.fsdecode(entry)
                if name in ("__init__.py", "calc.py") or not name.endswith(".py"):
                    continue
                spec = importlib.util.spec_from_file_location("m" + str(abs(hash(name))), root / name)
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
                assert mod.f(1) == 1
    ''')
    write(repo, "tests/test_hostile.py", loader)
    # A binary file, a rename with a change, a deletion.
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hostile names")
    return names + [os.fsdecode(NON_UTF8)]


def test_hostile_file_names_binary_rename_and_delete_in_the_diff(tmp_path):
    repo = tmp_path / "repo"
    names = _hostile_repo(repo)
    # rename + change and a deletion on top
    git(repo, "mv", "pkg/with space.py", "pkg/renamed space.py")
    write(repo, "pkg/renamed space.py", "def f(x):\n    if x:\n        return 1\n    return 3\n\n\nZ = 1\n")
    write(repo, "tests/test_hostile.py", (repo / "tests/test_hostile.py").read_text())
    git(repo, "rm", "-q", "pkg/@octocat.py")
    git(repo, "commit", "-q", "-am", "rename and delete")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--fail-on", "none", "--output-dir", str(out))
    report = check_outcome(proc, out, code=0, errors=0)
    expected = set(names) - {"pkg/with space.py", "pkg/@octocat.py"} | {"pkg/renamed space.py", "pkg/calc.py"}
    # coverage.py does not record a file whose name is not UTF-8: it is in the diff but unmeasured.
    expected.discard(os.fsdecode(NON_UTF8))
    assert {p for p in report["diff"]["files"] if p.startswith("pkg/")} == expected
    for name in expected - {"pkg/calc.py", "pkg/renamed space.py"}:
        fd = report["diff"]["files"][name]
        # def f / if x / return 1 / return 2: 4 statements, `return 2` never runs
        assert (fd["changed_lines"], fd["missing_lines"]) == (4, [4]), name
    assert report["diff"]["files"]["pkg/renamed space.py"]["changed_lines"] == 5   # whole file is new vs main
    assert "logo.png" not in report["diff"]["files"]
    changed = {f["path"]: f for f in report["files"] if f["changed"]}
    assert changed["pkg/renamed space.py"]
    comment = (out / "comment.md").read_text(encoding="utf-8")
    check_inert(comment)


@pytest.mark.xfail(strict=True, reason="coverage.py's CoverageData.update() turns a backslash into a separator "
                   "when covbot combines data files, so a POSIX file name containing one loses its data "
                   "(coverage.json input keeps it)")
def test_a_backslash_in_a_file_name_is_measured(tmp_path):
    repo = make_project(tmp_path / "repo")
    write(repo, "pkg/back\\slash.py", "def f(x):\n    return x\n")
    write(repo, "tests/test_bs.py", "import importlib.util, pathlib\n\n\ndef test_bs():\n"
          "    p = pathlib.Path(__file__).resolve().parent.parent / 'pkg' / 'back\\\\slash.py'\n"
          "    spec = importlib.util.spec_from_file_location('bs', p)\n"
          "    mod = importlib.util.module_from_spec(spec)\n    spec.loader.exec_module(mod)\n"
          "    assert mod.f(1) == 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "backslash")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--fail-on", "none", "--output-dir", str(out))
    report = check_outcome(proc, out, code=0, errors=0)
    assert report["diff"]["files"]["pkg/back\\slash.py"]["changed_lines"] == 2


def test_non_utf8_names_deleted_and_added_keep_report_json_valid_utf8(tmp_path):
    repo = make_project(tmp_path / "repo")
    git(repo, "checkout", "-q", "main")
    write(repo, b"pkg/old\xff.py", "X = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "odd name")
    git(repo, "checkout", "-q", "pr")
    git(repo, "rebase", "-q", "main")
    git(repo, "rm", "-q", os.fsdecode(b"pkg/old\xff.py"))
    write(repo, b"pkg/new\xfe.py", "Y = 2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "delete and add odd names")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--fail-on", "none", "--output-dir", str(out))
    report = check_outcome(proc, out, code=0, errors=0)
    (out / "report.json").read_bytes().decode("utf-8")   # strict: valid UTF-8
    # The deletion is listed, its undecodable byte shown as U+FFFD.
    assert report["deleted_files"] == ["pkg/old\ufffd.py"]


def test_rename_against_a_base_that_had_the_file(tmp_path):
    repo = make_project(tmp_path / "repo")
    git(repo, "checkout", "-q", "main")
    write(repo, "pkg/old name.py", "def g(x):\n    return x\n\n\ndef h(x):\n    return -x\n")
    write(repo, "pkg/gone.py", "X = 1\n")
    write(repo, "tests/test_g.py", textwrap.dedent('''\
        import importlib.util, pathlib

        def test_g():
            pkg = pathlib.Path(__file__).resolve().parent.parent / "pkg"
            path = next(p for p in pkg.glob("*name.py"))
            spec = importlib.util.spec_from_file_location("named", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            assert mod.g(1) == 1
    '''))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    git(repo, "checkout", "-q", "pr")
    git(repo, "rebase", "-q", "main")
    git(repo, "mv", "pkg/old name.py", "pkg/new|name.py")
    write(repo, "pkg/new|name.py", "def g(x):\n    return x\n\n\ndef h(x):\n    return -x + 0\n")
    git(repo, "rm", "-q", "pkg/gone.py")
    git(repo, "commit", "-q", "-am", "rename")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "rerun", "--fail-on", "none", "--output-dir", str(out))
    report = check_outcome(proc, out, code=0, errors=0)
    # Only the changed line of the renamed file counts, as `git diff -M` says.
    assert report["diff"]["files"]["pkg/new|name.py"]["changed_lines"] == 1
    by_path = {f["path"]: f for f in report["files"]}
    assert by_path["pkg/new|name.py"]["base_percent_covered"] is not None   # matched to its old name
    assert "pkg/gone.py" not in by_path


def test_submodule_in_the_diff_is_ignored(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    git(sub, "init", "-q")
    write(sub, "lib.py", "X = 1\n")
    git(sub, "add", "-A")
    git(sub, "commit", "-q", "-m", "sub")
    repo = make_project(tmp_path / "repo")
    git(repo, "submodule", "add", "-q", str(sub), "vendor/sub")
    git(repo, "commit", "-q", "-m", "add submodule")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--fail-on", "none", "--output-dir", str(out))
    report = check_outcome(proc, out, code=0, errors=0)
    assert not [p for p in report["diff"]["files"] if p.startswith("vendor")]
    assert "pkg/calc.py" in report["diff"]["files"]


# -- git situations ---------------------------------------------------------------------

def test_detached_head_is_reported_normally(tmp_path):
    repo = make_project(tmp_path / "repo")
    git(repo, "checkout", "-q", "--detach", "pr")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--fail-on", "none", "--output-dir", str(out))
    report = check_outcome(proc, out, code=0, errors=0)
    assert report["head"]["ref"] is None
    assert report["head"]["sha"] == git(repo, "rev-parse", "HEAD").stdout.decode().strip()
    # clamp: 6 statements + unused: 3, the last two never run; the new test file is not measured
    d = report["diff"]
    assert d["num_lines"] >= 9 and d["percent_covered"] is not None


def test_missing_base_branch_is_reported_before_any_test_runs(tmp_path):
    repo = make_project(tmp_path / "repo")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "no-such-branch", "--baseline", "rerun", "--output-dir", str(out))
    report = check_outcome(proc, out, code=2, mentions=("no-such-branch", "--base"))
    # the base is checked first: no test ran, so no numbers that would mislead
    assert report["error"] is True and report["tests"] is None
    assert "running tests" not in proc.stderr


def _origin_with_history(tmp_path: Path) -> Path:
    origin = make_project(tmp_path / "origin")
    git(origin, "checkout", "-q", "main")
    for i in range(3):
        write(origin, f"docs/n{i}.txt", f"{i}\n")
        git(origin, "add", "-A")
        git(origin, "commit", "-q", "-m", f"main {i}")
    git(origin, "checkout", "-q", "pr")
    return origin


@pytest.mark.parametrize("origin_reachable", [True, False])
def test_shallow_clone_without_the_merge_base(origin_reachable, tmp_path):
    origin = _origin_with_history(tmp_path)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{origin}", str(clone))
    git(clone, "fetch", "-q", "--depth", "1", "origin", "+refs/heads/main:refs/remotes/origin/main")
    assert git(clone, "merge-base", "origin/main", "HEAD", check=False).returncode != 0
    if not origin_reachable:
        shutil.rmtree(origin)
    out = tmp_path / "out"
    proc = covbot(clone, "--base", "main", "--baseline", "none", "--fail-on", "none", "--output-dir", str(out))
    if origin_reachable:   # covbot deepens the clone and finds it
        report = check_outcome(proc, out, code=0, errors=0)
        assert report["base"]["merge_base"]
        assert report["diff"]["percent_covered"] is not None
    else:
        report = check_outcome(proc, out, code=2, mentions=("shallow", "fetch-depth: 0"))
        assert report["error"] is True and "running tests" not in proc.stderr   # said before any test run


def test_not_a_git_repository(tmp_path):
    (tmp_path / "plain").mkdir()
    proc = covbot(tmp_path / "plain", "--output-dir", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr and "Traceback" not in proc.stderr


# -- the test command -------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.parametrize("command,words", [
    ("no-such-test-runner-xyz", ("was not found", "no-such-test-runner-xyz")),
    ("kill -SEGV $$", ("killed by signal 11",)),
    (f"{sys.executable} -c 'import os; os.abort()'", ("killed by signal 6",)),
    ("pytest -q -k no_test_matches_this", ("collected no tests",)),
    ("pytest -q tests/nothing_here", ("collected no tests",)),
    ("exit 3", ("failed (exit status 3)",)),
], ids=["not-found", "segv", "abort", "no-tests-k", "no-tests-dir", "exit-3"])
def test_test_command_that_cannot_produce_results(command, words, tmp_path):
    repo = make_project(tmp_path / "repo")
    (repo / "tests/nothing_here").mkdir()
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--test-command", command,
                  "--output-dir", str(out))
    report = check_outcome(proc, out, code=2, mentions=words)
    assert report.get("error") is True
    assert "pkg/calc.py" in report["diff"]["changed_files"]   # the diff was still computed


def test_tests_that_ran_before_a_crash_are_still_reported(tmp_path):
    """The suite ran, then the command crashed: the coverage it wrote is not thrown away."""
    repo = make_project(tmp_path / "repo")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--test-command", "pytest -q; kill -SEGV $$",
                  "--output-dir", str(out))
    report = check_outcome(proc, out, code=2, mentions=("killed by signal 11",))
    assert report["totals"]["statements"] > 0
    assert report["tests"]["total"] == 3
    assert "signal 11" in (out / "comment.md").read_text()


@pytest.mark.parametrize("how", ["hangs", "crashes"])
def test_the_test_that_hung_or_crashed_is_named_and_the_others_kept(how, tmp_path):
    repo = make_project(tmp_path / "repo")
    body = "time.sleep(300)" if how == "hangs" else "os.kill(os.getpid(), signal.SIGSEGV)"
    write(repo, "tests/test_zz_bad.py", f"import os, signal, time\n\n\ndef test_bad():\n    {body}\n")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--timeout", "8", "--test-command", "pytest -q",
                  "--output-dir", str(out), timeout=90)
    word = "did not finish within 8 s" if how == "hangs" else "killed by signal 11"
    report = check_outcome(proc, out, code=2, mentions=(word,))
    tests = report["tests"]
    # test_add, test_sign, test_clamp passed before; test_bad is the one that never finished
    assert (tests["total"], tests["passed"], tests["errors"]) == (4, 3, 1)
    (bad,) = tests["failures"]
    assert bad["id"] == "tests/test_zz_bad.py::test_bad" and word in bad["message"]
    if how == "hangs":
        assert bad["category"] == "environment"
        # SIGINT first: pytest stopped like on Ctrl-C and coverage.py saved its data.
        assert report.get("error") is None and report["totals"]["statements"] > 0
        assert "pkg/calc.py" in report["diff"]["files"]
    comment = (out / "comment.md").read_text(encoding="utf-8")
    assert "tests/test_zz_bad.py::test_bad" in comment.replace("\\", "")
    if how == "hangs":   # numbers from a cut-short run never make a green check
        assert report["verdict"]["passed"] is False
        assert "inputs" in [r["rule"] for r in report["verdict"]["reasons"] if r["status"] == "failed"]
        assert "gate failed" in comment and "`inputs`" in comment


def test_hanging_test_command_is_killed_with_its_whole_process_group(tmp_path):
    repo = make_project(tmp_path / "repo")
    pids = tmp_path / "pids"
    # The shell starts a child that ignores SIGTERM and a grandchild; all must die.
    script = tmp_path / "hang.sh"
    script.write_text(textwrap.dedent(f'''\
        echo $$ >> {pids}
        (trap '' TERM; sleep 300) &
        echo $! >> {pids}
        {sys.executable} -c "import subprocess, time; p = subprocess.Popen(['sleep', '300']); \\
        open('{pids}', 'a').write(str(p.pid) + chr(10)); time.sleep(300)" &
        echo $! >> {pids}
        wait
    '''))
    out = tmp_path / "out"
    start = time.monotonic()
    proc = covbot(repo, "--base", "main", "--baseline", "none", "--test-command", f"sh {script}",
                  "--timeout", "2", "--output-dir", str(out), timeout=60)
    elapsed = time.monotonic() - start
    report = check_outcome(proc, out, code=2, mentions=("did not finish within 2 s", "timeout"))
    assert elapsed < 45   # 2 s timeout + 10 s after SIGINT + 3 s after SIGTERM, on a busy machine
    listed = [int(x) for x in pids.read_text().split()]
    assert len(listed) == 4
    deadline = time.monotonic() + 5
    while any(_pid_alive(p) for p in listed) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in listed if _pid_alive(p)] == []
    assert report.get("error") is True


def test_baseline_failure_does_not_hide_head_numbers(tmp_path):
    repo = make_project(tmp_path / "repo")
    bad = tmp_path / "baseline.json"
    bad.write_text('{"schema_version": 1, "files": [{"path": 3}]}')
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", str(bad), "--output-dir", str(out))
    report = check_outcome(proc, out, code=2, mentions=(str(bad),), hint=False)
    assert report["totals"]["statements"] > 0 and report["tests"]["total"] == 3
    assert report["diff"]["percent_covered"] is not None
    assert report["base_totals"] is None


def test_base_rerun_that_crashes_does_not_hide_head_numbers(tmp_path):
    repo = make_project(tmp_path / "repo")
    # The base's tests cannot run (its test file is broken at import) - the head's can.
    git(repo, "checkout", "-q", "main")
    write(repo, "conftest.py", "import os\nif not os.path.exists(os.path.join(os.path.dirname(__file__), "
                               "'pkg', 'calc.py')) or 'clamp' not in open(os.path.join(os.path.dirname("
                               "__file__), 'pkg', 'calc.py')).read():\n    os.abort()\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "conftest")
    git(repo, "checkout", "-q", "pr")
    git(repo, "rebase", "-q", "main")
    out = tmp_path / "out"
    proc = covbot(repo, "--base", "main", "--baseline", "rerun", "--output-dir", str(out))
    report = check_outcome(proc, out, code=2, mentions=("killed by signal 6",))
    assert report["totals"]["statements"] > 0 and report["tests"]["total"] == 3
    assert report["base_totals"] is None
    assert "signal 6" in report["baseline"]["description"]
