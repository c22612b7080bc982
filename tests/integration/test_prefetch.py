"""Work done by forked children (bot.runs.prefetch: the JUnit files, baseline.json) gives exactly
what doing it in the process gives: the same report.json, comment and baseline.json, the
same errors."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import workload  # noqa: E402

BIN = Path(sys.executable).parent


def _py(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh, single-threaded interpreter (pytest-xdist workers run
    threads, so the fork only happens in a process of its own)."""
    env = {k: v for k, v in os.environ.items() if k != "COVBOT_SERIAL"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_value_is_computed_in_a_child_and_handed_back():
    proc = _py("""
        import os
        from bot.runs import prefetch
        job = prefetch.start(lambda: (os.getpid(), os.getppid(), list(range(5))))
        pid, ppid, value = job.result()
        print(job.forked, pid != os.getpid(), ppid == os.getpid(), value)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "True", "[0,", "1,", "2,", "3,", "4]"]


def test_an_error_in_the_child_is_raised_by_the_parent_with_its_message(tmp_path):
    proc = _py(f"""
        from pathlib import Path
        from bot.runs import prefetch
        from bot.model.errors import InputError
        from bot.inputs.junit import load_results
        job = prefetch.start(load_results, [Path({str(tmp_path / 'missing.xml')!r})], None)
        try:
            job.result()
        except InputError as exc:
            print(job.forked, exc.message)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"True JUnit file {tmp_path / 'missing.xml'} does not exist"


def test_a_value_that_does_not_pickle_is_computed_in_the_parent():
    proc = _py("""
        import os
        from bot.runs import prefetch
        job = prefetch.start(lambda: (os.getpid(), lambda: 1))
        pid, fn = job.result()
        print(job.forked, pid == os.getpid(), fn())
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "1"]


def test_serial_when_asked(monkeypatch):
    from bot.runs import prefetch

    monkeypatch.setenv("COVBOT_SERIAL", "1")
    job = prefetch.start(os.getpid)
    assert not job.forked
    assert job.result() == os.getpid()


def test_packed_results_unpack_to_the_same_results(tmp_path):
    """A real pytest run (passes, failures, errors in setup, skips, xfails, a module that
    does not import) and the pickled, packed form round trip to equal results in order."""
    from bot.inputs.junit import read_junit
    from bot.inputs.results import pack_results, unpack_results

    (tmp_path / "test_a.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("no database")

        def test_ok(): assert True
        def test_fails(): assert 1 + 1 == 3
        def test_setup(broken): pass
        @pytest.mark.skip(reason="later")
        def test_skipped(): pass
        @pytest.mark.xfail
        def test_xfail(): assert False
        class TestK:
            def test_ok2(self): pass
            def test_raises(self): raise ValueError("bad value 7")
    """))
    (tmp_path / "test_b.py").write_text("import not_a_module_anywhere\n")
    junit = tmp_path / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
                    f"--junitxml={junit}",
                    str(tmp_path)], cwd=tmp_path, capture_output=True, timeout=120)
    results = read_junit(junit)
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["error", "error", "failed", "failed", "passed", "passed", "skipped", "skipped"]
    back = unpack_results(pickle.loads(pickle.dumps(pack_results(results))))
    assert back == results
    assert [r.id for r in back] == [r.id for r in results]


