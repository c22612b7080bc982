"""The PR comment (and job summary): Markdown rendered from a report.

The comment is a list of sections in reading order. Each section may offer a compact
form; when the body would exceed GitHub's limit the least important sections are
compacted first, then dropped, and the comment says so.
"""

from __future__ import annotations

from typing import Callable

from bot.render import escape
from bot.render.format import arrow, count, line_link, pct, range_text, ranges, short_sha, signed
from bot.model.report import Report
from bot.render.pr_html import footer_note
from bot.render.section import Section
from bot.render.tests_of_changes import summary_text as who_tests_summary, tests_of_changes_section
from bot.render.tests_section import counts_text, tests_section
from bot.render.tiers_section import tiers_section
from bot.render.to_pass import to_pass
from bot.render.trend_section import trend_section

COMMENT_LIMIT = 65536
#: Headroom for the truncation note and GitHub's own counting of the body.
_SAFETY = 1024
#: A warning or gate reason in the headline (it is never dropped) is cut at this length.
_WARNING_LIMIT = 1000


def marker(comment_id: str) -> str:
    return f"<!-- covbot:comment-id={escape.comment_safe(comment_id)} -->"


# -- sections ------------------------------------------------------------------------

def headline(report: Report) -> Section:
    v = report.verdict
    icon = "✅" if v.passed else "❌"
    state = "passed" if v.passed else "failed"
    title = f"### {icon} covbot: gate {state}"
    t = report.totals
    partial = bool(report.input_errors)
    # the measure named once, at the top: coverage.py's combined figure, as `coverage report`
    parts = [f"**Coverage {pct(t['percent_covered'])}**" + (" (partial)" if partial else "")]
    if report.delta is not None and not partial:
        parts[-1] += f" ({signed(report.delta)} {arrow(report.delta)})".replace(" )", ")")
    d = report.diff
    if d.percent_covered is None:
        parts.append("**Diff coverage n/a**")
    else:
        parts.append(f"**Diff coverage {pct(d.percent_covered)}** ({count(d.num_covered)} of {count(d.num_lines)} "
                     "changed lines)")
    tests = report.tests
    if tests and tests.get("total"):
        parts.append("Tests " + counts_text(tests))
    lines = [title, ""]
    if partial:   # incomplete inputs first: the numbers below are not the PR's
        more = f" (and {len(report.input_errors) - 1} more)" if len(report.input_errors) > 1 else ""
        lines += [f"**⚠️ Incomplete: {escape.inline(report.input_errors[0], limit=_WARNING_LIMIT)}**{more}. "
                  + _not_run(tests) + "The figures below are partial; rules that judge them are not judged.", ""]
    lines += [" · ".join(parts), "", measure_note(report), ""]
    if not v.passed:
        lines += [_to_pass_line(report), ""]
    failed = [r for r in v.reasons if r.status == "failed"]
    for r in failed:
        lines.append(f"- ❌ {escape.code_span(r.rule, limit=60)}: {escape.inline(r.message, limit=_WARNING_LIMIT)}")
    if failed:
        lines.append("")
    if d.percent_covered is None and d.note:
        lines.append(f"> Diff coverage is n/a: {escape.inline(d.note)}.")
        lines.append("")
    warnings = [w for w in report.warnings if not (partial and w == report.input_errors[0])]   # said above
    for w in warnings:
        lines.append(f"> ⚠️ {escape.inline(w, limit=_WARNING_LIMIT)}")   # in full in report.json
    if warnings:
        lines.append("")
    return Section("headline", "\n".join(lines), priority=100)


def _not_run(tests: dict | None) -> str:
    """``12 of 30 tests did not run. `` when a run cut short left collected tests unreached."""
    unrun = (tests or {}).get("not_run")
    if not unrun:
        return ""
    return f"**{count(unrun)} of {count(unrun + tests['total'])} tests did not run.** "


def measure_note(report: Report) -> str:
    """The measure, named once: the one figure every file, tier and the goal show."""
    what = "statements and branches" if report.totals.get("branches") else "statements"
    return (f"<sub>Coverage: {what}, as `coverage report`; the same figure for every file, "
            "tier target and the goal.</sub>")
#: The first screen stays a few lines on the largest PR: so many files, ranges a file and
#: test ids in "To pass"; the Changed files table and report.json have the rest.
_TO_PASS_FILES = 3
_TO_PASS_RANGES = 6
_TO_PASS_TESTS = 3


