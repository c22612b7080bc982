#!/usr/bin/env python3
"""What recording per-test contexts costs covbot's test run on a real suite.

Runs a project's test command the way ``covbot report`` runs it
(:func:`bot.runs.collect.run_tests`: covbot's coverage with branches, its results
plugin, JUnit), alternating with and without contexts (``contexts: false``), and prints
per round and as medians the wall time of the run and the size of the data files it
wrote (with contexts, the lines of the PR's changed files are recorded per test, as
``covbot report`` records them); then loads each run's data once as ``covbot report``
does and times reading the contexts of the changed files.

    python benchmarks/contexts_overhead.py REPO --test-command "PYTHON -m pytest -q -p no:cacheprovider PKG"
    python benchmarks/contexts_overhead.py REPO --reps 5 --test-command ...

REPO is a git checkout of the project whose test environment has pytest and coverage
(the test command names its interpreter). A project whose coverage configuration sets
``dynamic_context`` records contexts either way: take that line out for the comparison.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.runs.changes import changed_lines
from bot.runs.collect import run_tests
from bot.runs.git import Git
from bot.runs.joblog import JobLog
from bot.stages.who_tests import files_to_record


def one_run(repo: Path, command: str, contexts: list[Path] | None, out: Path) -> tuple[float, float, int, list[Path]]:
    """(wall seconds, CPU seconds of the test processes, bytes of data files, the data files)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = run_tests(command, root=repo, out_dir=out, contexts=contexts, log=_Silent())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, sum(p.stat().st_size for p in run.data_files), run.data_files


class _Silent(JobLog):
    """The test command's output to /dev/null, covbot's messages too."""

    def __init__(self):
        super().__init__(fenced=False)

    def message(self, text: str) -> None:
        pass

    def child_output(self):
        import contextlib

        @contextlib.contextmanager
        def devnull():
            with open("/dev/null", "wb") as fh:
                yield fh.fileno()
        return devnull()


def read_contexts(repo: Path, data_files: list[Path], changed: list[str]) -> tuple[float, float, int]:
    """(seconds to load the data as covbot does, seconds for the contexts of the changed
    files, lines with a test) of one run's data files."""
    from bot.inputs.coverage import load_coverage

    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True,
                             check=True).stdout.split()
    start = time.perf_counter()
    cov = load_coverage(data_files, root=repo, tracked=tracked, contexts=True)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    lines = sum(len(cov.contexts.by_line(p) or {}) for p in changed) if cov.contexts else 0
    return loaded, time.perf_counter() - start, lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("repo", type=Path)
    ap.add_argument("--test-command", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--base", default="main", help="the branch the checked-out PR branch is compared with")
    args = ap.parse_args()
    repo = args.repo.resolve()
    git = Git(repo)
    changed = files_to_record(changed_lines(git, git.merge_base(git.resolve_base(args.base)[1], "HEAD")), repo)
    print(f"{len(changed or [])} changed files recorded per test", flush=True)
    walls: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    sizes: dict[bool, list[int]] = {False: [], True: []}
    last: dict[bool, list[Path]] = {}
    with tempfile.TemporaryDirectory(prefix="covbot-ctx-bench-") as tmp:
        one_run(repo, args.test_command, None, Path(tmp) / "warm")   # caches, .pyc files
        for i in range(args.reps):
            for contexts in ((False, True) if i % 2 == 0 else (True, False)):
                out = Path(tmp) / f"{i}-{int(contexts)}"
                wall, cpu, size, files = one_run(repo, args.test_command, changed if contexts else None, out)
                walls[contexts].append(wall)
                cpus[contexts].append(cpu)
                sizes[contexts].append(size)
                last[contexts] = files
                print(f"round {i + 1} contexts={'on ' if contexts else 'off'} wall {wall:7.2f} s  CPU {cpu:7.2f} s  "
                      f"data {size / 1e6:7.2f} MB", flush=True)
        off, on = statistics.median(walls[False]), statistics.median(walls[True])
        size_off, size_on = statistics.median(sizes[False]), statistics.median(sizes[True])
        print(f"median wall: off {off:.2f} s, on {on:.2f} s: {(on - off) / off * 100:+.1f}%")
        c_off, c_on = statistics.median(cpus[False]), statistics.median(cpus[True])
        print(f"median CPU:  off {c_off:.2f} s, on {c_on:.2f} s: {(c_on - c_off) / c_off * 100:+.1f}%")
        print(f"median data: off {size_off / 1e6:.2f} MB, on {size_on / 1e6:.2f} MB: x{size_on / size_off:.2f}")
        for contexts in (False, True):
            loaded, queried, lines = read_contexts(repo, last[contexts],
                                                   [p.relative_to(repo).as_posix() for p in changed or []])
            print(f"contexts={'on ' if contexts else 'off'}: load {loaded:.2f} s, contexts of the changed "
                  f"files {queried * 1000:.0f} ms ({lines} lines with a test)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
