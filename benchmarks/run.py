#!/usr/bin/env python3
"""covbot against diff-cover on a large real package.

Builds (once, cached under ``~/.cache/covbot-bench/``) the workload of
:mod:`workload`: two releases of a pure-Python package from PyPI (Twisted 24.3.0 →
25.5.0 by default) as ``main`` and a PR branch, coverage data synthesised with
coverage.py for both, a JUnit file. Then, on the same input, alternating, it times
``covbot report --no-run`` (every section), ``diff-cover coverage.xml
--compare-branch=main --format json:...`` and the floor (``floor.py``: one ``git diff``
plus reading coverage.json), and prints medians, the ratio of medians and peak memory,
for a quarter, half and the whole package.

    python benchmarks/run.py                 # 3 sizes, 11 repetitions each
    python benchmarks/run.py --reps 21 --sizes 1
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

CACHE = Path(os.environ.get("COVBOT_BENCH_CACHE", Path.home() / ".cache" / "covbot-bench"))


def download(package: str, version: str, *, sdist: bool = False) -> Path:
    """The wheel (or, with ``sdist``, the source archive) of ``package==version``,
    downloaded by pip once into the cache."""
    dl = CACHE / "dl" / (f"{package}-{version}-sdist" if sdist else f"{package}-{version}")
    pattern = "*.tar.gz" if sdist else "*.whl"
    dl.mkdir(parents=True, exist_ok=True)
    if not list(dl.glob(pattern)):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary" if sdist else "--only-binary", ":all:", f"{package}=={version}", "-d", str(dl)],
                       check=True)
    return next(dl.glob(pattern))


def fetch(package: str, version: str) -> Path:
    """Unpacked wheel of ``package==version`` (pure Python), cached."""
    dest = CACHE / f"src-{package}-{version}"
    if dest.is_dir():
        return dest
    wheel = download(package, version)
    tmp = dest.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp)
    tmp.rename(dest)
    return dest


#: Bytecode is cached (as in an installed package or the image): a PYTHONDONTWRITEBYTECODE
#: inherited from the shell would time the compilation of covbot's sources on every run.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system, with the children it waited for), peak
    RSS in MiB (of the process or the largest such child), exit status."""
    rss_file = None
    if GNU_TIME:
        # The peak RSS a child reports to wait4 includes the pages of the forked copy of this
        # (large) process before exec; GNU time's child is forked from a tiny process.
        fd, rss_file = tempfile.mkstemp(prefix="covbot-bench-rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file] + cmd
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    rss_kib = usage.ru_maxrss
    if rss_file:
        text = Path(rss_file).read_text().split()
        os.unlink(rss_file)
        rss_kib = int(text[-1]) if text and text[-1].isdigit() else rss_kib
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, rss_kib / 1024, proc.returncode if proc.returncode in (0, 1) else _fail(cmd, err)


def _fail(cmd: list[str], err: str) -> int:
    raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{err}")


def _script(name: str) -> str:
    """The console script installed with this Python (not a version manager's shim,
    whose own start-up would be timed too)."""
    here = Path(sys.executable).parent / name
    if here.is_file():
        return str(here)
    return shutil.which(name) or _fail([name], f"{name} is not installed for {sys.executable}")


def commands(wl: Path, out: Path) -> dict[str, list[str]]:
    repo = wl / "repo"
    covbot = _script("covbot")
    diff_cover = _script("diff-cover")
    return {
        "covbot": [covbot, "report", "--no-run", "--coverage-file", str(repo / "coverage.json"),
                   "--junit", str(wl / "junit.xml"), "--baseline", str(wl / "base-coverage.json"),
                   "--base", "main", "--output-dir", str(out / "covbot"), "--format", "markdown"],
        "diff-cover": [diff_cover, str(repo / "coverage.xml"), "--compare-branch=main",
                       f"--format=json:{out / 'diff-cover.json'}"],
        "floor": [sys.executable, str(HERE / "floor.py"), str(repo), "main", str(repo / "coverage.json")],
    }


def measure(wl: Path, reps: int) -> dict[str, dict]:
    with tempfile.TemporaryDirectory(prefix="covbot-bench-") as tmp:
        out = Path(tmp)
        cmds = commands(wl, out)
        samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in cmds}
        for name, cmd in cmds.items():     # warm the page cache and .pyc files once
            timed(cmd, wl / "repo")
        for _ in range(reps):
            for name, cmd in cmds.items():  # alternating, so drift hits all three alike
                wall, cpu, rss, _ = timed(cmd, wl / "repo")
                samples[name].append((wall, cpu, rss))
        agree = _agreement(out)
    result = {name: {"median": statistics.median(w for w, _, _ in s), "min": min(w for w, _, _ in s),
                     "cpu": statistics.median(c for _, c, _ in s), "rss": max(r for _, _, r in s)}
              for name, s in samples.items()}
    result["agree"] = agree
    return result


