"""The comment section on test results: what broke, why, and whether this PR did it.

Only formats ``report.tests`` (built by ``bot.stages.triage``). New failures come first,
grouped by signature, each group with its class, reason, count and a collapsible
traceback trimmed to project frames; pre-existing failures are collapsed; fixed and
flaky tests are listed. Test ids, messages and paths come from the PR: every one is
escaped, tracebacks go in code blocks with a fence longer than any inside them.
"""

from __future__ import annotations

from bot.render import escape
from bot.render.format import count, line_link, pct
from bot.render.section import Section
from bot.model.report import Report

#: Reading order of the groups: what the PR most likely broke first.
CATEGORY_ORDER = ("production bug", "test bug", "environment", "flaky")
ICONS = {"production bug": "🐞", "test bug": "🧪", "environment": "🌐", "flaky": "🎲"}
#: Groups shown with their tracebacks, tests listed per group, ids listed per list.
MAX_GROUPS = 15
MAX_LISTED = 40          # groups listed at all (headline and reason); the rest are counted
MAX_LISTED_COMPACT = 10
MAX_TESTS = 8
MAX_IDS = 20
MAX_TRACEBACK = 1500


def counts_text(t: dict, *, skipped: bool = False, fmt=count) -> str:
    """``22 passed (1 after a retry), 2 failed``: one counting rule everywhere. A flaky
    test is a pass that needed a retry, so the parts add up to the tests run."""
    passed = f"{fmt(t['passed'])} passed"
    if t.get("flaky"):
        passed += f" ({fmt(t['flaky'])} after a retry)"
    parts = [passed]
    for key in ("failed", "errors") + (("skipped",) if skipped else ()):
        if t.get(key):
            parts.append(f"{fmt(t[key])} {key}")
    if t.get("not_run"):   # a run cut short: collected, never reached
        parts.append(f"{fmt(t['not_run'])} not run")
    return ", ".join(parts)


def first_line(failure: dict, limit: int = 160) -> str:
    """The failure's own message, first line, trimmed (the signature is for grouping)."""
    text = (failure.get("message") or "").strip().split("\n", 1)[0].strip()
    if not text:
        text = failure.get("exception") or failure.get("signature") or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _location(report: Report, location: str | None) -> str:
    if not location:
        return ""
    path, _, line = location.rpartition(":")
    text = escape.code_span(location, limit=120)
    # a link only to a plain path of the repository (line_link refuses ``..`` and the like)
    url = line_link(report.links, path, int(line)) if line.isascii() and line.isdigit() and len(line) < 10 \
        and path else None
    return f"[{text}]({url})" if url else text


def _groups(items: list[dict]) -> list[dict]:
    by_sig: dict[str, dict] = {}
    for f in items:
        g = by_sig.setdefault(f["signature"], {"first": f, "tests": []})
        g["tests"].append(f)
    order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return sorted(by_sig.values(), key=lambda g: (order.get(g["first"]["category"], 9), -len(g["tests"]),
                                                  g["first"]["signature"]))


def _group_block(report: Report, g: dict, *, with_traceback: bool) -> list[str]:
    f = g["first"]
    n = len(g["tests"])
    icon = ICONS.get(f["category"], "")
    # the real message (first line, trimmed); the signature only groups
    headline = (f"- {icon} **{escape.inline(f['category'])}** · {n} test{'s' if n != 1 else ''} · "
                f"{escape.code_span(first_line(f), limit=160)}")
    reason = escape.inline(f["reason"], limit=300)
    loc = f.get("location")
    if loc:
        linked = _location(report, loc)
        plain = escape.inline(loc)
        reason = reason.replace(plain, linked, 1) if plain in reason else f"{reason} ({linked})"
    lines = [headline, f"  {reason}"]
    if not with_traceback:
        return lines
    ids = [escape.code_span(t["id"], limit=150) for t in g["tests"][:MAX_TESTS]]
    more = f" and {n - MAX_TESTS} more" if n > MAX_TESTS else ""
    summary = "traceback" + (f" of {escape.html_text(f['id'])}" if n == 1 else f" and the {n} tests")
    lines += ["", "  <details>", f"  <summary>{summary}</summary>", ""]
    if n > 1:
        lines.append("  Tests: " + ", ".join(ids) + more)
        lines.append("")
    tb = f.get("traceback") or f.get("message") or ""
    if tb:
        block = escape.code_block(tb, "text", limit=MAX_TRACEBACK)
        lines += ["  " + ln if ln else "" for ln in block.splitlines()]
    lines += ["", "  </details>", ""]
    return lines