def _to_pass_line(report: Report) -> str:
    """``**To pass:** cover 3 more changed lines (`a.py` 16-18); fix 1 failing test (`t::x`)``."""
    tp = to_pass(report)
    bits = []
    if tp.lines:
        where = []
        for path, lines in tp.lines[:_TO_PASS_FILES]:
            cells, runs = [], ranges(lines)
            for start, end in runs[:_TO_PASS_RANGES]:
                url = line_link(report.links, path, start, end)
                cells.append(f"[{range_text(start, end)}]({url})" if url else range_text(start, end))
            if len(runs) > _TO_PASS_RANGES:
                rest = sum(end - start + 1 for start, end in runs[_TO_PASS_RANGES:])
                cells.append(f"+{count(rest)} more")
            where.append(f"{escape.code_span(path, limit=120)} {', '.join(cells)}")
        if len(tp.lines) > _TO_PASS_FILES:
            rest = sum(len(lines) for _, lines in tp.lines[_TO_PASS_FILES:])
            where.append(f"{count(rest)} in {len(tp.lines) - _TO_PASS_FILES} more file(s), under Changed files")
        n = tp.lines_needed
        bits.append(f"cover {count(n)} more changed line{'s' if n != 1 else ''} ({'; '.join(where)})")
    if tp.failures:
        n = len(tp.failures)
        ids = ", ".join(escape.code_span(i, limit=150) for i in tp.failures[:_TO_PASS_TESTS])
        more = f" and {n - _TO_PASS_TESTS} more" if n > _TO_PASS_TESTS else ""
        bits.append(f"fix {count(n)} failing test{'s' if n != 1 else ''} ({ids}{more})")
    if tp.other_rules:
        bits.append("resolve " + ", ".join(escape.code_span(r, limit=60) for r in tp.other_rules) + " (below)")
    return "**To pass:** " + "; ".join(bits) + "."


def totals_table(report: Report) -> Section:
    t, b = report.totals, report.base_totals
    base_label = "Base"
    rows = [f"| | {base_label} | Head | Δ |", "|---|---:|---:|---:|"]

    def row(label: str, key: str, fmt: Callable = str, delta_fmt: Callable | None = None):
        head_v = t[key]
        base_v = b[key] if b else None
        if base_v is None:
            d = ""
        elif delta_fmt:
            d = delta_fmt(head_v, base_v)
        else:
            d = f"{head_v - base_v:+d}" if head_v != base_v else "0"
        rows.append(f"| {label} | {fmt(base_v) if base_v is not None else 'n/a'} | {fmt(head_v)} | {d} |")

    row("Coverage", "percent_covered", pct, lambda h, bb: signed(report.delta))
    row("Statements", "statements")
    row("Missing statements", "missing_statements")
    if t["branches"] or (b and b["branches"]):
        row("Branches", "branches")
        row("Covered branches", "covered_branches")
    d = report.diff
    rows.append(f"| Diff coverage | | {pct(d.percent_covered)} | |")
    # the counts go under the table: in the Δ column a note would stretch every row
    note = f"_Diff coverage: {count(d.num_covered)} of {count(d.num_lines)} changed lines covered"
    if d.num_branches:
        note += f"; branches on changed lines: {count(d.num_covered_branches)} of {count(d.num_branches)}"
    return Section("totals", "\n".join(rows) + "\n\n" + note + "._\n", priority=90)


def _missing_cell(report: Report, path: str, missing: list[int], limit: int = 8) -> str:
    rs = ranges(missing)
    cells = []
    for start, end in rs[:limit]:
        text = range_text(start, end)
        url = line_link(report.links, path, start, end)
        cells.append(f"[{text}]({url})" if url else text)
    if len(rs) > limit:
        cells.append(f"+{len(rs) - limit} more")
    return ", ".join(cells)


