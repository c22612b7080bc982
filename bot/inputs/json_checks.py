"""What makes a coverage.json entry impossible, checked before covbot counts it.

coverage.json is untrusted (an artifact, a file a pull request committed): every value
covbot reads is checked to be what coverage.py writes. Line numbers are whole numbers
from 0 to :data:`~bot.model.numbers.MAX_COUNT`, arcs pairs of them (an arc's end may be
negative: an exit), the summary's counts possible (none negative, no more covered or
missing than there are). The typed decoder checks types and ranges while decoding; the
stdlib one is checked here, with set operations that run in C.

On the error path only, :func:`entry_spans` finds each entry of ``files`` in the raw
text without decoding the document, so that a document that does not decode at all (a
5000-digit number, nesting 100,000 deep) still gets an error naming its entry.
"""

from __future__ import annotations

import json
import re
from itertools import chain
from typing import Iterator

from bot.model.numbers import MAX_COUNT

_INT = {int}
_LIST = {list}
_PAIR = {2}


def lines_problem(value, key: str) -> str | None:
    """Why ``value`` is not a list of line numbers, or ``None``."""
    if type(value) is not list:
        return f"{key} is {_kind(value)}, not a list of line numbers"
    if value and (set(map(type, value)) != _INT or min(value) < 0 or max(value) > MAX_COUNT):
        return f"{key} holds something other than line numbers from 0 to {MAX_COUNT}"
    return None


def arcs_problem(value, key: str) -> str | None:
    """Why ``value`` is not a list of arcs (``[from, to]`` line number pairs), or ``None``."""
    if type(value) is not list:
        return f"{key} is {_kind(value)}, not a list of [from, to] pairs"
    if not value:
        return None
    ends = list(chain.from_iterable(value)) if set(map(type, value)) == _LIST else None
    if (ends is None or set(map(len, value)) != _PAIR or set(map(type, ends)) != _INT
            or min(ends) < -MAX_COUNT or max(ends) > MAX_COUNT):
        return f"{key} holds something other than [from, to] pairs of line numbers"
    return None


def summary_problem(num_statements, missing_lines, num_branches, covered_branches) -> str | None:
    """Why a file's summary counts are impossible, or ``None``. Each count may be absent
    (``None``); those present are whole numbers from 0 to MAX_COUNT, ``missing_lines`` at
    most ``num_statements``, ``covered_branches`` at most ``num_branches``."""
    named = (("num_statements", num_statements), ("missing_lines", missing_lines),
             ("num_branches", num_branches), ("covered_branches", covered_branches))
    for name, value in named:
        if value is not None and (type(value) is not int or not 0 <= value <= MAX_COUNT):
            return f"summary.{name} is {_short(value)}, not a count from 0 to {MAX_COUNT}"
    if num_statements is not None and missing_lines is not None and missing_lines > num_statements:
        return f"summary.missing_lines ({missing_lines}) is more than summary.num_statements ({num_statements})"
    if (num_branches is None) != (covered_branches is None):
        return "summary has only one of num_branches and covered_branches"
    if num_branches is not None:
        if covered_branches > num_branches:
            return f"summary.covered_branches ({covered_branches}) is more than summary.num_branches ({num_branches})"
    return None


def entry_problem(data) -> str | None:
    """Why a decoded (stdlib) entry of ``files`` is not what coverage.py writes, or
    ``None``; phrased to follow "entry for 'path' "."""
    if type(data) is not dict:
        return f"is malformed: it is {_kind(data)}, not an object"
    if "missing_lines" not in data:
        return "is malformed: it has no missing_lines"
    summary = data.get("summary", {})
    if type(summary) is not dict:
        return f"is malformed: summary is {_kind(summary)}, not an object"
    problem = (lines_problem(data["missing_lines"], "missing_lines")
               or lines_problem(data.get("executed_lines", []), "executed_lines")
               or arcs_problem(data.get("executed_branches", []), "executed_branches")
               or arcs_problem(data.get("missing_branches", []), "missing_branches"))
    if problem is not None:
        return f"is malformed: {problem}"
    problem = summary_problem(summary.get("num_statements"), summary.get("missing_lines"),
                              summary.get("num_branches"), summary.get("covered_branches"))
    return None if problem is None else f"has impossible counts: {problem}"


def decode_problem(exc: BaseException) -> str:
    """What the stdlib decoder's failure means, in words for the error message."""
    if isinstance(exc, RecursionError):
        return "arrays or objects are nested deeper than a coverage report ever nests them"
    if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError) and "digits" in str(exc):
        return "it holds an integer of thousands of digits"
    return f"it is not valid JSON ({exc})"


def stdlib_entry_problem(span: bytes) -> str | None:
    """Why the raw text of one entry is not what coverage.py writes, or ``None``."""
    try:
        data = json.loads(span)
    except (ValueError, RecursionError) as exc:    # JSONDecodeError, UnicodeDecodeError, huge integers
        return f"cannot be read: {decode_problem(exc)}"
    return entry_problem(data)


_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_TOKEN = re.compile(rb"(" + _STRING + rb")\s*:|" + _STRING + rb"|[\[\]{}]")


def entry_spans(raw: bytes) -> Iterator[tuple[str, bytes]]:
    """``(recorded path, raw text)`` of each entry of the top-level ``files`` object whose
    value is an object or array, found by matching brackets (no recursion, no decoding):
    the error path's way to name an entry of a document that does not decode."""
    depth, top_key, in_files, name, start = 0, None, False, None, None
    for m in _TOKEN.finditer(raw):
        key = m.group(1)
        if key is not None:
            if depth == 1:
                top_key = key
            elif depth == 2 and in_files:
                name = key
            continue
        bracket = raw[m.start()]
        if bracket == 0x22:     # a string value
            continue
        if bracket in b"[{":
            depth += 1
            if depth == 2 and top_key == b'"files"' and bracket == 0x7B:
                in_files = True
            elif depth == 3 and in_files and name is not None:
                start = m.start()
            continue
        depth -= 1
        if depth == 2 and start is not None:
            yield _key_text(name), raw[start:m.end()]
            start = name = None
        elif depth == 1:
            in_files = False
        elif depth < 0:
            return


def _key_text(key: bytes) -> str:
    try:
        return json.loads(key)
    except ValueError:
        return key[1:-1].decode("utf-8", "replace")


def _kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + "…" + text[-10:]
