"""Tier targets on a real code base of size: Django's source with synthetic coverage.

    python benchmarks/tiers_real.py [--wheel Django-X-py3-none-any.whl] [--workdir DIR] [--seed N]

Without ``--wheel`` the Django wheel is fetched with ``pip download --no-deps``. The
script unpacks the ``django`` package into a fresh git repository (``main``), writes
coverage data for it with coverage.py's ``CoverageData`` API (a deterministic random
share of each file's statements, as parsed by coverage.py), runs ``covbot report
--no-run`` on the base, then makes a PR branch that edits a few files and moves the
coverage of some others, and runs ``covbot report --no-run`` against the base's
report.json. It prints the tier section of the PR comment and the time each run took.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import coverage
from coverage.parser import PythonParser

DJANGO = "django==5.1.4"
CONFIG = """\
critical:
  paths: ["django/db/models/sql/*.py", "django/core/handlers/**"]
  target: 70
"""


def sh(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    proc = subprocess.run(cmd, cwd=cwd, env=env, text=True, capture_output=True)
    if check and proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def fetch_wheel(dest: Path) -> Path:
    sh([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
        DJANGO, "-d", str(dest)], dest)
    return next(dest.glob("[Dd]jango-*.whl"))


def unpack(wheel: Path, repo: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith("django/") and name.endswith(".py"):
                zf.extract(name, repo)


def statements(path: Path) -> set[int]:
    try:
        parser = PythonParser(text=path.read_text(encoding="utf-8"), filename=str(path))
        parser.parse_source()
    except Exception:   # noqa: BLE001 - a file coverage.py cannot parse is left out
        return set()
    return set(parser.statements)


def write_data(data_file: Path, executed: dict[Path, set[int]]) -> None:
    data = coverage.CoverageData(basename=str(data_file))
    data.add_lines({str(p): sorted(lines) for p, lines in executed.items() if lines})
    data.write()


def synthetic(repo: Path, rng: random.Random) -> dict[Path, float]:
    """A coverage share per file: many well-tested files, a long tail of poorly tested ones."""
    shares = {}
    for path in sorted(repo.joinpath("django").rglob("*.py")):
        shares[path] = min(1.0, max(0.0, rng.betavariate(2.2, 1.6)))
    return shares


def executed_lines(shares: dict[Path, float], rng: random.Random) -> dict[Path, set[int]]:
    out = {}
    for path, share in shares.items():
        stmts = sorted(statements(path))
        k = round(share * len(stmts))
        out[path] = set(rng.sample(stmts, k)) if stmts else set()
    return out


def covbot(repo: Path, out: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = sh([sys.executable, "-m", "bot", "report", "--no-run", "--base", "main", "--output-dir", str(out),
               *args], repo, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"covbot report exited {proc.returncode}:\n{proc.stderr}")
    return elapsed, proc


def time_tiers_stage(head_report: Path, base_report: Path, repeat: int = 5) -> float:
    """Best time (ms) of tiers.apply + tiers_section on the counts of the two reports."""
    from bot.stages import tiers
    from bot.stages.analyze import build_report
    from bot.baseline.sources import from_report_dict
    from bot.app.config_file import load_config
    from bot.model.diff import Diff
    from bot.render.tiers_section import tiers_section

    head = from_report_dict(json.loads(head_report.read_text(encoding="utf-8")), str(head_report)).coverage
    base = from_report_dict(json.loads(base_report.read_text(encoding="utf-8")), str(base_report)).coverage
    config = load_config(None, head_report.parent.parent / "repo")
    best = float("inf")
    for _ in range(repeat):
        report = build_report(head=head, base=base, diff=Diff(), config=config, head_info={}, base_info={},
                              baseline_info={})
        t0 = time.perf_counter()
        tiers.apply(report, head=head, base=base, config=config)
        tiers_section(report)
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help="a Django wheel (default: pip download " + DJANGO + ")")
    ap.add_argument("--workdir", type=Path, help="where to build the repository (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=20241122)
    args = ap.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="covbot-tiers-real-"))
    work.mkdir(parents=True, exist_ok=True)
    wheel = args.wheel or fetch_wheel(work)
    repo = work / "repo"
    if repo.exists():
        sys.exit(f"{repo} exists; pass an empty --workdir")
    repo.mkdir()
    unpack(wheel, repo)
    (repo / ".covbot.yml").write_text(CONFIG, encoding="utf-8")
    sh(["git", "init", "-q", "--initial-branch=main"], repo)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-q", "-m", f"{wheel.name} as the base"], repo)

    rng = random.Random(args.seed)
    shares = synthetic(repo, rng)
    t0 = time.perf_counter()
    base_exec = executed_lines(shares, rng)
    write_data(work / "base.coverage", base_exec)
    gen_time = time.perf_counter() - t0
    n_files = len(shares)
    n_stmts = sum(len(statements(p)) for p in shares)

    base_out = work / "base-out"
    base_time, _ = covbot(repo, base_out, "--coverage-file", str(work / "base.coverage"), "--baseline", "none")

    # The PR: edit a few large files (a new function each) and move the tests' reach.
    sh(["git", "checkout", "-q", "-b", "pr"], repo)
    base_report = json.loads((base_out / "report.json").read_text(encoding="utf-8"))
    tiered = [f for f in base_report["files"] if f["target"] is not None]
    edited = [repo / f["path"] for f in rng.sample(tiered, 4)]
    for path in edited:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\n\ndef _covbot_benchmark_helper(value):\n    if value:\n        return value * 2\n"
                     "    return None\n")
    sh(["git", "commit", "-q", "-am", "PR: helpers in a few modules"], repo)
    head_shares = dict(shares)
    near = sorted(tiered, key=lambda f: abs(f["percent_covered"] - (f["target"] or 0)))[:12]
    for f in near:                       # files close to their target swing either way
        p = repo / f["path"]
        head_shares[p] = max(0.0, min(1.0, shares[p] + rng.choice([-0.08, 0.08])))
    head_exec = executed_lines(head_shares, random.Random(args.seed))
    write_data(work / "head.coverage", head_exec)

    head_out = work / "head-out"
    head_time, proc = covbot(repo, head_out, "--coverage-file", str(work / "head.coverage"),
                             "--baseline", str(base_out / "report.json"))
    stage_ms = time_tiers_stage(head_out / "report.json", base_out / "report.json")
    comment = (head_out / "comment.md").read_text(encoding="utf-8")
    start = comment.index("#### 🎯 Tier targets")
    end = comment.find("<sub>head ", start)
    print(comment[start:end if end != -1 else None].rstrip())
    print()
    print(f"code base: {wheel.name}, {n_files} files, {n_stmts:,} statements (coverage.py's parser)")
    head_doc = json.loads((head_out / "report.json").read_text(encoding="utf-8"))
    print(f"measured files in the PR's report.json: {len(head_doc['files'])} "
          f"(files with no executed line are absent from coverage data, as in a real run)")
    print(f"synthetic coverage data written in {gen_time:.2f}s (seed {args.seed})")
    print(f"covbot report --no-run on the base: {base_time:.2f}s")
    print(f"covbot report --no-run on the PR (baseline: the base's report.json): {head_time:.2f}s, "
          f"exit {proc.returncode}")
    print(f"of which the tiers stage (bot.stages.tiers.apply + the comment section), in process: {stage_ms:.1f} ms")
    print(f"work folder: {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
