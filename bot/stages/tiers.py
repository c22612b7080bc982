"""Tier targets, the long-term goal, the high-impact list and the next plan.

A coverage programme sorts files into size tiers ("every file over 500 statements to
50%"), holds critical files to a higher target and tracks the whole code base against a
long-term goal. This stage computes all of it from the measured files and writes it
into the report: ``tiers``, ``goal``, ``high_impact``, ``plan``, ``tier_changes`` and
per-file ``tier``, ``target``, ``meets_target`` and ``critical``.

**Which coverage is judged.** Targets, the goal and the high-impact list use the one
figure covbot shows for a file everywhere: coverage.py's own (``coverage report``'s
``Cover`` column: statements and branches together when branch data exists, statements
alone when it does not). A programme ("every file over 500 statements to 50%") is
checked against ``coverage report``, so it must read the same number there as here. The
work left is counted in the same units, statements and branches to cover
(``gap_statements``, named before targets counted branches): "meets its target" is
exactly "nothing left to cover". Statement-only figures are still written beside it
(``percent_statements``). A file with no statements (an empty ``__init__.py``) has
nothing to cover: it is never targeted, nor counted as critical.

**Tiers.** A file belongs to the first tier, largest ``min-statements`` first, whose
``min-statements`` it reaches (inclusive). Files under the smallest tier are "small":
reported, not targeted. A critical file (glob match) stays in its size tier, is judged
against the critical target, and meets its tier only when it meets that target. A
critical file too small for any tier is still held to the critical target: someone
named it explicitly.

**The next plan.** Raising file *i* to its target covers a fixed number of statements
``gain_i`` (its statements to cover). The plan is the smallest set of files whose gains
sum to at least ``goal-share``% of the statements still to cover for the goal. For any
set size *k* the largest achievable sum is that of the *k* largest gains, so the
smallest feasible *k* is the first prefix of the gains sorted in descending order that
reaches the requirement: taking files by gain, largest first, is exact, not a heuristic.
"""

from __future__ import annotations

import math
from functools import lru_cache

from bot.model.config import Config, Tier
from bot.model.globs import is_critical
from bot.model.numbers import Numbers, delta as pct_delta, display_percent, rounded_percent, to_reach

SMALL = "small"


# -- one file ----------------------------------------------------------------------

def tier_of(statements: int, tiers: tuple[Tier, ...]) -> Tier | None:
    for t in _largest_first(tiers):
        if statements >= t.min_statements:
            return t
    return None


