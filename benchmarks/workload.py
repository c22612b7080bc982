"""Build a benchmark workload: two releases of a package in a git repository, coverage
data for both synthesised through coverage.py's own data API, and a JUnit file.

Layout of a built workload (``build(...)`` returns its folder):

    repo/                 git repository: branch ``main`` (old release), ``pr`` (new release, checked out),
                          its objects packed as in a clone
    repo/.coverage        coverage.py data file of the PR (lines and arcs)
    repo/coverage.xml     written by coverage.py's XML reporter from that data
    repo/coverage.json    written by coverage.py's JSON reporter from that data
    base-coverage.json    the same for ``main`` (the baseline, for ``--baseline FILE``)
    junit.xml             test results: ``tests`` test cases, about 1% failing with tracebacks
    meta.json             file and statement counts, the seed

Everything is deterministic for a given seed. Sources come from two folders of Python
files (for example two unpacked wheels); ``fraction`` keeps a stable subset of the files
(by a hash of their path) so a quarter, half and whole package can be compared.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from xml.sax.saxutils import quoteattr, escape as xml_escape

GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}


def _git(repo: Path, *args: str) -> str:
    env = dict(os.environ, **GIT_ENV)
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout


def keep(rel: str, fraction: float) -> bool:
    """A stable subset of paths: ``fraction`` of them, the same for both releases."""
    if fraction >= 1:
        return True
    return (zlib.crc32(rel.encode()) % 1000) < fraction * 1000


def copy_tree(src: Path, dest: Path, fraction: float) -> int:
    """Copy the package's ``.py`` files under ``src`` into ``dest`` (keeping a subset)."""
    n = 0
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        if ".dist-info" in rel or not keep(rel, fraction):
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        n += 1
    return n


