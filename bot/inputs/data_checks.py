"""A coverage.py data file checked before coverage.py reads it.

A ``.coverage`` file is an SQLite database, and SQLite runs whatever its schema says: a
53 KB file whose ``file`` table is a recursive view yields rows forever, and coverage.py
(which selects from ``file``) hangs while its memory grows. coverage.py's data files
hold plain tables and their indexes only, so :func:`check_data_file` refuses anything
else (views, triggers, virtual tables), then reads every row of coverage.py's tables
once, on a read-only connection whose progress handler stops at the deadline, and
refuses a line_bits row longer than any source file needs. What coverage.py then reads
is a bounded amount of plain rows.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.model.errors import InputError

#: coverage.py's tables (``coverage.sqldata.SCHEMA``); its data files hold only these,
#: their indexes, and possibly tables of other coverage.py versions.
TABLES = ("coverage_schema", "meta", "file", "context", "line_bits", "arc", "tracer")

#: The longest numbits value of a line_bits row, in bytes: one bit a line, so lines up
#: to 1,048,576, more than any source file has. A longer one is decoded by coverage.py
#: into millions of line numbers.
MAX_NUMBITS = 1 << 17

#: A full scan of every table coverage.py reads, touching every row.
_SCANS = {
    "meta": "select count(*), sum(length(key) + length(value)) from meta",
    "file": "select count(*), sum(length(path)) from file",
    "context": "select count(*), sum(length(context)) from context",
    "line_bits": "select count(*), max(length(numbits)) from line_bits",
    "arc": "select count(*), max(fromno) from arc",
    "tracer": "select count(*), sum(length(tracer)) from tracer",
}


class Deadline:
    """The moment by which the data files ``paths`` must be read; :meth:`check` raises
    an input error naming them once it has passed."""

    def __init__(self, seconds: float, paths: list[Path]):
        self.seconds = seconds
        self.paths = paths
        self.at = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() > self.at

    def check(self) -> None:
        if self.passed():
            raise InputError(
                f"reading coverage data {', '.join(map(str, self.paths))} took longer than "
                f"{self.seconds:g} s and was stopped",
                "a test run's data is read in seconds: the file may be crafted, or far larger than "
                "a test run writes; rerun the tests to recreate it")


def check_data_file(path: Path, deadline: Deadline) -> bool:
    """Raise an input error naming ``path`` unless it is an SQLite database of plain
    coverage.py tables whose rows can all be read before ``deadline``; whether it records
    named contexts (per-test data), as the scan of its ``context`` table finds."""
    import sqlite3   # start-up time: only data files are checked

    uri = Path(os.path.abspath(path)).as_uri() + "?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return False   # coverage.py's own read names what is wrong
    con.set_progress_handler(deadline.passed, 10_000)    # a true answer interrupts the statement
    try:
        objects = con.execute("select type, name, sql from sqlite_master").fetchall()
        found: dict[str, tuple] = {}
        problem = schema_problem(objects) or _rows_problem(con, {name for kind, name, _ in objects}, found)
    except sqlite3.Error:
        deadline.check()
        return False   # damaged: coverage.py's own read reports it
    finally:
        con.close()
    deadline.check()
    if problem is not None:
        raise InputError(f"{path} {problem}",
                         "point --coverage-file at the .coverage file `coverage run` or pytest-cov wrote; "
                         "this one was not written by coverage.py")
    return bool((found.get("context") or (0, 0))[1])   # the names' total length: "" alone is 0


def schema_problem(objects: list[tuple]) -> str | None:
    """Why the schema (``sqlite_master``'s ``type, name, sql`` rows) is not coverage.py
    data, or ``None``."""
    kinds = {name: kind for kind, name, _ in objects}
    if "coverage_schema" not in kinds:
        return "is an SQLite database but not coverage.py data (no coverage_schema table)"
    for kind, name, sql in objects:
        if kind not in ("table", "index"):
            return (f"is not plain coverage.py data: it has a {kind} named {name!r} "
                    "(coverage.py data files hold tables and indexes only)")
        if kind == "table" and (sql or "").lstrip()[:14].upper().startswith("CREATE VIRTUAL"):
            return f"is not plain coverage.py data: {name!r} is a virtual table"
    return None


def _rows_problem(con, names: set[str], found: dict[str, tuple]) -> str | None:
    """Read every row of coverage.py's tables once (interrupted at the deadline by the
    connection's progress handler), each scan's result into ``found``; why their
    contents are impossible, or ``None``."""
    for table in TABLES:
        if table not in names or table not in _SCANS:
            continue
        found[table] = _, largest = con.execute(_SCANS[table]).fetchone()
        if table == "line_bits" and largest is not None and largest > MAX_NUMBITS:
            return (f"has a line_bits row of {largest:,} bytes: line numbers past {MAX_NUMBITS * 8:,}, "
                    "more than any source file has")
    return None