def _group_list(report: Report, groups: list[dict], *, compact: bool, tracebacks: bool) -> list[str]:
    limit = MAX_LISTED_COMPACT if compact else MAX_LISTED
    lines: list[str] = []
    for i, g in enumerate(groups[:limit]):
        lines += _group_block(report, g, with_traceback=tracebacks and i < MAX_GROUPS)
    if len(groups) > limit:
        rest = groups[limit:]
        n = sum(len(g["tests"]) for g in rest)
        lines.append(f"- … {len(rest)} more group{'s' if len(rest) != 1 else ''} ({n} test{'s' if n != 1 else ''}) "
                     "in report.json")
    lines.append("")
    return lines


def _id_list(items: list[dict], *, with_reason: bool) -> list[str]:
    out = []
    for f in items[:MAX_IDS]:
        line = f"- {escape.code_span(f['id'], limit=150)}"
        if with_reason and f.get("reason"):
            line += f": {escape.inline(f['reason'], limit=200)}"
        out.append(line)
    if len(items) > MAX_IDS:
        out.append(f"- … and {len(items) - MAX_IDS} more in report.json")
    return out


def _render(report: Report, t: dict, *, compact: bool) -> str:
    failures = t.get("failures") or []
    flaky = [f for f in failures if f.get("outcome") == "flaky" or f.get("category") == "flaky"]
    broken = [f for f in failures if f not in flaky]
    new = [f for f in broken if f.get("status") in ("new", "unknown")]
    pre = [f for f in broken if f.get("status") == "pre-existing"]
    compared = t.get("base_compared", any(f.get("status") != "unknown" for f in failures))

    counts = [counts_text(t, skipped=True)]
    rate = t.get("pass_rate")
    target = t.get("pass_rate_target")
    rate_text = f"pass rate {pct(rate)}"
    if rate is not None and target is not None:
        rate_text += f" ({'meets' if rate >= target else 'below'} the {target:g}% target)"
    lines = ["#### Tests", "", f"{', '.join(counts)} · {rate_text} · skipped tests not counted", ""]

    if new:
        groups = _groups(new)
        title = "New failures" if compared else "Failures"
        extra = "" if compared else " (no base results to compare with)"
        lines.append(f"**{title}: {len(new)} test{'s' if len(new) != 1 else ''} in {len(groups)} "
                     f"group{'s' if len(groups) != 1 else ''}**{extra}")
        lines.append("")
        lines += _group_list(report, groups, compact=compact, tracebacks=not compact)
    elif compared and not pre:
        lines += ["No failing tests.", ""]
    elif compared:
        lines += ["No new failures.", ""]

    if pre:
        groups = _groups(pre)
        lines += ["<details>",
                  f"<summary>Pre-existing failures: {len(pre)} test{'s' if len(pre) != 1 else ''} in "
                  f"{len(groups)} group{'s' if len(groups) != 1 else ''}, failing on the base too</summary>", ""]
        lines += _group_list(report, groups, compact=compact, tracebacks=False)
        lines += ["", "</details>", ""]

    if flaky:
        lines.append(f"**Flaky: {len(flaky)} test{'s' if len(flaky) != 1 else ''}** (reported, not blocking)")
        lines.append("")
        lines += _id_list(flaky, with_reason=True)
        lines.append("")

    fixed = t.get("fixed") or []
    if fixed:
        lines.append(f"**Fixed: {len(fixed)} test{'s' if len(fixed) != 1 else ''}** failed on the base and pass now")
        lines.append("")
        lines += _id_list(fixed, with_reason=False)
        lines.append("")
    return "\n".join(lines) + "\n"


def tests_section(report: Report) -> Section | None:
    t = report.tests
    if not t or not t.get("total"):
        return None
    return Section("tests", _render(report, t, compact=False), priority=70,
                   compact=_render(report, t, compact=True))
