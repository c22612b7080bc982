"""The report: every number covbot shows, computed once (see analyze) and rendered many times.

``Report.to_dict()`` is ``report.json`` (schema_version 1, every key listed and typed in
:mod:`bot.model.report_schema`); the comment, the terminal output, the job summary and
the action outputs are renderings of it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.model.numbers import rounded_percent
from bot.model.report_schema import SCHEMA_VERSION


@dataclass
class RuleResult:
    """One gate rule's verdict and the reason for it."""

    rule: str
    status: str          # passed | failed | skipped
    message: str

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass
class Verdict:
    """The gate: passed or not, and each rule's result."""

    passed: bool = True
    reasons: list[RuleResult] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "reasons": [asdict(r) for r in self.reasons]}


@dataclass
class FileDiff:
    """Diff coverage of one changed file."""

    changed_lines: int                    # changed lines that are executable (measured)
    missing_lines: list[int]              # changed executable lines not covered
    percent_covered: float | None
    branches: int = 0
    missing_branches: int = 0
    #: covered changed line → node ids of the tests that ran it; None without contexts
    tests: dict[str, list[str]] | None = None
    #: test files to extend for the uncovered changed lines, best first; None without contexts
    suggested_tests: list[str] | None = None

    def to_dict(self) -> dict:
        return {"changed_lines": self.changed_lines, "missing_lines": self.missing_lines,
                "percent_covered": self.percent_covered,
                "branches": self.branches, "missing_branches": self.missing_branches,
                "tests": self.tests, "suggested_tests": self.suggested_tests}


@dataclass
class DiffCoverage:
    """Diff coverage of the PR: changed executable lines, covered and missing, per file."""

    num_lines: int = 0                    # changed executable lines
    num_covered: int = 0
    num_violations: int = 0
    percent_covered: float | None = None  # None: nothing measurable ("n/a"), never 100
    num_branches: int = 0
    num_covered_branches: int = 0
    num_changed_lines: int = 0            # all added lines in the diff, executable or not
    files: dict[str, FileDiff] = field(default_factory=dict)
    note: str | None = None               # why percent_covered is n/a

    def to_dict(self) -> dict:
        return {
            "num_lines": self.num_lines,
            "num_covered": self.num_covered,
            "num_violations": self.num_violations,
            "percent_covered": self.percent_covered,
            "num_changed_lines": self.num_changed_lines,
            "branches": {
                "num_branches": self.num_branches,
                "num_covered": self.num_covered_branches,
                "num_missing": self.num_branches - self.num_covered_branches,
                "percent_covered": rounded_percent(self.num_covered_branches, self.num_branches),
            },
            "files": {p: f.to_dict() for p, f in self.files.items()},
            "note": self.note,
        }


@dataclass
class FileRow:
    """One measured file in the report: its numbers, the base's, and what changed."""

    path: str
    statements: int
    missing: int
    branches: int
    missing_branches: int
    percent_covered: float
    base_percent_covered: float | None = None
    delta: float | None = None
    tier: str | None = None
    target: float | None = None
    meets_target: bool | None = None
    changed: bool = False
    indirect: bool = False
    base_path: str | None = None          # the base path when renamed
    status: str | None = None             # added | modified | renamed, for changed files
    base_missing: int | None = None
    critical: bool = False

    def to_dict(self) -> dict:
        # Every field is a scalar: no need for asdict's recursive copy (one row per file).
        return {name: getattr(self, name) for name in _ROW_FIELDS}


_ROW_FIELDS = tuple(f.name for f in fields(FileRow))


