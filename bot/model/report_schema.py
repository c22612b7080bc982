"""The one schema of report.json (schema_version 1): every key, its type and its range.

``Report.to_dict`` writes it (a test checks the writer's real output against it with
``strict=True``: no key the schema does not know), and whoever reads a report back from
an untrusted place (the fork-safe publisher's artifact) validates it here before using
a single value: numbers are numbers within their range, commit SHAs are hexadecimal,
enumerations are one of their values, and keys the schema does not know are dropped.
A forged report can therefore change numbers, never what kind of value reaches the
renderer; the renderer escapes every string (:mod:`bot.render.escape`).
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod

SCHEMA_VERSION = 1
#: Counts and line numbers above this are not from a real project.
MAX_COUNT = 10**12
_SHA = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})")


class SchemaError(Exception):
    """``where`` (a path such as ``tests.failures[3].status``) is not ``expected``."""

    def __init__(self, where: str, expected: str):
        super().__init__(f"{where}: expected {expected}")
        self.where, self.expected = where, expected


class _Node(ABC):
    nullable = False

    def check(self, value, where: str, strict: bool):
        if value is None and self.nullable:
            return None
        return self._check(value, where, strict)

    @abstractmethod
    def _check(self, value, where, strict):
        """``value`` checked (and for objects, cut to known keys); raises SchemaError."""

    def __or__(self, _none):
        """``Int() | None``: the value may also be null."""
        node = type(self).__new__(type(self))
        node.__dict__.update(self.__dict__, nullable=True)
        return node


class Int(_Node):
    def __init__(self, lo: int = 0, hi: int = MAX_COUNT):
        self.lo, self.hi = lo, hi

    def _check(self, v, where, strict):
        if not isinstance(v, int) or isinstance(v, bool) or not self.lo <= v <= self.hi:
            raise SchemaError(where, f"an integer from {self.lo} to {self.hi}")
        return v


class Num(_Node):
    def __init__(self, lo: float = -MAX_COUNT, hi: float = MAX_COUNT):
        self.lo, self.hi = lo, hi

    def _check(self, v, where, strict):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) \
                or not self.lo <= v <= self.hi:
            raise SchemaError(where, f"a number from {self.lo:g} to {self.hi:g}")
        return v


class Bool(_Node):
    def _check(self, v, where, strict):
        if not isinstance(v, bool):
            raise SchemaError(where, "true or false")
        return v


class Str(_Node):
    def __init__(self, *choices: str, sha: bool = False, max_len: int = 100_000):
        self.choices, self.sha, self.max_len = choices, sha, max_len

    def _check(self, v, where, strict):
        if not isinstance(v, str) or len(v) > self.max_len:
            raise SchemaError(where, f"a string of at most {self.max_len} characters")
        if self.choices and v not in self.choices:
            raise SchemaError(where, "one of " + ", ".join(repr(c) for c in self.choices))
        if self.sha and not _SHA.fullmatch(v):
            raise SchemaError(where, "a commit SHA (hexadecimal)")
        return v


class List(_Node):
    def __init__(self, item: _Node, max_items: int = 1_000_000):
        self.item, self.max_items = item, max_items

    def _check(self, v, where, strict):
        if not isinstance(v, list) or len(v) > self.max_items:
            raise SchemaError(where, "a list")
        return [self.item.check(x, f"{where}[{i}]", strict) for i, x in enumerate(v)]


class Map(_Node):
    """An object with keys of the data's own choosing (file paths) and one kind of value."""

    def __init__(self, value: _Node):
        self.value = value

    def _check(self, v, where, strict):
        if not isinstance(v, dict):
            raise SchemaError(where, "an object")
        return {k: self.value.check(x, f"{where}[{k!r}]", strict) for k, x in v.items()}


#: What an open object may hold besides its known keys: plain values, never structure.
SCALAR = "scalar"


class Obj(_Node):
    """An object with known keys: ``req`` must be there, ``opt`` may. Unknown keys are an
    error when ``strict`` (the writer's test), dropped otherwise, unless ``open``: then
    they are kept when they are plain values (metadata a later version may add)."""

    def __init__(self, req: dict[str, _Node] | None = None, opt: dict[str, _Node] | None = None, *,
                 empty_ok: bool = False, open: bool = False):
        self.req, self.opt, self.empty_ok, self.open = req or {}, opt or {}, empty_ok, open

    def _check(self, v, where, strict):
        if not isinstance(v, dict):
            raise SchemaError(where, "an object")
        if not v and self.empty_ok:
            return {}
        out = {}
        for key, node in self.req.items():
            if key not in v:
                raise SchemaError(f"{where}.{key}", "a value (the key is missing)")
            out[key] = node.check(v[key], f"{where}.{key}", strict)
        for key, node in self.opt.items():
            if key in v:
                out[key] = node.check(v[key], f"{where}.{key}", strict)
        for key in v.keys() - self.req.keys() - self.opt.keys():
            if self.open and (v[key] is None or isinstance(v[key], (str, int, float, bool))):
                out[key] = Scalar().check(v[key], f"{where}.{key}", strict)
            elif strict:
                raise SchemaError(f"{where}.{key}", "no such key (add it to bot/model/report_schema.py)")
        return out


