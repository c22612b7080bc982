#!/usr/bin/env python3
"""A/B timing of two covbot installations on the benchmark workload, alternating.

    python benchmarks/ab.py --a /venv-a/bin/python --b /venv-b/bin/python [--runs 21] [--env-b K=V]

Each side runs ``covbot report --no-run`` (every section, as ``run.py`` does) on the
whole package of the cached workload (``run.py`` builds it), one run of A, then one of
B, and so on, so drift and noise hit both alike. Prints each side's median and minimum
wall time, median CPU time and peak memory, and B's medians relative to A's. ``--env-b``
sets a variable for B only (``COVBOT_SERIAL=1`` times the one-process path).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402
from run import CACHE, commands, timed  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="python of installation A")
    ap.add_argument("--b", required=True, help="python of installation B")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--env-b", action="append", default=[], metavar="K=V", help="a variable for B only")
    ap.add_argument("--workload", help="workload folder (default: the whole package in the cache)")
    args = ap.parse_args(argv)
    wl = Path(args.workload) if args.workload else next(
        (p for p in sorted(CACHE.glob("*-1.0")) if (p / "repo").is_dir()), None)
    if wl is None:
        print(f"no workload under {CACHE}: run benchmarks/run.py --sizes 1 once", file=sys.stderr)
        return 2
    extra_b = dict(kv.split("=", 1) for kv in args.env_b)
    samples: dict[str, list] = {"A": [], "B": []}
    with tempfile.TemporaryDirectory(prefix="covbot-ab-") as tmp:
        cmd = {}
        for side, py in (("A", args.a), ("B", args.b)):
            covbot = str(Path(py).parent / "covbot")
            base = commands(wl, Path(tmp) / side)["covbot"]
            cmd[side] = [covbot, *base[1:]]
        env = {"A": dict(run.ENV), "B": {**run.ENV, **extra_b}}
        for i in range(args.runs + 1):       # the first round warms caches and is dropped
            for side in ("A", "B"):
                run.ENV = env[side]
                wall, cpu, rss, _ = timed(cmd[side], wl / "repo")
                if i:
                    samples[side].append((wall, cpu, rss))
    med = {}
    for side, s in samples.items():
        med[side] = (statistics.median(w for w, _, _ in s), statistics.median(c for _, c, _ in s))
        print(f"{side}: wall median {med[side][0]:.3f}s  min {min(w for w, _, _ in s):.3f}s  "
              f"CPU median {med[side][1]:.3f}s  peak RSS {max(r for _, _, r in s):.1f} MiB  ({len(s)} runs)")
    print(f"B / A: wall {med['B'][0] / med['A'][0]:.3f}x, CPU {med['B'][1] / med['A'][1]:.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
