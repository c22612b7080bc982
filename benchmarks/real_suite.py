#!/usr/bin/env python3
"""What covbot adds to a real project's test run.

Builds (once, cached under ``~/.cache/covbot-bench/``) a git repository of a pure-Python
project from PyPI whose sdist ships its tests: the older release as ``main``, the newer
as the branch ``pr`` (jsonschema 4.22.0 -> 4.23.0 by default: 7,230 tests), with a bare
``origin``. The project is installed, editable, into this Python's environment (which
must have covbot, pytest, pytest-cov and diff-cover), and main's baseline is stored on
the data branch with ``covbot baseline save`` (not timed). Then, on the PR branch,
alternating, it times

- the usual pipeline: ``pytest --cov --cov-branch --cov-report=xml`` and then
  ``diff-cover coverage.xml --compare-branch=main``;
- ``covbot report --baseline auto`` running the same pytest command (coverage with
  branches, its results plugin, the rerun pass, the analysis, the comment);
- once, the suite with no coverage at all, for scale;

and prints medians of wall and CPU time, and covbot's extra time over the measured
suite alone (``pytest --cov``), as a share of it.

    python benchmarks/real_suite.py                    # 5 rounds
    python benchmarks/real_suite.py --reps 3 --package jsonschema --old 4.22.0 --new 4.23.0 --tests jsonschema
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import CACHE, download, timed  # noqa: E402

BIN = Path(sys.executable).parent


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args], cwd=repo,
                   check=True, stdout=subprocess.DEVNULL)


def sdist(package: str, version: str) -> Path:
    """The unpacked sdist of ``package==version``, cached."""
    dest = CACHE / f"sdist-{package}-{version}"
    if dest.is_dir():
        return dest
    archive = download(package, version, sdist=True)
    tmp = dest.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(archive) as tf:
        tf.extractall(tmp, filter="data")
    (top,) = tmp.iterdir()
    top.rename(dest)
    tmp.rmdir()
    return dest


def _copy_release(src: Path, repo: Path) -> None:
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(src, repo, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.egg-info"), copy_function=shutil.copy)


def build(dest: Path, old: Path, new: Path, test_command: str) -> Path:
    """The repository (main: ``old``, pr: ``new``) with the baseline of main stored."""
    repo = dest / "repo"
    if (dest / "ready").is_file():
        return repo
    shutil.rmtree(dest, ignore_errors=True)
    repo.mkdir(parents=True)
    origin = dest / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    _git(repo, "init", "-q", "-b", "main")
    _copy_release(old, repo)
    (repo / ".gitignore").write_text("*.egg-info/\n__pycache__/\n.covbot/\ncoverage.xml\n.coverage*\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", f"release {old.name}")
    _git(repo, "remote", "add", "origin", str(origin))
    _git(repo, "push", "-q", "origin", "main")
    _git(repo, "checkout", "-q", "-b", "pr")
    _copy_release(new, repo)
    (repo / ".gitignore").write_text("*.egg-info/\n__pycache__/\n.covbot/\ncoverage.xml\n.coverage*\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", f"release {new.name}")
    install(repo)
    _git(repo, "checkout", "-q", "main")
    subprocess.run([str(BIN / "covbot"), "baseline", "save", "--test-command", test_command,
                    "--output-dir", str(dest / "save")], cwd=repo, check=True, stdout=subprocess.DEVNULL)
    _git(repo, "checkout", "-q", "pr")
    (dest / "ready").write_text("")
    return repo


def install(repo: Path) -> None:
    """The project, editable, in this Python's environment (as a CI job installs it)."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", str(repo)], check=True)