def _agreement(out: Path) -> str:
    import json

    dc = json.loads((out / "diff-cover.json").read_text())
    rep = json.loads((out / "covbot" / "report.json").read_text())
    d = rep["diff"]
    same = (dc["total_num_lines"], dc["total_num_violations"]) == (d["num_lines"], d["num_violations"])
    return (f"diff coverage: covbot {d['percent_covered']}% ({d['num_lines']} lines, {d['num_violations']} missing), "
            f"diff-cover {dc['total_percent_covered']}% ({dc['total_num_lines']} lines, "
            f"{dc['total_num_violations']} missing): {'agree' if same else 'DISAGREE'}")


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares ``y = a + b x``; returns a, b and the largest relative residual."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    a = my - b * mx
    worst = max(abs(y - (a + b * x)) / y for x, y in zip(xs, ys))
    return a, b, worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default="twisted")
    ap.add_argument("--old", default="24.3.0")
    ap.add_argument("--new", default="25.5.0")
    ap.add_argument("--reps", type=int, default=11, help="repetitions per command and size (default 11)")
    ap.add_argument("--sizes", default="0.25,0.5,1", help="fractions of the package (default 0.25,0.5,1)")
    ap.add_argument("--tests", type=int, default=20000, help="JUnit test cases for the whole package")
    args = ap.parse_args(argv)

    old, new = fetch(args.package, args.old), fetch(args.package, args.new)
    sizes = [float(s) for s in args.sizes.split(",")]
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"Python {sys.version.split()[0]}")
    print(f"workload: {args.package} {args.old} -> {args.new}, {args.reps} repetitions, alternating\n")
    rows = []
    for frac in sizes:
        wl = CACHE / f"{args.package}-{args.old}-{args.new}-{frac}"
        t0 = time.perf_counter()
        meta = workload.build(wl, old, new, fraction=frac, tests=max(1, round(args.tests * frac)))
        built = time.perf_counter() - t0
        if built > 1:
            print(f"(built workload {wl.name} in {built:.0f} s)")
        res = measure(wl, args.reps)
        rows.append((frac, meta, res))
        c, d, f = res["covbot"], res["diff-cover"], res["floor"]
        print(f"size {frac:g}: {meta['new_files']} files, {meta['statements']} statements, "
              f"coverage.json {meta['coverage_json_bytes'] / 1e6:.1f} MB, "
              f"{meta['junit']['tests']} tests ({meta['junit']['failed']} failing)")
        print(f"  {'':11} {'wall median':>11} {'wall min':>9} {'CPU median':>11} {'peak RSS':>10}")
        for name in ("covbot", "diff-cover", "floor"):
            r = res[name]
            print(f"  {name:11} {r['median']:10.3f}s {r['min']:8.3f}s {r['cpu']:10.3f}s {r['rss']:6.1f} MiB")
        print(f"  covbot / diff-cover: wall {c['median'] / d['median']:.2f}x, CPU {c['cpu'] / d['cpu']:.2f}x, "
              f"peak memory {c['rss'] / d['rss']:.2f}x")
        print(f"  covbot / floor:      wall {c['median'] / f['median']:.2f}x, CPU {c['cpu'] / f['cpu']:.2f}x")
        print(f"  {res['agree']}\n")
    if len(rows) >= 3:
        xs = [m["statements"] for _, m, _ in rows]
        ys = [r["covbot"]["median"] for _, _, r in rows]
        cpus = [r["covbot"]["cpu"] for _, _, r in rows]
        a, b, worst = linear_fit(xs, ys)
        print("scaling of covbot (median wall time against statements):")
        for x, y in zip(xs, ys):
            print(f"  {x:7d} statements: {y:.3f}s  (fit {a + b * x:.3f}s)")
        print(f"  linear fit: {a:.3f}s + {b * 1e6:.2f}us per statement; largest deviation {worst:.1%}")
        ca, cb, cworst = linear_fit(xs, cpus)
        print(f"  CPU: {ca:.3f}s + {cb * 1e6:.2f}us per statement; largest deviation {cworst:.1%}")
        print(f"  marginal cost: quarter->half {(ys[1] - ys[0]) / (xs[1] - xs[0]) * 1e6:.2f}us/stmt, "
              f"half->whole {(ys[2] - ys[1]) / (xs[2] - xs[1]) * 1e6:.2f}us/stmt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