@pytest.fixture(scope="module")
def small_workload(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("prefetch")
    old, new = root / "old", root / "new"
    workload.synthetic_package(old, 4, version=1, functions=3)
    workload.synthetic_package(new, 4, version=2, functions=3)
    dest = root / "workload"
    workload.build(dest, old, new, tests=800, xml=False)
    return dest


def _report(dest: Path, out: Path, *, serial: bool) -> tuple[bytes, bytes, dict]:
    repo = dest / "repo"
    env = {k: v for k, v in os.environ.items() if k != "COVBOT_SERIAL"}
    if serial:
        env["COVBOT_SERIAL"] = "1"
    covbot = BIN / "covbot"
    cmd = ([str(covbot)] if covbot.is_file() else [sys.executable, "-m", "bot"]) + [
        "report", "--no-run", "--coverage-file", str(repo / "coverage.json"),
        "--junit", str(dest / "junit.xml"), "--baseline", str(dest / "base-coverage.json"),
        "--base", "main", "--output-dir", str(out)]
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    summary = json.loads((out / "baseline.json").read_text())
    summary.pop("saved")     # the time it was written
    return (out / "report.json").read_bytes(), (out / "comment.md").read_bytes(), summary


def test_forked_and_serial_reports_are_identical(small_workload, tmp_path):
    forked = _report(small_workload, tmp_path / "forked", serial=False)
    serial = _report(small_workload, tmp_path / "serial", serial=True)
    assert forked == serial
    tests = json.loads(forked[0])["tests"]
    # The workload's own count of test cases and failures (written by benchmarks/workload.py).
    meta = json.loads((small_workload / "meta.json").read_text())
    assert tests["total"] == 800
    assert tests["failed"] + tests["errors"] == meta["junit"]["failed"] > 0
    assert tests["skipped"] == meta["junit"]["skipped"]


def test_input_errors_come_in_the_same_order_forked_or_serial(small_workload, tmp_path):
    """A damaged JUnit file and a missing baseline file: both errors, the JUnit one
    first (the order of the stages), whether the JUnit file was read by a child or not."""
    repo = small_workload / "repo"
    bad = tmp_path / "junit.xml"
    bad.write_text((small_workload / "junit.xml").read_text()[:5000])   # cut short mid-file
    docs = []
    for serial in (False, True):
        env = {k: v for k, v in os.environ.items() if k != "COVBOT_SERIAL"}
        if serial:
            env["COVBOT_SERIAL"] = "1"
        out = tmp_path / ("serial" if serial else "forked")
        proc = subprocess.run([sys.executable, "-m", "bot", "report", "--no-run",
                               "--coverage-file", str(repo / "coverage.json"), "--junit", str(bad),
                               "--baseline", str(tmp_path / "no-such-base.json"), "--base", "main",
                               "--output-dir", str(out)], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        docs.append(json.loads((out / "report.json").read_text()))
    assert docs[0] == docs[1]
    messages = [e["message"] for e in docs[0]["errors"]]
    assert len(messages) == 2
    assert messages[0].startswith(f"JUnit file {bad} is not well-formed XML")
    assert messages[1] == f"baseline file {tmp_path / 'no-such-base.json'} does not exist"


def test_a_large_baseline_file_does_not_import_msgspec_twice(small_workload, tmp_path):
    """A baseline coverage.json of more than 1 MiB is decoded with msgspec, as the head's
    is: the run imports it once, not once in each process (about 15 ms of CPU each
    time). ``-X importtime`` reports the imports of forked children too."""
    repo = small_workload / "repo"
    base = json.loads((small_workload / "base-coverage.json").read_text())
    big = tmp_path / "base-coverage.json"
    big.write_text(json.dumps(base, indent=1) + " " * (1 << 20))    # the same document, padded past 1 MiB
    env = {k: v for k, v in os.environ.items() if k not in ("COVBOT_SERIAL", "PYTHONDONTWRITEBYTECODE")}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", "report", "--no-run",
                           "--coverage-file", str(repo / "coverage.json"), "--junit", str(small_workload / "junit.xml"),
                           "--baseline", str(big), "--base", "main", "--output-dir", str(tmp_path / "out")],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["baseline"]["mode"] == "file" and report["delta"] is not None
    imports = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert imports.count("msgspec") == 1, [m for m in imports if m.startswith("msgspec")]


FORKS = """
import json, os, sys
from bot.app.cli import main
forks = []
real_fork = os.fork

def fork():
    pid = real_fork()
    if pid:
        forks.append(pid)
    return pid

os.fork = fork
code = main(sys.argv[1:])
print(json.dumps([code, len(forks)]))
"""


def test_a_report_of_given_files_forks_one_child_for_the_inputs(small_workload, tmp_path):
    """Each fork costs the pages both processes go on writing (copied) and what the child
    imports again: one child reads the baseline file and then the JUnit files, sending
    each as soon as it is read, and this process makes baseline.json's rows itself
    while git's diff finishes. (A child each for the baseline, the JUnit files and the
    rows cost 0.44 s of CPU on the benchmark where one costs 0.39 s.) The only other
    child writes the HTML page while the comment and report.json are made."""
    repo = small_workload / "repo"
    env = {k: v for k, v in os.environ.items() if k != "COVBOT_SERIAL"}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", FORKS, "report", "--no-run", "--coverage-file", str(repo / "coverage.json"),
                           "--junit", str(small_workload / "junit.xml"), "--baseline", str(small_workload / "base-coverage.json"),
                           "--base", "main", "--output-dir", str(out)],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    code, forks = json.loads(proc.stdout.strip().splitlines()[-1])
    assert code in (0, 1), proc.stderr[-3000:]
    assert forks == 2
    assert (out / "html" / "index.html").is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["tests"]["total"] == 800 and report["delta"] is not None
    assert json.loads((out / "baseline.json").read_text())["files"]


