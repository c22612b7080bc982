"""The history of saved baselines (``history.jsonl`` on the data branch) and the trend a
PR comment shows: totals per saved commit, oldest first."""

from __future__ import annotations

import json

HISTORY_PATH = "history.jsonl"


def history_entry(doc: dict) -> dict:
    t = doc["totals"]
    entry = {"commit": doc["commit"], "ref": doc.get("ref"), "committed": doc.get("committed"),
             "saved": doc.get("saved"), "percent_covered": t["percent_covered"],
             "statements": t["statements"], "missing": t["missing"], "branches": t["branches"],
             "missing_branches": t["missing_branches"]}
    tests = doc.get("tests")
    if tests:
        entry["tests"] = {k: tests[k] for k in ("total", "passed", "failed", "errors")}
    return entry


def parse_history(data: bytes | None) -> list[dict]:
    """Entries of history.jsonl; a damaged line is skipped rather than failing the report."""
    entries = []
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict) and isinstance(e.get("commit"), str) and \
                isinstance(e.get("percent_covered"), (int, float)):
            entries.append(e)
    return entries


def append_history(entries: list[dict], entry: dict, limit: int) -> list[dict]:
    """Append ``entry`` (replacing an earlier entry of the same commit), keep the last ``limit``."""
    out = [e for e in entries if e.get("commit") != entry["commit"]]
    out.append(entry)
    return out[-max(1, limit):]


def newest(entries: list[dict], is_ancestor=None) -> dict | None:
    """The entry of the most recently committed commit (saves may land out of order).

    Commits made in the same second are told apart by ancestry when
    ``is_ancestor(a, b)`` can (a descendant is newer), else by the order of saving."""
    if not entries:
        return None
    latest = max(e.get("committed") or "" for e in entries)
    tied = [e for e in entries if (e.get("committed") or "") == latest]
    if len(tied) > 1 and is_ancestor is not None:
        tips = [e for e in tied
                if not any(o is not e and o.get("commit") != e.get("commit")
                           and is_ancestor(e.get("commit"), o.get("commit")) for o in tied)]
        tied = tips or tied
    return tied[-1]


def trend_points(history: list[dict], chain: list[str], count: int) -> list[dict]:
    """The last ``count`` saved totals on the line that leads to the merge-base, oldest first.

    ``chain`` is the merge-base and its first-parent ancestors (newest first). Saved
    commits on it are the trend; when the walk ended before the oldest of them (a
    shallow clone, a long history), entries of the same ref committed before the
    oldest one seen are taken too. Without a chain, the newest entries are used.
    """
    if count <= 0:
        return []
    pos = {sha: i for i, sha in enumerate(chain)}
    on_chain = [e for e in history if e["commit"] in pos]
    if chain and on_chain:
        on_chain.sort(key=lambda e: -pos[e["commit"]])
        picked = on_chain
        if len(picked) < count:
            first = picked[0]
            ref, when = first.get("ref"), first.get("committed") or ""
            older = [e for e in history if e["commit"] not in pos and e.get("ref") == ref
                     and (e.get("committed") or "") < when]
            older.sort(key=lambda e: e.get("committed") or "")
            picked = older + picked
    elif chain:
        return []
    else:
        picked = sorted(history, key=lambda e: e.get("committed") or "")
    return [{"commit": e["commit"], "committed": e.get("committed"), "ref": e.get("ref"),
             "percent_covered": e["percent_covered"]} for e in picked[-count:]]