def changed_files(report: Report, max_files: int) -> Section:
    files = report.changed_files
    if not files:
        return Section("changed", deleted_note(report.deleted_files), priority=80)
    # Most uncovered changed lines first: what a reviewer should look at.
    def key(f):
        fd = report.diff.files.get(f.path)
        return (-(len(fd.missing_lines) if fd else 0), f.path)

    files = sorted(files, key=key)
    header = ["#### Changed files", "",
              "| File | Coverage | Δ | Diff coverage | Missing changed lines |",
              "|---|---:|---:|---:|---|"]

    def render(rows):
        out = list(header)
        for f in rows:
            fd = report.diff.files.get(f.path)
            name = escape.code_span(f.path, limit=120)
            if f.status == "added":
                name += " (new)"
            elif f.status == "renamed" and f.base_path:
                name += f" (renamed from {escape.code_span(f.base_path, limit=80)})"
            diff_cell = f"{pct(fd.percent_covered)} ({fd.changed_lines - len(fd.missing_lines)}/{fd.changed_lines})" if fd else "n/a"
            missing = _missing_cell(report, f.path, fd.missing_lines) if fd else ""
            figure = pct(f.percent_covered) if f.statements else "no statements"   # not "100%" of nothing
            out.append(f"| {name} | {figure} | {_delta_cell(f.delta)} | {diff_cell} | {missing} |")
        return out

    shown = files[:max_files]
    lines = render(shown)
    if len(files) > max_files:
        lines.append(f"\n_{len(files) - max_files} more changed file(s) in report.json and the job summary._")
    full = "\n".join(lines) + "\n"
    compact = "\n".join(render(files[: max(5, max_files // 4)])) + \
        f"\n\n_Table shortened to fit the comment: {len(files)} changed files in report.json._\n"
    full += deleted_note(report.deleted_files)
    return Section("changed", full, priority=80, compact=compact)


def deleted_note(paths: list[str], shown: int = 5, listed: int = 100) -> str:
    """The deleted files by name: a handful inline, the next ``listed`` collapsed, the
    count of the rest (all are in report.json)."""
    if not paths:
        return ""
    text = f"\n_{len(paths)} file(s) deleted:_ " + ", ".join(escape.code_span(p, limit=120) for p in paths[:shown]) + "\n"
    rest = paths[shown:]
    if rest:
        lines = [f"- {escape.code_span(p, limit=120)}" for p in rest[:listed]]
        if len(rest) > listed:
            lines.append(f"- _{len(rest) - listed} more in report.json_")
        text += (f"\n<details>\n<summary>{len(rest)} more deleted file(s)</summary>\n\n" + "\n".join(lines)
                 + "\n\n</details>\n")
    return text


def indirect_files(report: Report, max_files: int) -> Section:
    files = sorted(report.indirect_files, key=lambda f: (f.delta or 0, f.path))
    if not files:
        return Section("indirect", "", priority=40)
    lines = ["<details>", f"<summary>Indirect changes: {len(files)} file(s) not in the diff changed coverage</summary>", "",
             "| File | Base | Head | Δ | Missing Δ |", "|---|---:|---:|---:|---:|"]
    for f in files[:max_files]:
        md = (f.missing - f.base_missing) if f.base_missing is not None else None
        md_text = "" if md is None else f"{md:+d}"
        lines.append(f"| {escape.code_span(f.path, limit=120)} | {pct(f.base_percent_covered)} | {pct(f.percent_covered)} | "
                     f"{_delta_cell(f.delta)} | {md_text} |")
    if len(files) > max_files:
        lines.append(f"\n_{len(files) - max_files} more in report.json._")
    lines += ["", "</details>", ""]
    return Section("indirect", "\n".join(lines), priority=40,
                   compact=f"_Indirect changes: {len(files)} file(s); see report.json._\n")


def footer(report: Report) -> Section:
    base = report.base or {}
    head = report.head or {}
    bl = report.baseline or {}
    bits = [f"head {escape.code_span(short_sha(head.get('sha')))}"]
    if base.get("ref"):
        bits.append(f"base {escape.code_span(base['ref'], limit=60)} {escape.code_span(short_sha(base.get('sha')))}")
    if base.get("merge_base"):
        bits.append(f"merge-base {escape.code_span(short_sha(base['merge_base']))}")
    if bl.get("description"):
        bits.append(f"baseline: {escape.inline(bl['description'])}")
    if html_note := footer_note(report.links or {}):   # where the PR's HTML report is
        bits.append(html_note)
    return Section("footer", "<sub>" + " · ".join(bits) + " · report.json has every number</sub>\n", priority=95)


def sections(report: Report, *, max_files: int = 30, folded: bool = False) -> list[Section]:
    """The comment's sections in reading order. ``folded`` (the PR comment): the first
    screen is the headline only; every other section is a ``<details>``, open only when
    it holds something this PR must act on. The job summary keeps them all open."""
    out = [headline(report), totals_table(report), changed_files(report, max_files),
           indirect_files(report, max_files)]
    for fn in (tests_section, tests_of_changes_section, tiers_section, trend_section):
        s = fn(report)
        if s is not None and s.text:
            out.append(s)
    if folded:
        out = [fold(s, report) for s in out]
    out.append(footer(report))
    return out


def _failed(report: Report, rule: str) -> bool:
    return any(r.rule == rule and r.failed for r in report.verdict.reasons)


def _fold_summary(s: Section, report: Report) -> tuple[str, bool] | None:
    """(the <summary> text, open?) of a section, or None to leave it as it is."""
    if s.name == "totals":
        return "Totals: base and head statements, branches and coverage", False
    if s.name == "changed":
        n = len(report.changed_files)
        missing = sum(len(f.missing_lines) for f in report.diff.files.values())
        return (f"Changed files: {count(n)} file{'s' if n != 1 else ''}, {count(missing)} changed "
                f"line{'s' if missing != 1 else ''} not covered"), _failed(report, "diff")
    if s.name == "tests" and report.tests:
        t = report.tests
        groups = [g for g in t.get("groups") or [] if g.get("category") != "flaky"]
        new = sum(g["new"] for g in groups)
        tail = f" · {count(new)} new failure{'s' if new != 1 else ''}" if new else ""
        return f"Tests: {counts_text(t)}{tail}", _failed(report, "new-failures") or _failed(report, "pass-rate")
    if s.name == "who-tests":
        return who_tests_summary(report), False
    if s.name == "tiers":
        changes = report.tier_changes or {}
        bad = len(changes.get("regressions") or []) + len(changes.get("new_below_target") or [])
        tail = f" · {count(bad)} file{'s' if bad != 1 else ''} below target in this PR" if bad else ""
        return f"🎯 Tier targets{tail}", _failed(report, "tier-regression")
    return None


def fold(s: Section, report: Report) -> Section:
    """``s`` inside ``<details>`` with a one-line summary, its #### heading dropped."""
    found = _fold_summary(s, report) if s.text else None
    if found is None:
        return s
    summary, is_open = found

    def wrap(text: str | None) -> str | None:
        if text is None:
            return None
        lines = text.rstrip("\n").split("\n")
        if lines and lines[0].startswith("#### "):
            lines = lines[1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
        return "\n".join([f"<details{' open' if is_open else ''}>", f"<summary>{summary}</summary>", "",
                          *lines, "", "</details>", ""])

    return Section(s.name, wrap(s.text), s.priority, compact=wrap(s.compact))


def assemble(parts: list[Section], *, comment_id: str, limit: int = COMMENT_LIMIT) -> str:
    head = marker(comment_id) + "\n"
    budget = limit - _SAFETY

    def body(ps):
        return head + "\n".join(p.text for p in ps if p.text)

    text = body(parts)
    if len(text) <= budget:
        return text
    notes = []
    parts = list(parts)
    order = sorted(range(len(parts)), key=lambda i: parts[i].priority)
    for i in order:       # compact the least important first
        if parts[i].compact is not None and parts[i].text != parts[i].compact:
            parts[i] = Section(parts[i].name, parts[i].compact, parts[i].priority)
            notes.append(f"{parts[i].name} shortened")
            if len(body(parts)) <= budget:
                break
    for i in order:       # then drop
        if len(body(parts)) <= budget:
            break
        if parts[i].priority >= 100:
            continue
        notes.append(f"{parts[i].name} left out")
        parts[i] = Section(parts[i].name, "", parts[i].priority)
    note = ("\n> ✂️ This comment was shortened to fit GitHub's 65,536-character limit "
            f"({', '.join(notes)}); the job summary and report.json have everything.\n")
    text = body(parts) + note
    if len(text) > budget:   # the headline alone is too long: hard cut
        text = text[: budget - 200] + "\n\n… (truncated)\n" + note
    return text


def shorten(body: str, comment_id: str, limit: int = 30000) -> str:
    """A smaller body after GitHub refused one as too long (it counts differently than we do)."""
    if len(body) <= limit:
        limit = max(1000, len(body) // 2)
    note = ("\n\n… (shortened: GitHub refused the full comment as too long; "
            "the job summary and report.json have everything)\n")
    mark = marker(comment_id)
    text = body[: limit - len(note)]
    if mark not in text:
        text = mark + "\n" + text
    return text + note


def render_comment(report: Report, *, comment_id: str = "covbot", max_files: int = 30,
                   limit: int = COMMENT_LIMIT) -> str:
    return assemble(sections(report, max_files=max_files, folded=True), comment_id=comment_id, limit=limit)


def render_summary(report: Report, *, comment_id: str = "covbot") -> str:
    """The job summary: like the comment but with every changed file (limit 1 MiB)."""
    return assemble(sections(report, max_files=10_000), comment_id=comment_id, limit=1_000_000)


def _delta_cell(value: float | None) -> str:
    """``-2.53 ▼``, ``+1.00 ▲``, ``±0.00`` or ``n/a``."""
    return f"{signed(value)} {arrow(value)}".rstrip()
