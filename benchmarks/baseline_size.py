"""How big is a stored baseline, and how long do saving and loading take?

Builds a synthetic project of about 100,000 statements (generated Python modules with
branches), measures it for real with coverage.py's API (branch coverage, part of the
functions called), commits it to a git repository with a bare ``origin``, and then:

1. runs ``covbot baseline save --no-run --coverage-file .coverage`` (the CLI, timed);
2. reports the summary's size raw and as git stores it (zlib blob);
3. saves ``--history`` more baselines of successive commits whose coverage drifts a
   little, as a team's main branch does, packs the bare repository and reports the
   growth per saved commit (what thousands of commits cost);
4. times loading in a fresh clone: fetching the data branch and reading the baseline of
   the merge-base (``bot.baseline.stored.load_for_report``), cold and warm.

    python benchmarks/baseline_size.py [--statements 100000] [--history 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUNC = '''
def f{n}(x):
    a = x + {n}
    b = a * 2
    if a > {k}:
        c = a - 1
        d = c * 3
    else:
        c = a + 1
        d = c * 5
    return b + d
'''
STATEMENTS_PER_FUNC = 9
FUNCS_PER_FILE = 25


def sh(cmd: list[str], cwd: Path, **kw) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
    for k in ("PYTEST_ADDOPTS", "COVERAGE_FILE", "COVERAGE_PROCESS_START"):
        env.pop(k, None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def generate(root: Path, statements: int) -> int:
    files = -(-statements // (STATEMENTS_PER_FUNC * FUNCS_PER_FILE))
    pkg = root / "src" / "bigpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for i in range(files):
        body = "".join(FUNC.format(n=j, k=(i + j) % 7) for j in range(FUNCS_PER_FILE))
        (pkg / f"mod_{i:04d}.py").write_text(f'"""Generated module {i}."""\n' + body)
    (root / "pyproject.toml").write_text('[tool.coverage.run]\nbranch = true\nsource = ["src"]\n'
                                         'relative_files = true\n')
    return files


def measure(root: Path, files: int, seed: int) -> None:
    """Import every module under coverage.py and call about 60% of the functions."""
    import coverage

    rnd = random.Random(seed)
    sys.path.insert(0, str(root / "src"))
    for name in [m for m in sys.modules if m.startswith("bigpkg")]:
        del sys.modules[name]
    data = root / ".coverage"
    data.unlink(missing_ok=True)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cov = coverage.Coverage(data_file=str(data), branch=True, source=[str(root / "src")],
                                config_file=str(root / "pyproject.toml"))
        cov.start()
        import importlib

        for i in range(files):
            mod = importlib.import_module(f"bigpkg.mod_{i:04d}")
            for j in range(FUNCS_PER_FILE):
                r = rnd.random()
                if r < 0.6:
                    getattr(mod, f"f{j}")(rnd.choice((-20, 20)))     # one branch
                if r < 0.3:
                    getattr(mod, f"f{j}")(20 if rnd.random() < 0.5 else -20)
        cov.stop()
        cov.save()
    finally:
        os.chdir(cwd)
        sys.path.remove(str(root / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--statements", type=int, default=100_000)
    ap.add_argument("--history", type=int, default=50, help="further saved commits for the growth figure")
    ap.add_argument("--keep", help="build in this folder and keep it")
    args = ap.parse_args()

    from bot.baseline import data_branch, stored, summary as summaries
    from bot.model.config import Config
    from bot.runs.git import Git
    from bot.inputs.coverage import load_coverage

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="covbot-bench-"))
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    repo, origin = base / "project", base / "origin.git"
    repo.mkdir()
    files = generate(repo, args.statements)
    t = time.perf_counter()
    measure(repo, files, seed=1)
    measure_s = time.perf_counter() - t
    sh(["git", "init", "-q", "--bare", str(origin)], base)
    sh(["git", "init", "-q", "--initial-branch=main"], repo)
    (repo / ".gitignore").write_text(".coverage\n.covbot/\n")
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-q", "-m", "generated project"], repo)
    sh(["git", "remote", "add", "origin", str(origin)], repo)
    sh(["git", "push", "-q", "origin", "main"], repo)

    # 1. the CLI save
    t = time.perf_counter()
    sh([sys.executable, "-m", "bot", "baseline", "save", "--no-run", "--coverage-file", ".coverage"], repo)
    save_cli_s = time.perf_counter() - t
    head = sh(["git", "rev-parse", "HEAD"], repo).strip()
    path = data_branch.summary_path(head)
    raw = sh(["git", "cat-file", "-s", f"covbot-data:{path}"], origin).strip()
    blob = sh(["git", "rev-parse", f"covbot-data:{path}"], origin).strip()
    loose = origin / "objects" / blob[:2] / blob[2:]
    doc = json.loads(sh(["git", "show", f"covbot-data:{path}"], origin))
    if loose.is_file():
        disk = loose.stat().st_size
    else:
        disk = int(sh(["git", "cat-file", "--batch-check=%(objectsize:disk)"], origin, input=blob + "\n").strip())

    # the parts of a save: collect (coverage.py's report of the data) vs the store itself
    git = Git(repo)
    t = time.perf_counter()
    cov = load_coverage([repo / ".coverage"], root=repo, tracked=git.tracked_files())
    load_cov_s = time.perf_counter() - t

    # 3. growth over successive commits whose coverage drifts
    rnd = random.Random(7)
    store_times = []
    sh(["git", "gc", "-q", "--prune=now"], origin)
    pack_before = _pack_bytes(origin)
    for n in range(args.history):
        (repo / "CHANGES").write_text(f"{n}\n")
        sh(["git", "add", "CHANGES"], repo)
        sh(["git", "commit", "-q", "-m", f"change {n}"], repo)
        sha = sh(["git", "rev-parse", "HEAD"], repo).strip()
        for fc in rnd.sample(sorted(cov.files.values(), key=lambda f: f.path), 5):   # a few files move
            if fc.missing and rnd.random() < 0.7:
                fc.missing.discard(min(fc.missing))
            else:
                extra = sorted(fc.statements - fc.missing)
                if extra:
                    fc.missing.add(extra[-1])
        summary = summaries.summarize(cov, None, commit=sha, ref="main",
                                      committed=f"2026-01-01T{n // 60:02d}:{n % 60:02d}:00Z",
                                      saved=summaries.utc_now())
        t = time.perf_counter()
        data_branch.save(git, summary=summary, remote="origin", branch="covbot-data", history_length=500)
        store_times.append(time.perf_counter() - t)
    sh(["git", "gc", "-q", "--prune=now"], origin)
    pack_after = _pack_bytes(origin)
    per_commit = (pack_after - pack_before) / max(1, args.history)
    sh(["git", "push", "-q", "origin", "main"], repo)

    # 4. load in a fresh clone
    clone = base / "clone"
    sh(["git", "clone", "-q", "--single-branch", "--branch", "main", str(origin), str(clone)], base)
    last = sh(["git", "rev-parse", "HEAD"], clone).strip()
    t = time.perf_counter()
    bl = stored.load_for_report(Git(clone), merge_base=last, config=Config(), root=clone, out_dir=base)
    load_s = time.perf_counter() - t
    assert bl.info.get("commit") == last, bl.info
    t = time.perf_counter()
    bl = stored.load_for_report(Git(clone), merge_base=last, config=Config(), root=clone, out_dir=base)
    load_warm_s = time.perf_counter() - t
    objs = sh(["git", "rev-list", "--objects", "covbot-data"], origin)
    pack = subprocess.run(["git", "pack-objects", "--stdout", "-q"], cwd=origin, input=objs.encode(),
                          stdout=subprocess.PIPE, check=True).stdout
    fetch_bytes = len(pack)

    totals = doc["totals"]
    out = {
        "files": len(doc["files"]),
        "statements": totals["statements"],
        "branches": totals["branches"],
        "percent_covered": totals["percent_covered"],
        "summary_raw_kb": round(int(raw) / 1024, 1),
        "summary_git_blob_kb": round(disk / 1024, 1),
        "measure_s": round(measure_s, 2),
        "save_cli_s": round(save_cli_s, 2),
        "of_which_coverage_report_s": round(load_cov_s, 2),
        "store_save_s_median": round(sorted(store_times)[len(store_times) // 2], 3) if store_times else None,
        "history_saves": args.history,
        "packed_growth_per_saved_commit_kb": round(per_commit / 1024, 1),
        "projected_5000_commits_mb": round(per_commit * 5000 / 1024 / 1024, 1),
        "load_for_report_fresh_clone_s": round(load_s, 3),
        "load_for_report_warm_s": round(load_warm_s, 3),
        "data_branch_pack_kb": round(fetch_bytes / 1024, 1),
        "workdir": str(base),
    }
    print(json.dumps(out, indent=2))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


def _pack_bytes(git_dir: Path) -> int:
    objects = git_dir / "objects" if (git_dir / "objects").is_dir() else git_dir / ".git" / "objects"
    return sum(p.stat().st_size for p in objects.rglob("*") if p.is_file())


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