class Scalar(_Node):
    nullable = True

    def _check(self, v, where, strict):
        if isinstance(v, float) and not math.isfinite(v):
            raise SchemaError(where, "a finite number")
        if isinstance(v, str) and len(v) > 100_000:
            raise SchemaError(where, "a shorter string")
        return v


# -- the report ----------------------------------------------------------------------------------

PCT = Num(0, 100)            # a percentage
DELTA = Num(-100, 100)       # a change of a percentage, in points
COUNT = Int()
LINE = Int(1)
SHA = Str(sha=True)
TEXT = Str()
PATH = Str(max_len=4096)     # a file name from the PR: any characters, rendered escaped

TOTALS = Obj({"statements": COUNT, "covered_statements": COUNT, "missing_statements": COUNT,
              "branches": COUNT, "covered_branches": COUNT, "percent_covered": PCT | None},
             {"percent_statements": PCT | None})
HEAD = Obj({"sha": SHA}, {"ref": TEXT | None, "checkout_sha": SHA | None})
BASE = Obj({}, {"ref": TEXT | None, "sha": SHA | None, "merge_base": SHA | None})
TREND_POINT = Obj({"commit": SHA, "percent_covered": PCT}, {"committed": TEXT | None, "ref": TEXT | None})
BASELINE = Obj({}, {"mode": TEXT | None, "commit": SHA | None, "distance": COUNT | None, "description": TEXT | None,
                    "data_branch": TEXT | None, "merge_base": SHA | None, "trend": List(TREND_POINT),
                    "warning": TEXT | None, "fallback_from": TEXT | None}, open=True)
FILE_DIFF = Obj({"changed_lines": COUNT, "missing_lines": List(LINE), "percent_covered": PCT | None,
                 "branches": COUNT, "missing_branches": COUNT},
                {"tests": Map(List(TEXT)) | None, "suggested_tests": List(PATH, max_items=3) | None})
DIFF = Obj({"num_lines": COUNT, "num_covered": COUNT, "num_violations": COUNT, "percent_covered": PCT | None,
            "files": Map(FILE_DIFF)},
           {"num_changed_lines": COUNT, "note": TEXT | None,
            "branches": Obj({"num_branches": COUNT, "num_covered": COUNT, "num_missing": COUNT,
                             "percent_covered": PCT | None})})
FILE_ROW = Obj({"path": PATH, "statements": COUNT, "missing": COUNT, "branches": COUNT, "missing_branches": COUNT,
                "percent_covered": PCT | None, "base_percent_covered": PCT | None, "delta": DELTA | None,
                "tier": TEXT | None, "target": PCT | None, "meets_target": Bool() | None, "changed": Bool(),
                "indirect": Bool(), "base_path": PATH | None,
                "status": Str("added", "modified", "renamed", "deleted") | None,
                "base_missing": COUNT | None, "critical": Bool()})
TIER_BASE = Obj({"files": COUNT, "targeted": COUNT, "meeting": COUNT, "percent_statements": PCT | None,
                 "gap_statements": COUNT}, {"percent_covered": PCT | None})
TIER_MEMBER = Obj({"path": PATH, "statements": COUNT, "uncovered": COUNT, "percent_statements": PCT | None,
                   "percent_covered": PCT | None, "base_percent_statements": PCT | None, "target": PCT | None,
                   "meets_target": Bool() | None, "base_meets_target": Bool() | None, "critical": Bool(),
                   "gap_statements": COUNT, "changed": Bool(), "delta_statements": DELTA | None},
                  {"base_percent_covered": PCT | None, "delta": DELTA | None})
TIER = Obj({"name": TEXT, "min_statements": COUNT, "max_statements": COUNT | None, "target": PCT | None,
            "critical_target": PCT | None, "files": COUNT, "targeted": COUNT, "meeting": COUNT,
            "statements": COUNT, "covered_statements": COUNT, "uncovered": COUNT,
            "percent_statements": PCT | None, "percent_covered": PCT | None, "gap_statements": COUNT,
            "critical": COUNT, "changed": Bool(), "members": List(TIER_MEMBER)},
           {"base": TIER_BASE | None, "removed": COUNT})
GOAL = Obj({"target": PCT, "current": PCT, "statements": COUNT, "covered_statements": COUNT,
            "gap_statements": COUNT, "reached": Bool()},
           {"unit": Str("statements", "statements and branches"), "percent_covered": PCT | None,
            "percent_statements": PCT | None, "branches": COUNT, "base_current": PCT | None,
            "base_gap_statements": COUNT | None, "delta": DELTA | None}, empty_ok=True)
HIGH_IMPACT = Obj({"path": PATH, "statements": COUNT, "uncovered": COUNT, "percent_covered": PCT | None,
                   "percent_statements": PCT | None, "tier": TEXT},
                  {"target": PCT | None, "critical": Bool(), "gap_statements": COUNT})
