#!/usr/bin/env python3
"""What measuring coverage costs a test run, per Python and coverage.py core.

Generates a sample project (the synthetic package of :mod:`workload`, with a pytest
suite that calls every function many times), then runs the suite, alternating, N times
each: without coverage, under ``coverage run`` with the C tracer (``COVERAGE_CORE=ctrace``)
and with ``sys.monitoring`` (``COVERAGE_CORE=sysmon``, Python 3.12+), for line and branch
coverage. Prints median wall and CPU times and the overhead against the plain run.

    python benchmarks/tracer_overhead.py --python python3.11 --python /path/to/python3.13

Each interpreter needs pytest and coverage installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workload  # noqa: E402

TEST_TEMPLATE = '''import random

from pkg.sub{sub} import mod{i} as m


def test_mod{i}():
    rng = random.Random({i})
    for _ in range({calls}):
        items = [rng.randrange(40) for _ in range(12)]
        for name in dir(m):
            if name.startswith("func_"):
                getattr(m, name)(items)
'''


def make_project(dest: Path, modules: int, calls: int) -> None:
    workload.synthetic_package(dest, modules, version=1, functions=6)
    tests = dest / "tests"
    tests.mkdir(exist_ok=True)
    for i in range(modules):
        (tests / f"test_mod{i}.py").write_text(TEST_TEMPLATE.format(sub=i % 8, i=i, calls=calls))


def run(python: str, cwd: Path, mode: str) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"    # the same pytest everywhere, whatever is installed
    pytest_args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    if mode == "plain":
        cmd = [python] + pytest_args
    else:
        core, kind = mode.split("-")
        env["COVERAGE_CORE"] = core
        cmd = [python, "-m", "coverage", "run", "--source=pkg"] + (["--branch"] if kind == "branch" else []) \
            + pytest_args
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def core_used(python: str, cwd: Path, mode: str) -> str:
    """The core coverage.py really used (it falls back to ctrace where sysmon cannot)."""
    core, kind = mode.split("-")
    code = ("import coverage; c = coverage.Coverage(branch=%r); c.start(); c.stop(); "
            "print(dict(c.sys_info()).get('core', '?'))" % (kind == "branch"))
    env = dict(os.environ, COVERAGE_CORE=core)
    out = subprocess.run([python, "-W", "ignore", "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    return (out.stdout.strip() or "?").splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", action="append", help="interpreter to measure (repeatable; default this one)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--modules", type=int, default=24)
    ap.add_argument("--calls", type=int, default=1500)
    args = ap.parse_args(argv)
    pythons = args.python or [sys.executable]
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="covbot-tracer-") as tmp:
        proj = Path(tmp) / "proj"
        make_project(proj, args.modules, args.calls)
        for python in pythons:
            version = subprocess.run([python, "-c", "import sys, coverage; print(sys.version.split()[0], "
                                      "coverage.__version__)"], capture_output=True, text=True, check=True).stdout.split()
            modes = ["plain", "ctrace-line", "ctrace-branch"]
            if tuple(int(x) for x in version[0].split(".")[:2]) >= (3, 12):
                modes += ["sysmon-line", "sysmon-branch"]
            samples: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
            for m in modes:
                run(python, proj, m)           # warm up
            for _ in range(args.reps):
                for m in modes:
                    samples[m].append(run(python, proj, m))
            print(f"\nPython {version[0]}, coverage {version[1]} ({python}), {args.reps} runs each")
            plain_wall = statistics.median(w for w, _ in samples["plain"])
            plain_cpu = statistics.median(c for _, c in samples["plain"])
            for m in modes:
                wall = statistics.median(w for w, _ in samples[m])
                cpu = statistics.median(c for _, c in samples[m])
                used = "" if m == "plain" else f"  (core used: {core_used(python, proj, m)})"
                print(f"  {m:14} wall {wall:6.2f}s  CPU {cpu:6.2f}s  overhead {cpu / plain_cpu - 1:+6.0%} CPU, "
                      f"{wall / plain_wall - 1:+6.0%} wall{used}")
        shutil.rmtree(proj, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
