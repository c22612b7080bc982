"""Measure what running a test suite under coverage.py costs, per Python version.

The numbers behind the image's choice of Python (see the Dockerfile): a sample project
with a CPU-bound pytest suite (a tokenizer, a recursive-descent parser and evaluator, a
merge sort and a run-length codec, all branchy pure Python) is run without coverage,
under ``coverage run --branch`` (covbot's setting) and, where the Python has
``sys.monitoring`` (3.12+), under ``COVERAGE_CORE=sysmon`` line-only, on each given
interpreter. Each variant runs REPEAT times; the medians and the overhead against the
plain run are printed.

    python tests/support/image/tracer_overhead.py ~/.pyenv/versions/3.11.7/bin/python \\
        ~/.pyenv/versions/3.13.0/bin/python [--repeat 5]

Needs uv (virtual environments with coverage and pytest for each interpreter) and access
to the package index.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

MODULE = '''
def tokenize(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c.isdigit():
            j = i
            while j < len(text) and (text[j].isdigit() or text[j] == "."):
                j += 1
            out.append(("num", float(text[i:j])))
            i = j
        elif c in "+-*/()":
            out.append(("op", c))
            i += 1
        else:
            raise ValueError(f"bad character {c!r}")
    return out


class Parser:
    def __init__(self, tokens):
        self.tokens, self.pos = tokens, 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self):
        tok = self.peek()
        self.pos += 1
        return tok

    def expr(self):
        value = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self):
        value = self.factor()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            rhs = self.factor()
            if op == "*":
                value *= rhs
            elif rhs == 0:
                value = float("inf")
            else:
                value /= rhs
        return value

    def factor(self):
        kind, val = self.take()
        if kind == "num":
            return val
        if val == "-":
            return -self.factor()
        if val == "(":
            inner = self.expr()
            self.take()
            return inner
        raise ValueError("unexpected token")


def evaluate(text):
    return Parser(tokenize(text)).expr()


def merge_sort(items):
    if len(items) <= 1:
        return list(items)
    mid = len(items) // 2
    left, right = merge_sort(items[:mid]), merge_sort(items[mid:])
    out, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out


def rle_encode(data):
    out = []
    for ch in data:
        if out and out[-1][0] == ch:
            out[-1][1] += 1
        else:
            out.append([ch, 1])
    return "".join(f"{n}{c}" for c, n in out)


def rle_decode(text):
    out, num = [], ""
    for ch in text:
        if ch.isdigit():
            num += ch
        else:
            out.append(ch * int(num))
            num = ""
    return "".join(out)
'''

TESTS = '''
import random

import pytest

from work import evaluate, merge_sort, rle_decode, rle_encode


def expression(rng, depth=0):
    if depth > 3 or rng.random() < 0.3:
        return str(rng.randint(1, 99))
    op = rng.choice("+-*/")
    return f"({expression(rng, depth + 1)} {op} {expression(rng, depth + 1)})"


@pytest.mark.parametrize("seed", range(40))
def test_evaluate(seed):
    rng = random.Random(seed)
    for _ in range(300):
        value = evaluate(expression(rng))
        assert isinstance(value, float)


@pytest.mark.parametrize("seed", range(40))
def test_merge_sort(seed):
    rng = random.Random(seed)
    items = [rng.randint(0, 10_000) for _ in range(3000)]
    assert merge_sort(items) == sorted(items)


@pytest.mark.parametrize("seed", range(40))
def test_rle_roundtrip(seed):
    rng = random.Random(seed)
    data = "".join(rng.choice("aab") * rng.randint(1, 5) for _ in range(4000))
    assert rle_decode(rle_encode(data)) == data
'''


def make_project(root: Path) -> None:
    (root / "tests").mkdir(parents=True)
    (root / "work.py").write_text(MODULE)
    (root / "tests" / "test_work.py").write_text(textwrap.dedent(TESTS))
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n'
                                         '[tool.coverage.run]\nsource = ["."]\n')


def make_venv(python: str, dest: Path) -> Path:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    subprocess.run([uv, "venv", "-q", "--python", python, str(dest)], check=True)
    subprocess.run([uv, "pip", "install", "-q", "--python", str(dest / "bin" / "python"),
                    "coverage>=7.6", "pytest"], check=True)
    return dest / "bin" / "python"


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pythons", nargs="+")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("COVERAGE_", "PYTEST_", "COVBOT_")) and k != "PYTHONPATH"}
    with tempfile.TemporaryDirectory(prefix="tracer-overhead-") as tmp:
        root = Path(tmp) / "proj"
        make_project(root)
        rows = []
        for i, python in enumerate(args.pythons):
            py = make_venv(python, Path(tmp) / f"venv{i}")
            version = subprocess.run([str(py), "-c", "import sys, coverage; print(sys.version.split()[0], "
                                      "coverage.__version__)"], stdout=subprocess.PIPE, text=True,
                                     check=True).stdout.split()
            pytest_cmd = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
            variants = [("no coverage", [str(py), *pytest_cmd], {}),
                        ("coverage --branch (ctrace)", [str(py), "-m", "coverage", "run", "--branch",
                                                        *pytest_cmd], {"COVERAGE_CORE": "ctrace"})]
            major, minor = map(int, version[0].split(".")[:2])
            if (major, minor) >= (3, 12):
                variants.append(("coverage line-only (sysmon)", [str(py), "-m", "coverage", "run", *pytest_cmd],
                                 {"COVERAGE_CORE": "sysmon"}))
            times = {name: [] for name, _, _ in variants}
            for _ in range(args.repeat):                      # alternate the variants
                for name, cmd, extra in variants:
                    times[name].append(timed(cmd, root, dict(base_env, **extra)))
            plain = statistics.median(times["no coverage"])
            for name, _, _ in variants:
                med = statistics.median(times[name])
                rows.append((version[0], version[1], name, med, med / plain))
    print(f"{'python':8} {'coverage':9} {'variant':30} {'median s':>9} {'x plain':>8}")
    for pyv, covv, name, med, ratio in rows:
        print(f"{pyv:8} {covv:9} {name:30} {med:9.2f} {ratio:8.2f}")
    print(f"({args.repeat} runs each, alternating; {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