@dataclass
class Report:
    """Everything report.json holds; the comment is rendered from it."""

    head: dict[str, Any]
    base: dict[str, Any]
    totals: dict[str, Any]
    base_totals: dict[str, Any] | None
    delta: float | None
    diff: DiffCoverage
    files: list[FileRow]
    baseline: dict[str, Any] = field(default_factory=dict)
    tiers: list[dict[str, Any]] = field(default_factory=list)
    goal: dict[str, Any] = field(default_factory=dict)
    high_impact: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    tier_changes: dict[str, Any] = field(default_factory=dict)
    tests: dict[str, Any] | None = None
    trend: list[dict[str, Any]] = field(default_factory=list)
    verdict: Verdict = field(default_factory=Verdict)
    deleted_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    input_errors: list[str] = field(default_factory=list)   # inputs that could not be used
    settings: dict[str, Any] = field(default_factory=dict)
    links: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    # -- views used by renderers ----------------------------------------------------
    @property
    def changed_files(self) -> list[FileRow]:
        return [f for f in self.files if f.changed]

    @property
    def indirect_files(self) -> list[FileRow]:
        return [f for f in self.files if f.indirect]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "head": self.head,
            "base": self.base,
            "baseline": self.baseline,
            "totals": self.totals,
            "base_totals": self.base_totals,
            "delta": self.delta,
            "diff": self.diff.to_dict(),
            "files": [f.to_dict() for f in self.files],
            "deleted_files": self.deleted_files,
            "tiers": self.tiers,
            "goal": self.goal,
            "high_impact": self.high_impact,
            "plan": self.plan,
            "tier_changes": self.tier_changes,
            "tests": self.tests,
            "trend": self.trend,
            "verdict": self.verdict.to_dict(),
            "warnings": self.warnings,
            "settings": self.settings,
            "links": self.links,
        }


def json_text(doc: dict) -> str:
    """``doc`` as the text of report.json, laid out as ``json.dumps(doc, indent=2,
    ensure_ascii=False)`` lays it out (a float below 1e-4 is spelled without exponent,
    the same number), encoded in C by msgspec: the stdlib encoder falls back to pure
    Python as soon as it indents, a tenth of a second for a thousand files. Raises
    UnicodeEncodeError for a string that is no UTF-8 (a lone surrogate)."""
    import msgspec   # start-up time: loaded when a report is written, not at import

    try:
        return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode("utf-8") + "\n"
    except TypeError:   # a value msgspec does not encode as the stdlib does (a bool key)
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def report_from_dict(doc: dict):
    """A Report from report.json data (the inverse of ``Report.to_dict``): the one
    reader of reports, for a baseline file and a published artifact alike. The caller
    validates untrusted data first (:func:`bot.publish.artifact.validate_report`);
    malformed data raises KeyError, TypeError or ValueError."""
    def pick(cls, data: dict) -> dict:
        names = {f.name for f in fields(cls)}
        return {k: v for k, v in data.items() if k in names}

    d = doc["diff"]
    br = d.get("branches") if isinstance(d.get("branches"), dict) else {}
    diff = DiffCoverage(num_lines=d["num_lines"], num_covered=d["num_covered"], num_violations=d["num_violations"],
                        percent_covered=d.get("percent_covered"),
                        num_branches=int(br.get("num_branches") or 0), num_covered_branches=int(br.get("num_covered") or 0),
                        num_changed_lines=int(d.get("num_changed_lines") or 0),
                        files={p: FileDiff(**pick(FileDiff, f)) for p, f in d.get("files", {}).items()},
                        note=d.get("note"))
    rows = [FileRow(**{"branches": 0, "missing_branches": 0, **pick(FileRow, f)}) for f in doc["files"]]
    v = doc["verdict"]
    verdict = Verdict(passed=v["passed"], reasons=[RuleResult(r["rule"], r["status"], r["message"])
                                                   for r in v.get("reasons", [])])
    return Report(head=doc["head"], base=doc.get("base") or {}, totals=doc["totals"],
                  base_totals=doc.get("base_totals"), delta=doc.get("delta"), diff=diff, files=rows,
                  baseline=doc.get("baseline") or {}, tiers=doc.get("tiers") or [], goal=doc.get("goal") or {},
                  high_impact=doc.get("high_impact") or [], plan=doc.get("plan") or {},
                  tier_changes=doc.get("tier_changes") or {}, tests=doc.get("tests"), trend=doc.get("trend") or [],
                  verdict=verdict, deleted_files=doc.get("deleted_files") or [], warnings=doc.get("warnings") or [],
                  settings=doc.get("settings") or {}, links={})