def test_a_later_job_can_be_asked_for_before_an_earlier_large_one():
    """One child writes its jobs' messages in order, and a message larger than a pipe
    holds (64 KiB) waits until it is read: asking for the second job first must not wait
    forever for a child blocked on the first."""
    proc = _py("""
        from bot.runs import prefetch
        big = prefetch.Job(lambda: b"x" * 500_000)
        small = prefetch.Job(lambda: 42)
        prefetch.start_all([big, small])
        print(big.forked, small.result(), len(big.result()))
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "42", "500000"]


def test_an_unreadable_head_coverage_beside_a_large_baseline_is_a_clear_error_not_a_hang(tmp_path):
    """With the head coverage unreadable, the report never asks for the baseline (read
    first by the child) but does ask for the JUnit results: the forked path must end as
    the one-process path does, exit 2 with the file named."""
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    for i in range(3000):
        (repo / "pkg" / f"m{i}.py").write_text(f"X = {i}\n")
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(git + cmd, cwd=repo, check=True)
    loader = tmp_path / "load_all.py"
    loader.write_text("import importlib\nfor i in range(3000):\n    importlib.import_module(f'pkg.m{i}')\n")
    subprocess.run([str(BIN / "coverage"), "run", "--branch", "--source=pkg", str(loader)], cwd=repo, check=True,
                   env=dict(os.environ, PYTHONPATH=str(repo)))
    subprocess.run([str(BIN / "coverage"), "json", "-q", "-o", str(tmp_path / "base.json")], cwd=repo, check=True)
    assert (tmp_path / "base.json").stat().st_size > 1_000_000
    (tmp_path / "junit.xml").write_text('<?xml version="1.0"?><testsuites><testsuite name="t" tests="1">'
                                        '<testcase classname="test_a" name="test_a" time="0.1"/></testsuite></testsuites>')
    (tmp_path / "bad.coverage").write_bytes(b"garbage\n")
    args = [sys.executable, "-m", "bot", "report", "--no-run", "--coverage-file", str(tmp_path / "bad.coverage"),
            "--junit", str(tmp_path / "junit.xml"), "--baseline", str(tmp_path / "base.json"), "--base", "main",
            "--format", "text"]
    env = {k: v for k, v in os.environ.items() if k != "COVBOT_SERIAL"}
    ends = {}
    for serial in (False, True):
        out = tmp_path / f"out-{serial}"
        proc = subprocess.run(args + ["--output-dir", str(out)], cwd=repo, capture_output=True, text=True, timeout=60,
                              env=dict(env, COVBOT_SERIAL="1") if serial else env)
        assert proc.returncode == 2, proc.stderr
        ends[serial] = json.loads((out / "report.json").read_text())["errors"]
    assert ends[False] == ends[True] and "bad.coverage" in ends[False][0]["message"], ends
