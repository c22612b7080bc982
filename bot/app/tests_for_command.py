"""``covbot tests-for PATH[:LINE]``: the tests that ran a changed file or line in the last
report (``.covbot/report.json``), so a developer can run those before pushing.

Node ids go to stdout, one a line (``pytest $(covbot tests-for src/pkg/calc.py)``); what
they are and what to extend for uncovered lines goes to stderr. Exit status 0 when tests
were found, 1 when none ran the file or line, 2 when there is no report with contexts.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

from bot.model.errors import InputError, UsageError
from bot.model.report_schema import SchemaError, validate


def split_target(target: str) -> tuple[str, int | None]:
    """``src/x.py:12`` → ``("src/x.py", 12)``; a path without a line number → ``(path, None)``."""
    path, sep, line = target.rpartition(":")
    if sep and line.isdigit() and path:
        return path, int(line)
    return target, None


def repo_relative(path: str, root: Path) -> str:
    """``path`` (relative to the current directory, or absolute) as a repository path."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def load_report(report_dir: Path) -> dict:
    path = report_dir / "report.json"
    try:
        doc = validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise InputError(f"no report at {path}", "run `covbot report` first") from None
    except (OSError, ValueError, SchemaError) as exc:
        raise InputError(f"{path} cannot be read: {exc}", "run `covbot report` again") from None
    if doc.get("error"):
        raise InputError(f"{path} is the report of a run that could not compute coverage",
                         "fix the error it names and run `covbot report` again")
    return doc


def tests_for(doc: dict, path: str, line: int | None) -> tuple[list[str], list[str]]:
    """(node ids, notes) for ``path`` (and ``line``) in report.json data ``doc``."""
    files = doc["diff"]["files"]
    entry = files.get(path)
    if entry is None:
        changed = ", ".join(sorted(files)[:5]) or "none"
        return [], [f"{path} has no changed executable line in the last report (changed files: {changed})"]
    tests = entry.get("tests")
    if tests is None:
        raise InputError("the last report has no per-test data (contexts)",
                         "run `covbot report` with contexts on (the default; `contexts: true`)")
    suggested = entry.get("suggested_tests") or []
    extend = f"; extend {' or '.join(suggested)}" if suggested else ""
    if line is not None:
        if line in entry["missing_lines"]:
            return [], [f"{path}:{line} is a changed line no test runs{extend}"]
        if str(line) not in tests:
            return [], [f"{path}:{line} is not a changed executable line of the last report "
                        "(covbot records the tests of changed lines)"]
        ids = tests[str(line)]
        return ids, [f"{len(ids)} test(s) ran {path}:{line}"]
    per_test = Counter(t for ids in tests.values() for t in ids)
    ranked = [t for t, _ in sorted(per_test.items(), key=lambda kv: (-kv[1], kv[0]))]
    notes = [f"{len(ranked)} test(s) ran {len(tests)} covered changed line(s) of {path}"]
    notes += [f"  {t}: {per_test[t]} line(s)" for t in ranked]
    if entry["missing_lines"]:
        notes.append(f"{len(entry['missing_lines'])} changed line(s) no test runs{extend}")
    return ranked, notes


def cmd_tests_for(args) -> int:
    from bot.app.settings import checkout_root   # start-up time: see cli.cmd_report

    root = checkout_root(args)
    report_dir = Path(args.report_dir)
    if not report_dir.is_absolute():
        report_dir = root / report_dir
    path, line = split_target(args.target)
    if not path:
        raise UsageError("usage: covbot tests-for PATH[:LINE]")
    doc = load_report(report_dir)
    ids, notes = tests_for(doc, repo_relative(path, root), line)
    for note in notes:
        print(note, file=sys.stderr)
    for test in ids:
        print(test)
    return 0 if ids else 1