PLAN = Obj({"share": PCT, "goal_gap_statements": COUNT, "required_statements": COUNT, "statements": COUNT,
            "feasible": Bool(),
            "files": List(Obj({"path": PATH, "tier": TEXT, "statements": COUNT, "percent_statements": PCT | None,
                               "target": PCT | None, "critical": Bool(), "gain": COUNT},
                              {"percent_covered": PCT | None}))},
           {"percent_of_gap": PCT | None, "available_statements": COUNT}, empty_ok=True)
TIER_ENTRY = Obj({"path": PATH, "tier": TEXT, "target": PCT | None, "critical": Bool(), "statements": COUNT,
                  "percent_statements": PCT | None, "base_percent_statements": PCT | None,
                  "gap_statements": COUNT, "changed": Bool()},
                 {"base_tier": TEXT | None, "base_target": PCT | None, "reason": Str("added", "entered a tier"),
                  "percent_covered": PCT | None, "base_percent_covered": PCT | None})
TIER_CHANGES = Obj({"baseline": Bool()}, {key: List(TIER_ENTRY) | None
                                          for key in ("regressions", "dropped", "reached", "new_below_target")},
                   empty_ok=True)
CATEGORY = Str("production bug", "test bug", "environment", "flaky")
OUTCOME = Str("passed", "failed", "error", "skipped", "flaky")
FAILURE = Obj({"id": TEXT, "category": CATEGORY, "reason": TEXT, "status": Str("new", "pre-existing", "unknown"),
               "signature": TEXT, "message": TEXT, "location": TEXT | None, "outcome": OUTCOME},
              {"file": PATH | None, "when": TEXT | None, "attempts": List(OUTCOME), "traceback": TEXT | None,
               "frames": List(Obj({"path": PATH, "line": LINE | None, "func": TEXT | None})),
               "changed_lines_run": Map(List(LINE)) | None})
GROUP = Obj({"signature": TEXT, "category": CATEGORY, "reason": TEXT, "message": TEXT, "count": COUNT,
             "new": COUNT, "pre_existing": COUNT, "tests": List(TEXT)},
            {"exception": TEXT | None, "location": TEXT | None})
TESTS = Obj({"total": COUNT, "passed": COUNT, "failed": COUNT, "errors": COUNT, "skipped": COUNT,
             "failures": List(FAILURE)},
            {"flaky": COUNT, "not_run": COUNT, "pass_rate": PCT | None, "pass_rate_target": PCT | None,
             "base_compared": Bool(),
             "groups": List(GROUP), "fixed": List(Obj({"id": TEXT}))})
VERDICT = Obj({"passed": Bool(),
               "reasons": List(Obj({"rule": TEXT, "status": Str("passed", "failed", "skipped"), "message": TEXT}))})
SETTINGS = Obj({}, {"gate": List(TEXT), "diff_threshold": PCT | None, "min_lines": COUNT | None,
                    "total_drop": Num(0, 100) | None, "pass_rate": PCT | None, "goal": PCT | None,
                    "config": TEXT | None}, open=True)
LINKS = Obj({}, {"server_url": TEXT | None, "repository": TEXT | None, "head_sha": SHA | None,
                 "pr_number": Int(1) | None, "run_url": TEXT | None, "html_report_url": TEXT | None,
                 "html_report": PATH | None})
ERRORS = List(Obj({"message": TEXT}, {"hint": TEXT | None}))

REPORT = Obj({"schema_version": Int(SCHEMA_VERSION, SCHEMA_VERSION), "head": HEAD, "totals": TOTALS,
              "diff": DIFF, "files": List(FILE_ROW), "verdict": VERDICT},
             {"base": BASE, "baseline": BASELINE, "base_totals": TOTALS | None, "delta": DELTA | None,
              "deleted_files": List(PATH), "tiers": List(TIER), "goal": GOAL, "high_impact": List(HIGH_IMPACT),
              "plan": PLAN, "tier_changes": TIER_CHANGES, "tests": TESTS | None, "trend": List(TREND_POINT),
              "warnings": List(TEXT), "settings": SETTINGS, "links": LINKS, "errors": ERRORS})
#: The report of a run that could not compute coverage.
ERROR_REPORT = Obj({"schema_version": Int(SCHEMA_VERSION, SCHEMA_VERSION), "error": Bool(), "errors": ERRORS},
                   {"head": HEAD, "base": BASE, "tests": TESTS | None,
                    "diff": Obj({}, {"changed_files": List(PATH), "deleted_files": List(PATH),
                                     "num_changed_lines": COUNT})})


def validate(doc, *, strict: bool = False) -> dict:
    """``doc`` checked against the schema; returns it with unknown keys dropped (``strict``:
    an unknown key is an error too). Raises :class:`SchemaError` naming the first place
    that does not fit."""
    if isinstance(doc, dict) and doc.get("error") is True:
        return ERROR_REPORT.check(doc, "report.json", strict)
    return REPORT.check(doc, "report.json", strict)