@lru_cache(maxsize=16)
def _largest_first(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    return tuple(sorted(tiers, key=lambda t: -t.min_statements))


def _judge(numbers: Numbers, path: str, config: Config) -> dict:
    """Tier, target and status of one file from its counts."""
    tier = tier_of(numbers.statements, config.tiers)
    # A file without statements has nothing to cover: no target, not "critical at 100%".
    critical = numbers.statements > 0 and is_critical(path, config.critical_paths)
    if critical:
        # Held to the higher of the two: being critical never lowers a file's bar.
        target = max(config.critical_target, tier.target) if tier is not None else config.critical_target
    elif tier is not None:
        target = tier.target
    else:
        target = None
    gap = to_reach(target, numbers) if target is not None else 0
    return {
        "tier": tier.name if tier is not None else SMALL,
        "target": target,
        "critical": critical,
        "meets": (gap == 0) if target is not None else None,
        "gap": gap,
        "pc": numbers.pc_covered,
    }


def _numbers(fc) -> Numbers:
    return fc.numbers


# -- the stage ---------------------------------------------------------------------

def apply(report, *, head, base, config: Config, is_test=lambda path: False) -> None:
    """Fill the tier, goal, high-impact, plan and tier-change parts of ``report``.

    Targets, the plan and the high-impact list judge the project's source files: not
    its test files (``is_test``; unless ``target-tests``), nor measured files git does
    not track. The goal stays on the totals, coverage.py's over every measured file."""
    rows = {r.path: r for r in report.files}
    judged: dict[str, dict] = {}
    for path in sorted(head.files):
        if not _judged(path, head, config, is_test):
            continue
        n = _numbers(head.files[path])
        j = _judge(n, path, config)
        j["numbers"] = n
        judged[path] = j
        row = rows.get(path)
        if row is not None:
            row.tier = j["tier"]
            row.target = j["target"]
            row.meets_target = j["meets"]
            row.critical = j["critical"]

    base_judged: dict[str, dict] | None = None
    if base is not None:
        base_judged = {}
        for path, fc in base.files.items():
            if not _judged(path, base, config, is_test):
                continue
            n = _numbers(fc)
            j = _judge(n, path, config)
            j["numbers"] = n
            base_judged[path] = j

    changes = _tier_changes(report, judged, base_judged)
    report.tier_changes = changes
    touched = _touched_paths(report, changes)
    report.tiers = _tier_summaries(config, judged, base_judged, rows, touched, set(report.deleted_files))
    report.goal = _goal(config, head, base)
    report.high_impact = _high_impact(judged, rows, config.high_impact_count)
    report.plan = _plan(config, judged, report.goal)


def _judged(path: str, cov, config: Config, is_test) -> bool:
    """Whether ``path`` of ``cov`` is judged against tier targets: a tracked source file."""
    if path in cov.untracked:
        return False
    return config.target_tests or not is_test(path)


def _base_path(row) -> str:
    return row.base_path or row.path


def _entry(row, j: dict, bj: dict | None) -> dict:
    return {
        "path": row.path,
        "tier": j["tier"],
        "target": j["target"],
        "critical": j["critical"],
        "statements": j["numbers"].statements,
        "percent_covered": display_percent(j["pc"]),
        "base_percent_covered": display_percent(bj["pc"]) if bj else None,
        "percent_statements": j["numbers"].percent_statements,
        "base_percent_statements": bj["numbers"].percent_statements if bj else None,
        "base_tier": bj["tier"] if bj else None,
        "base_target": bj["target"] if bj else None,
        "gap_statements": j["gap"],
        "changed": row.changed,
    }


def _tier_changes(report, judged: dict, base_judged: dict | None) -> dict:
    """What this PR does to the tier targets (``None`` lists without a baseline).

    - ``regressions``: met its target on the base, misses it now (gate rule
      ``tier-regression``); any file, changed or not, since tests move coverage too.
    - ``dropped``: a changed file that missed its target on the base and still does,
      and whose coverage went down.
    - ``reached``: missed its target on the base, meets it now.
    - ``new_below_target``: a file that has a target only now (added in this PR, or
      grown out of "small") and misses it; ``reason`` says which.
    """
    if base_judged is None:
        return {"baseline": False, "regressions": None, "dropped": None, "reached": None,
                "new_below_target": None}
    regressions, dropped, reached, new = [], [], [], []
    for row in report.files:
        j = judged.get(row.path)
        if j is None or j["target"] is None:
            continue
        bj = base_judged.get(_base_path(row))
        if bj is None or bj["target"] is None:
            if not j["meets"]:
                new.append(dict(_entry(row, j, bj), reason="added" if bj is None else "entered a tier"))
            continue
        if bj["meets"] and not j["meets"]:
            regressions.append(_entry(row, j, bj))
        elif j["meets"] and not bj["meets"]:
            reached.append(_entry(row, j, bj))
        elif (not j["meets"]) and row.changed and j["pc"] < bj["pc"]:
            dropped.append(_entry(row, j, bj))
    regressions.sort(key=lambda e: (-e["gap_statements"], e["path"]))
    dropped.sort(key=lambda e: (e["percent_covered"] - e["base_percent_covered"], e["path"]))
    reached.sort(key=lambda e: e["path"])
    new.sort(key=lambda e: (-e["gap_statements"], e["path"]))
    return {"baseline": True, "regressions": regressions, "dropped": dropped, "reached": reached,
            "new_below_target": new}


def _touched_paths(report, changes: dict) -> set[str]:
    touched = {r.path for r in report.files if r.changed or r.indirect}
    for key in ("regressions", "dropped", "reached", "new_below_target"):
        for e in changes.get(key) or []:
            touched.add(e["path"])
    return touched


def _tier_bounds(config: Config) -> list[tuple[str, int, int | None, float | None]]:
    """(name, min, max inclusive or None, target) for each tier and for "small"."""
    tiers = sorted(config.tiers, key=lambda t: -t.min_statements)
    out = []
    upper = None
    for t in tiers:
        out.append((t.name, t.min_statements, upper, t.target))
        upper = t.min_statements - 1
    if upper is None or upper >= 0:
        out.append((SMALL, 0, upper, None))
    return out


def _sum_up(members: list[dict]) -> dict:
    total = Numbers()
    for j in members:
        total = total + j["numbers"]
    targeted = [j for j in members if j["target"] is not None]
    return {
        "files": len(members),
        "targeted": len(targeted),
        "meeting": sum(1 for j in targeted if j["meets"]),
        "statements": total.statements,
        "covered_statements": total.covered_statements,
        "uncovered": total.missing,
        "percent_statements": rounded_percent(total.covered_statements, total.statements),
        "percent_covered": total.percent_covered if (total.statements + total.branches) else None,
        "gap_statements": sum(j["gap"] for j in targeted),
        "critical": sum(1 for j in members if j["critical"]),
    }


def _tier_summaries(config: Config, judged: dict, base_judged: dict | None, rows: dict,
                    touched: set[str], deleted: set[str]) -> list[dict]:
    """Each tier's counts and members; ``removed`` counts the base's files of the tier that
    this PR deletes (never listed as members, at 0% or 100%: they have no figure now)."""
    out = []
    for name, lo, hi, target in _tier_bounds(config):
        members = {p: j for p, j in judged.items() if j["tier"] == name}
        s = _sum_up(list(members.values()))
        entry = {"name": name, "min_statements": lo, "max_statements": hi, "target": target,
                 "critical_target": config.critical_target if s["critical"] else None}
        entry.update(s)
        entry["removed"] = 0
        if base_judged is not None:
            entry["removed"] = sum(1 for p, j in base_judged.items() if j["tier"] == name and p in deleted)
            b = _sum_up([j for j in base_judged.values() if j["tier"] == name])
            entry["base"] = {k: b[k] for k in ("files", "targeted", "meeting", "percent_statements",
                                               "percent_covered", "gap_statements")}
        else:
            entry["base"] = None
        entry["changed"] = any(p in touched for p in members) or (
            base_judged is not None and entry["base"]["files"] != entry["files"])
        # Untargeted small files are in ``files`` already; list only the targeted ones.
        listed = {p: j for p, j in members.items() if j["target"] is not None}
        entry["members"] = [_member(p, j, rows.get(p), base_judged) for p, j in
                            sorted(listed.items(), key=lambda kv: (-kv[1]["gap"], -kv[1]["numbers"].missing,
                                                                   kv[0]))]
        out.append(entry)
    return out


def _member(path: str, j: dict, row, base_judged: dict | None) -> dict:
    n = j["numbers"]
    bj = base_judged.get(_base_path(row) if row is not None else path) if base_judged is not None else None
    return {
        "path": path,
        "statements": n.statements,
        "uncovered": n.missing,
        "percent_statements": n.percent_statements,
        "percent_covered": display_percent(j["pc"]),
        "base_percent_statements": bj["numbers"].percent_statements if bj else None,
        "base_percent_covered": display_percent(bj["pc"]) if bj else None,
        "target": j["target"],
        "meets_target": j["meets"],
        "base_meets_target": bj["meets"] if bj else None,
        "critical": j["critical"],
        "gap_statements": j["gap"],
        "changed": bool(row and (row.changed or row.indirect)),
        "delta": pct_delta(j["pc"], bj["pc"]) if bj else None,
        "delta_statements": pct_delta(n.pc_statements, bj["numbers"].pc_statements) if bj else None,
    }


def _goal(config: Config, head, base) -> dict:
    t = head.totals
    gap = to_reach(config.goal, t)
    goal = {
        "target": config.goal,
        "current": t.percent_covered,
        "unit": unit_of(t),
        "percent_covered": t.percent_covered,
        "percent_statements": t.percent_statements,
        "statements": t.statements,
        "covered_statements": t.covered_statements,
        "branches": t.branches,
        "gap_statements": gap,
        "reached": gap == 0,
        "base_current": None,
        "base_gap_statements": None,
        "delta": None,
    }
    if base is not None:
        bt = base.totals
        goal["base_current"] = bt.percent_covered
        goal["base_gap_statements"] = to_reach(config.goal, bt)
        goal["delta"] = pct_delta(t.pc_covered, bt.pc_covered)
    return goal


def unit_of(numbers: Numbers) -> str:
    """What the work left counts: "statements and branches" with branch data."""
    return "statements and branches" if numbers.branches else "statements"


def _high_impact(judged: dict, rows: dict, count: int) -> list[dict]:
    ranked = sorted(judged.items(), key=lambda kv: (-kv[1]["numbers"].missing, kv[0]))
    out = []
    for path, j in ranked:
        n = j["numbers"]
        if n.missing == 0 or len(out) >= count:
            break
        out.append({
            "path": path,
            "statements": n.statements,
            "uncovered": n.missing,
            "percent_covered": display_percent(j["pc"]),
            "percent_statements": n.percent_statements,
            "tier": j["tier"],
            "target": j["target"],
            "critical": j["critical"],
            "gap_statements": j["gap"],
        })
    return out


def _plan(config: Config, judged: dict, goal: dict) -> dict:
    """The smallest set of files that, raised to their targets, closes the share of the gap."""
    gap = goal["gap_statements"]
    required = math.ceil(config.goal_share * gap / 100.0 - 1e-9) if gap else 0
    candidates = sorted(((p, j) for p, j in judged.items() if j["target"] is not None and j["gap"] > 0),
                        key=lambda kv: (-kv[1]["gap"], kv[0]))
    chosen, covered = [], 0
    for path, j in candidates:
        if covered >= required:
            break
        chosen.append({"path": path, "tier": j["tier"], "statements": j["numbers"].statements,
                       "percent_covered": display_percent(j["pc"]),
                       "percent_statements": j["numbers"].percent_statements, "target": j["target"],
                       "critical": j["critical"], "gain": j["gap"]})
        covered += j["gap"]
    available = sum(j["gap"] for _, j in candidates)
    return {
        "share": config.goal_share,
        "goal_gap_statements": gap,
        "required_statements": required,
        "files": chosen,
        "statements": covered,
        "percent_of_gap": rounded_percent(covered, gap) if gap else None,
        "feasible": covered >= required,
        "available_statements": available,
    }


__all__ = ["apply", "is_critical", "tier_of", "unit_of", "SMALL"]