def _clear_tree(repo: Path) -> None:
    for child in repo.iterdir():
        if child.name == ".git":
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def synthesise(repo: Path, data_file: Path, *, seed: int) -> dict:
    """Coverage data for every Python file checked out in ``repo``: each file gets a
    deterministic random executed fraction (0%, 100% or in between); executed arcs are
    the file's arcs (from coverage.py's parser) whose ends were executed, a few of them
    dropped so that branches are partly covered."""
    from coverage import CoverageData
    from coverage.exceptions import NotPython
    from coverage.parser import PythonParser

    arcs_by_file: dict[str, set[tuple[int, int]]] = {}
    statements = 0
    files = 0
    for path in sorted(repo.rglob("*.py")):
        if ".git" in path.parts:
            continue
        rel = path.relative_to(repo).as_posix()
        rng = random.Random(f"{seed}:{rel}")
        try:
            parser = PythonParser(filename=str(path))
            parser.parse_source()
            arcs = parser.arcs()
        except (NotPython, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        stmts = parser.statements
        files += 1
        statements += len(stmts)
        roll = rng.random()
        frac = 0.0 if roll < 0.1 else 1.0 if roll < 0.2 else rng.random()
        executed = {ln for ln in stmts if rng.random() < frac}
        chosen = set()
        for a, b in arcs:
            if (a < 0 or a in executed) and (b < 0 or b in executed) and rng.random() > 0.05:
                chosen.add((a, b))
        arcs_by_file[str(path)] = chosen
    data = CoverageData(basename=str(data_file))
    data.add_arcs(arcs_by_file)
    data.touch_files([f for f, a in arcs_by_file.items() if not a])
    data.write()
    return {"files": files, "statements": statements}


def write_reports(repo: Path, data_file: Path, json_out: Path, xml_out: Path | None) -> None:
    """coverage.py's own JSON (and XML) reports of ``data_file``, from ``repo``."""
    code = ("import coverage, sys\n"
            "cov = coverage.Coverage(data_file=sys.argv[1], branch=True, config_file=False)\n"
            "cov.load()\n"
            "cov.json_report(outfile=sys.argv[2], ignore_errors=True)\n"
            "if len(sys.argv) > 3: cov.xml_report(outfile=sys.argv[3], ignore_errors=True)\n")
    args = [sys.executable, "-c", code, str(data_file), str(json_out)] + ([str(xml_out)] if xml_out else [])
    subprocess.run(args, cwd=repo, check=True, stdout=subprocess.DEVNULL)


JUNIT_FORMAT = 2   # bumped when write_junit changes, so cached workloads get a new JUnit file
_FAILURES = [
    ("AssertionError", "assert 3 == 4", "test"),
    ("AttributeError", "'NoneType' object has no attribute 'transport'", "source"),
    ("KeyError", "'content-length'", "source"),
    ("TimeoutError", "Timed out after 120.0 seconds", "source"),
    ("ConnectionRefusedError", "[Errno 111] Connection refused", "source"),
    ("ImportError", "cannot import name 'missing_helper' from 'twisted.python.util'", "test"),
    ("TypeError", "unsupported operand type(s) for +: 'int' and 'NoneType'", "source"),
]


def write_junit(path: Path, repo: Path, *, tests: int, seed: int, failure_rate: float = 0.01) -> dict:
    """A pytest-style JUnit file: ``tests`` test cases, about ``failure_rate`` failing with
    a traceback whose frames name real files and lines of ``repo``."""
    rng = random.Random(f"junit:{seed}")
    sources = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.py") if ".git" not in p.parts)
    test_files = [s for s in sources if "/test/" in s or "/tests/" in s or s.rsplit("/", 1)[-1].startswith("test_")]
    in_tests = set(test_files)
    src_files = [s for s in sources if s not in in_tests] or sources
    test_files = test_files or sources
    failed = skipped = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest" '
                  f'errors="0" failures="0" skipped="0" tests="{tests}" time="1234.5">\n')
        per_file = max(1, -(-tests // len(test_files)))      # spread over the test files,
        for i in range(tests):                                # 20 tests per class
            tf = test_files[i // per_file]
            module = tf[:-3].replace("/", ".")
            cls = f"Test{(i % per_file) // 20}Case"
            name = f"test_case_{i}"
            t = f"{rng.random() * 0.2:.3f}"
            out.write(f'<testcase classname="{module}.{cls}" name="{name}" file="{tf}" line="{10 + i % 900}" time="{t}"')
            roll = rng.random()
            if roll < failure_rate:
                failed += 1
                exc, msg, where = _FAILURES[rng.randrange(len(_FAILURES))]
                frames = [(tf, 10 + i % 900, name)]
                for _ in range(rng.randrange(2, 7)):
                    frames.append((src_files[rng.randrange(len(src_files))], rng.randrange(1, 400),
                                   rng.choice(["dataReceived", "_dispatch", "callback", "render", "connect"])))
                if where == "test":
                    frames.append((tf, 10 + i % 900 + 3, name))
                text = []
                for f, ln, func in frames:
                    text.append(f"{f}:{ln}: in {func}\n    result = self.handle(request, *args)")
                text.append(f"E   {exc}: {msg}")
                last = frames[-1]
                text.append(f"\n{last[0]}:{last[1]}: {exc}")
                body = "\n".join(text)
                out.write(f'><failure message={quoteattr(f"{exc}: {msg}")}>{xml_escape(body)}</failure></testcase>\n')
            elif roll < failure_rate + 0.01:
                skipped += 1
                out.write('><skipped type="pytest.skip" message="requires a network">'
                          f'{tf}:{10 + i % 900}: requires a network</skipped></testcase>\n')
            else:
                out.write(" />\n")
        out.write("</testsuite></testsuites>\n")
    return {"tests": tests, "failed": failed, "skipped": skipped}


def pack(repo: Path) -> None:
    """Objects in one pack, as in a clone (what a CI checkout has), not loose as committed."""
    _git(repo, "gc", "--quiet", "--prune=now")


def build(dest: Path, old_src: Path, new_src: Path, *, fraction: float = 1.0, tests: int = 20000,
          seed: int = 1, xml: bool = True) -> dict:
    """Build the workload in ``dest`` (skipped when ``dest/meta.json`` exists)."""
    meta_path = dest / "meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("junit_format") != JUNIT_FORMAT:
            meta["junit"] = write_junit(dest / "junit.xml", dest / "repo", tests=meta["junit"]["tests"], seed=seed)
            meta["junit_format"] = JUNIT_FORMAT
            meta_path.write_text(json.dumps(meta, indent=2))
        if not meta.get("packed"):
            pack(dest / "repo")
            meta["packed"] = True
            meta_path.write_text(json.dumps(meta, indent=2))
        return meta
    if dest.exists():
        shutil.rmtree(dest)
    repo = dest / "repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "commit.gpgsign", "false")
    old_files = copy_tree(old_src, repo, fraction)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "old release")
    base = synthesise(repo, dest / "base.coverage", seed=seed)
    write_reports(repo, dest / "base.coverage", dest / "base-coverage.json", None)
    _git(repo, "checkout", "-q", "-b", "pr")
    _clear_tree(repo)
    new_files = copy_tree(new_src, repo, fraction)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "new release")
    (repo / ".gitignore").write_text(".coverage\ncoverage.xml\ncoverage.json\n.covbot/\n")
    _git(repo, "add", ".gitignore")
    _git(repo, "commit", "-q", "-m", "ignore outputs")
    head = synthesise(repo, repo / ".coverage", seed=seed + 1)
    write_reports(repo, repo / ".coverage", repo / "coverage.json", repo / "coverage.xml" if xml else None)
    junit = write_junit(dest / "junit.xml", repo, tests=tests, seed=seed)
    pack(repo)
    meta = {"fraction": fraction, "seed": seed, "old_files": old_files, "new_files": new_files,
            "statements": head["statements"], "measured_files": head["files"],
            "base_statements": base["statements"], "junit": junit,
            "coverage_json_bytes": (repo / "coverage.json").stat().st_size, "junit_format": JUNIT_FORMAT,
            "packed": True}
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta


# -- a synthetic package, for the regression check (no network needed) -----------------

def _function(rng: random.Random, name: str, variant: int) -> str:
    lines = [f"def {name}(items, limit={variant % 7 + 3}):",
             f'    """Process items ({variant})."""',
             "    total = 0",
             "    seen = set()"]
    for k in range(rng.randrange(3, 8)):
        lines += [f"    for item in items[:{k + 2}]:",
                  f"        if item in seen or item > limit * {k + 1}:",
                  "            continue",
                  "        seen.add(item)",
                  f"        total += item * {k + variant % 3 + 1}"]
        if rng.random() < 0.5:
            lines += ["    try:",
                      f"        total //= len(seen) or {k + 1}",
                      "    except ZeroDivisionError:",
                      "        total = -1"]
    lines += ["    return total, sorted(seen)", ""]
    return "\n".join(lines) + "\n"


def synthetic_package(dest: Path, files: int, *, version: int, seed: int = 7, functions: int = 8) -> None:
    """``files`` modules of plain Python (loops, branches, try blocks; about 40
    statements per function) under ``dest/pkg``. Version 2 of the same seed edits a third of the
    functions of half the modules, drops a few modules and adds a few, like a release."""
    pkg = dest / "pkg"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text('"""Synthetic package."""\n')
    count = files + (files // 20 if version == 2 else 0)
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        if version == 2 and i % 25 == 13:
            continue                                    # removed in the new release
        sub = pkg / f"sub{i % 8}"
        sub.mkdir(exist_ok=True)
        (sub / "__init__.py").write_text("")
        changed = version == 2 and i % 2 == 0
        parts = [f'"""Module {i}."""\n\nimport os\n\n']
        for j in range(functions):
            variant = j + (100 if changed and j % 3 == 0 else 0)
            parts.append(_function(random.Random(f"{seed}:{i}:{j}:{variant}"), f"func_{j}", variant))
            parts.append("\n")
        (sub / f"mod{i}.py").write_text("".join(parts))
