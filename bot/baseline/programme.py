"""The coverage programme over time, from the data branch's history: where coverage
stands, how fast it moves, when the goal is reached at that pace, which tier files
meet their targets, and which merged pull requests moved coverage most.

Every figure is computed here, once, as plain data; :mod:`bot.render.dashboard` only
formats it.

- **Dates** are the saved commits' committer dates (UTC); entries are ordered by them.
- **The pace** is the least-squares slope of total coverage (coverage.py's figure, the
  goal's measure, see :mod:`bot.stages.tiers`) against the commit date, over the saves whose commits
  were made in the window (the last ``window_days`` days up to the newest save), in
  points per week. It needs two saves on different dates in the window.
- **The goal date** is the newest save's date plus the time the remaining points take
  at that pace; with a pace of zero or less it is "not at this pace".
- **A move** is the change of *total* coverage (coverage.py's combined figure, the one
  a PR comment's delta shows) from the previous save to this one, attributed to the
  saved commit and to its pull request: ``Merge pull request #N from ...`` (a merge
  commit) or ``... (#N)`` at the end of the subject (a squash merge), else the one the
  API names (``GET /repos/{owner}/{repo}/commits/{sha}/pulls``) when the save had a token.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from bot.model.numbers import Numbers, delta as pct_delta, display_percent, rounded_percent
from bot.runs.git import Git

#: The pace's window: the last eight weeks of saves.
WINDOW_DAYS = 56
#: How many drops and gains the dashboard lists.
MOVES = 5

_MERGE = re.compile(r"^Merge pull request #(\d+) from \S+")
_SQUASH = re.compile(r"\(#(\d+)\)\s*$")


# -- what a save records about its commit ------------------------------------------------

def pr_from_subject(subject: str | None) -> int | None:
    """The pull request a merge or squash commit's subject names, if any."""
    if not subject:
        return None
    m = _MERGE.match(subject) or _SQUASH.search(subject)
    return int(m.group(1)) if m else None


def commit_info(git: Git, sha: str) -> dict:
    """Subject, author and pull request of ``sha`` (from its message) for the history.

    A merge commit of a pull request (``Merge pull request #N from ...``) is made by
    whoever merged; its subject is then the PR's title (the message's next paragraph,
    as GitHub writes it) and its author the author of the merged branch's tip."""
    out = git.run_bytes(["show", "-s", "--format=%s%x00%an%x00%b", sha], check=False)
    subject, author, body = (out.decode("utf-8", "replace").split("\0") + ["", ""])[:3]
    info = {"subject": subject, "author": author, "pr": pr_from_subject(subject), "pr_source": None}
    if info["pr"] is not None:
        info["pr_source"] = "message"
        if _MERGE.match(subject):
            title = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
            info["subject"] = title or subject
            tip = git.run_bytes(["show", "-s", "--format=%an", f"{sha}^2"], check=False).decode("utf-8", "replace")
            info["author"] = tip.strip() or author
    info["subject"] = info["subject"].strip()[:200] or None
    info["author"] = info["author"].strip()[:100] or None
    return info


def tier_counts(tiers: list[dict]) -> list[dict]:
    """The per-tier counts a history entry keeps, from a report's ``tiers``."""
    return [{"name": t["name"], "files": t["files"], "targeted": t["targeted"], "meeting": t["meeting"]}
            for t in tiers if t.get("target") is not None]


# -- the programme ---------------------------------------------------------------------