def commands(repo: Path, out: Path, pytest: list[str]) -> dict[str, list[str]]:
    covbot_test = " ".join(shlex.quote(a) for a in pytest)
    return {
        "pytest --cov": pytest + ["--cov", "--cov-branch", "--cov-report", f"xml:{out / 'coverage.xml'}"],
        "diff-cover": [str(BIN / "diff-cover"), str(out / "coverage.xml"), "--compare-branch=main",
                       f"--format=json:{out / 'diff-cover.json'}"],
        "covbot report": [str(BIN / "covbot"), "report", "--baseline", "auto", "--base", "main",
                          "--test-command", covbot_test, "--output-dir", str(out / "covbot"),
                          "--format", "markdown"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default="jsonschema")
    ap.add_argument("--old", default="4.22.0")
    ap.add_argument("--new", default="4.23.0")
    ap.add_argument("--tests", default="jsonschema", help="what pytest is given (default: jsonschema)")
    ap.add_argument("--reps", type=int, default=5, help="alternating rounds (default 5)")
    args = ap.parse_args(argv)
    for tool in ("covbot", "diff-cover"):
        if not (BIN / tool).is_file():
            raise SystemExit(f"{tool} is not installed next to {sys.executable}")
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *shlex.split(args.tests)]
    dest = CACHE / f"suite-{args.package}-{args.old}-{args.new}"
    repo = build(dest, sdist(args.package, args.old), sdist(args.package, args.new), " ".join(pytest))
    if subprocess.run([sys.executable, "-c", f"import {args.package}"], cwd=repo.parent).returncode:
        install(repo)           # a second environment timed on the same repository
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"Python {sys.version.split()[0]}")
    print(f"suite: {args.package} {args.new} (PR) against {args.old} (main), {args.reps} rounds, alternating\n")
    with tempfile.TemporaryDirectory(prefix="covbot-suite-") as tmp:
        out = Path(tmp)
        cmds = commands(repo, out, pytest)
        plain = timed(pytest, repo)
        samples: dict[str, list] = {name: [] for name in cmds}
        for i in range(args.reps):
            order = list(cmds) if i % 2 == 0 else ["covbot report", "pytest --cov", "diff-cover"]
            for name in order:
                samples[name].append(timed(cmds[name], repo)[:3])
        report = json.loads((out / "covbot" / "report.json").read_text())
        dc = json.loads((out / "diff-cover.json").read_text())
    med = {name: (statistics.median(w for w, _, _ in s), statistics.median(c for _, c, _ in s),
                  max(r for _, _, r in s)) for name, s in samples.items()}
    usual = (med["pytest --cov"][0] + med["diff-cover"][0], med["pytest --cov"][1] + med["diff-cover"][1])
    print(f"  {'':34} {'wall':>8} {'CPU':>8} {'peak RSS':>9}")
    print(f"  {'pytest (no coverage, once)':34} {plain[0]:7.2f}s {plain[1]:7.2f}s {plain[2]:5.0f} MiB")
    for name, (w, c, r) in med.items():
        print(f"  {name:34} {w:7.2f}s {c:7.2f}s {r:5.0f} MiB")
    print(f"  {'pytest --cov + diff-cover':34} {usual[0]:7.2f}s {usual[1]:7.2f}s")
    suite_w, suite_c = med["pytest --cov"][:2]
    cov_w, cov_c = med["covbot report"][:2]
    print(f"\n  covbot's extra over the measured suite: wall {cov_w - suite_w:+.2f}s "
          f"({(cov_w - suite_w) / suite_w:+.1%}), CPU {cov_c - suite_c:+.2f}s ({(cov_c - suite_c) / suite_c:+.1%})")
    print(f"  covbot against pytest --cov + diff-cover: wall {cov_w / usual[0]:.3f}x, CPU {cov_c / usual[1]:.3f}x")
    tests = report.get("tests") or {}
    print(f"  covbot: {tests.get('total')} tests, {tests.get('failed')} failed; diff coverage "
          f"{report['diff']['percent_covered']}% ({report['diff']['num_lines']} lines), delta {report.get('delta')} "
          f"against the stored baseline; diff-cover {dc['total_percent_covered']}% ({dc['total_num_lines']} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