def parse_time(text) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _num(value, default=0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def point(entry: dict) -> dict | None:
    """One history entry as a point of the programme (``None`` without a usable date)."""
    when = parse_time(entry.get("committed")) or parse_time(entry.get("saved"))
    if when is None:
        return None
    statements, missing = _num(entry.get("statements")), _num(entry.get("missing"))
    n = Numbers(statements, missing, _num(entry.get("branches")), _num(entry.get("missing_branches")))
    tests = entry.get("tests") if isinstance(entry.get("tests"), dict) else None
    pass_rate = None
    if tests:
        executed = _num(tests.get("passed")) + _num(tests.get("failed")) + _num(tests.get("errors"))
        pass_rate = rounded_percent(_num(tests.get("passed")), executed)
    pr = entry.get("pr")
    return {
        "commit": entry["commit"], "when": when, "date": when.strftime("%Y-%m-%d"),
        "percent_covered": float(entry["percent_covered"]),
        "pc_covered": n.pc_covered if statements + n.branches else float(entry["percent_covered"]),
        "pc_statements": n.pc_statements,
        "percent_statements": display_percent(n.pc_statements),
        "statements": statements, "missing": missing,
        "tiers": entry.get("tiers") if isinstance(entry.get("tiers"), list) else None,
        "pass_rate": pass_rate, "tests": tests,
        "subject": entry.get("subject") if isinstance(entry.get("subject"), str) else None,
        "author": entry.get("author") if isinstance(entry.get("author"), str) else None,
        "pr": pr if isinstance(pr, int) and not isinstance(pr, bool) and pr > 0 else None,
        "pr_source": entry.get("pr_source"),
        "move": None,
    }


def timeline(history: list[dict]) -> list[dict]:
    """The history's points by commit date (saves may land out of order), each with
    its move of total coverage from the one before."""
    points = [p for p in map(point, history) if p is not None]
    points.sort(key=lambda p: p["when"])    # stable: same-second commits keep their saving order
    for prev, p in zip(points, points[1:]):
        p["move"] = pct_delta(p["pc_covered"], prev["pc_covered"])
    return points


def least_squares(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """``(slope, intercept)`` of the least-squares line, or ``None`` when every x is equal."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


def pace(points: list[dict], *, goal: float, window_days: int = WINDOW_DAYS) -> dict:
    """Points of total coverage per week over the window, and the goal date at that pace."""
    out = {"window_days": window_days, "saves": 0, "start": None, "end": None, "per_week": None,
           "fit": None, "goal": goal, "goal_date": None, "status": "no saves"}
    if not points:
        return out
    last = points[-1]
    start = last["when"] - timedelta(days=window_days)
    window = [p for p in points if p["when"] >= start]
    out.update(saves=len(window), start=start.strftime("%Y-%m-%d"), end=last["date"])
    origin = window[0]["when"]
    xs = [(p["when"] - origin).total_seconds() / 86400 for p in window]
    fit = least_squares(xs, [p["pc_covered"] for p in window])
    current = last["pc_covered"]
    if current >= goal:
        out["status"] = "reached"
    if fit is None:
        if out["status"] != "reached":
            out["status"] = "not enough saves"
        return out
    slope, intercept = fit
    out["per_week"] = round(slope * 7, 2) + 0.0
    out["fit"] = [(window[0]["when"], intercept), (last["when"], intercept + slope * xs[-1])]
    if out["status"] == "reached":
        return out
    if slope <= 0:
        out["status"] = "not at this pace"
        return out
    when = last["when"] + timedelta(days=(goal - current) / slope)
    out.update(status="on pace", goal_date=when.strftime("%Y-%m-%d"))
    return out


def moves(points: list[dict], *, window_days: int = WINDOW_DAYS, count: int = MOVES) -> dict:
    """The largest drops and gains of total coverage among the saves in the window."""
    if not points:
        return {"drops": [], "gains": []}
    start = points[-1]["when"] - timedelta(days=window_days)
    moved = [p for p in points if p["move"] is not None and p["when"] >= start]
    drops = sorted((p for p in moved if p["move"] < 0), key=lambda p: (p["move"], p["when"]))
    gains = sorted((p for p in moved if p["move"] > 0), key=lambda p: (-p["move"], p["when"]))
    return {"drops": drops[:count], "gains": gains[:count]}


def programme(history: list[dict], *, goal: float, window_days: int = WINDOW_DAYS) -> dict:
    """Everything over time the dashboard shows, from ``history.jsonl``'s entries."""
    points = timeline(history)
    return {"points": points, "pace": pace(points, goal=goal, window_days=window_days),
            "moves": moves(points, window_days=window_days), "goal": goal,
            "tier_names": _tier_names(points)}


def _tier_names(points: list[dict]) -> list[str]:
    names: list[str] = []
    for p in points:
        for t in p["tiers"] or []:
            if isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"] not in names:
                names.append(t["name"])
    return names
