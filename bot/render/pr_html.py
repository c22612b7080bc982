"""The HTML report of one PR run (``.covbot/html/index.html``): self-contained, inline
CSS, no script, nothing fetched.

Every changed file with its changed lines (and a few lines around them) marked covered,
missing or partly covered (a branch not taken), the changed lines highlighted, and the
base's and head's coverage side by side. The missing changed lines are report.json's
``diff.files[path].missing_lines``, the same the comment lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Callable
from html import escape
from urllib.parse import quote

from bot.model.report import Report
from bot.render.markup import BASE_CSS, Markup, el, href, link, page_parts

#: Lines shown around each run of changed lines.
CONTEXT = 3

CSS = BASE_CSS + """
.file{margin:22px 0;border:1px solid var(--line);border-radius:8px;overflow:hidden}
.file>header{padding:8px 12px;background:var(--soft);border-bottom:1px solid var(--line)}
.file>header h2{border:0;margin:0;padding:0;font-size:15px}
table.src{width:100%;margin:0;border-collapse:collapse}
table.src td{border:0;padding:0 8px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
font-size:12.5px;line-height:19px;white-space:pre-wrap;word-break:break-all}
table.src td.no{width:1%;text-align:right;color:var(--muted);user-select:none;white-space:nowrap}
table.src td.mark{width:1%;white-space:nowrap;font-weight:700;text-align:center}
tr.covered td.mark{color:var(--good)}tr.missing td.mark{color:var(--bad)}tr.partial td.mark{color:var(--warn)}
tr.changed td.code{background:#f0f6ff}tr.changed td.no{background:#ddeaff;color:var(--fg)}
tr.changed.covered td.code{background:#e6ffec}tr.changed.missing td.code{background:#ffebe9}
tr.changed.partial td.code{background:#fff8c5}
tr.gap td{background:var(--soft);color:var(--muted);font-style:italic}
.key span{margin-right:14px}
"""

_MARK = {"covered": "✓", "missing": "✗", "partial": "◐"}


@dataclass
class FileLines:
    """What the page shows of one changed file: its source and its lines' states."""

    path: str
    #: Reads the head's text, by line (None: not readable), when the file's listing is
    #: written: a page holds one changed file's text at a time, not all of them.
    reader: Callable[[], list[str] | None] | None = None
    statements: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    partial: set[int] = field(default_factory=set)   # a branch from this line was not taken
    changed: set[int] = field(default_factory=set)
    omitted: str | None = None            # why the source is not shown


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def line_state(f: FileLines, n: int, missing_changed: set[int]) -> str | None:
    if n in f.changed:
        if n in missing_changed:
            return "missing"
        if n not in f.statements:
            return None
        return "partial" if n in f.partial else "covered"
    if n in f.missing:
        return "missing"
    if n in f.statements:
        return "partial" if n in f.partial else "covered"
    return None


def shown_lines(changed: set[int], count: int, context: int = CONTEXT) -> list[tuple[int, int]]:
    """Runs of lines to show: the changed ones with ``context`` lines around them."""
    runs: list[tuple[int, int]] = []
    for n in sorted(c for c in changed if 1 <= c <= count):
        lo, hi = max(1, n - context), min(count, n + context)
        if runs and lo <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], max(runs[-1][1], hi))
        else:
            runs.append((lo, hi))
    return runs


def _listing(f: FileLines, missing_changed: set[int]) -> Markup:
    if f.omitted:
        return el("p", f.omitted, class_="muted")
    source = f.reader() if f.reader is not None else None
    if source is None:
        return el("p", "The source of this file could not be read.", class_="muted")
    rows, last = [], 0
    for lo, hi in shown_lines(f.changed, len(source)):
        if lo > last + 1:
            rows.append(_gap(lo - last - 1))
        # The one place a line's text is written: the run is escaped at once, and each row
        # is one format of a template chosen by its state (a page has tens of thousands).
        code = _escape_text("\n".join(source[lo - 1:hi])).split("\n")
        rows.extend(_ROW[(n in f.changed, line_state(f, n, missing_changed))] % (n, n, text)
                    for n, text in zip(range(lo, hi + 1), code))
        last = hi
    if last < len(source):
        rows.append(_gap(len(source) - last))
    return Markup(f'<table class="src"><tbody>{"".join(rows)}</tbody></table>')


def _gap(count: int) -> str:
    return f'<tr class="gap"><td></td><td></td><td>{count} unchanged lines</td></tr>'


def _escape_text(text: str) -> str:
    """Text for an element's content (not an attribute): ``&``, ``<`` and ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _row_template(changed: bool, state: str | None) -> str:
    classes = " ".join(c for c in ("line", "changed" if changed else None, state) if c)
    return (f'<tr class="{classes}" data-line="%d"><td class="no">%d</td>'
            f'<td class="mark">{escape(_MARK.get(state, ""), quote=True)}</td><td class="code">%s</td></tr>')


#: A source line's row by (changed, state): line number twice, then the escaped text.
_ROW = {(changed, state): _row_template(changed, state)
        for changed in (False, True) for state in (None, "covered", "missing", "partial")}


def _file(report: Report, f: FileLines, row, url, anchor: str) -> Markup:
    fd = report.diff.files.get(f.path)
    missing_changed = set(fd.missing_lines) if fd else set()
    base = row.base_percent_covered if row else None
    head = row.percent_covered if row else None
    delta = row.delta if row else None
    diff = (f"diff coverage {_pct(fd.percent_covered)} ({fd.changed_lines - len(fd.missing_lines)} of "
            f"{fd.changed_lines} changed lines)" if fd else "no measured changed lines")
    facts = el("p", f"base {_pct(base)} → head {_pct(head)}",
               f" ({delta:+.2f} points)" if delta is not None else "", " · ", diff,
               f" · {len(missing_changed)} missing changed lines" if missing_changed else "",
               class_="muted", data_base=base, data_head=head)
    name = link(el("code", f.path), url(f.path))
    status = f" ({row.status})" if row and row.status in ("added", "renamed") else ""
    return el("section", el("header", el("h2", name, status), facts), _listing(f, missing_changed),
              class_="file", data_path=f.path, id=anchor)


def _index(report: Report, files: list[FileLines], by_path: dict) -> Markup:
    """The changed files side by side: base, head, change, diff coverage."""
    rows = []
    for i, f in enumerate(files):
        row = by_path.get(f.path)
        fd = report.diff.files.get(f.path)
        rows.append(el("tr", el("td", link(el("code", f.path), f"#f{i}")),
                       el("td", _pct(row.base_percent_covered if row else None), class_="num"),
                       el("td", _pct(row.percent_covered if row else None), class_="num"),
                       el("td", "n/a" if row is None or row.delta is None else f"{row.delta:+.2f}", class_="num"),
                       el("td", _pct(fd.percent_covered) if fd else "n/a", class_="num"),
                       el("td", len(fd.missing_lines) if fd else 0, class_="num")))
    head = el("tr", el("th", "Changed file"), el("th", "Base", class_="num"), el("th", "Head", class_="num"),
              el("th", "Δ", class_="num"), el("th", "Diff coverage", class_="num"),
              el("th", "Missing changed lines", class_="num"))
    return el("table", el("thead", head), el("tbody", rows), id="files")


def pr_report_parts(report: Report, files: list[FileLines], *, title: str, sections=None):
    """The page for ``report`` and its changed files (in the order given), in pieces:
    the document's start, the header and index, each changed file's section
    (``sections``, when they were rendered already, as by :func:`file_sections`), the end."""
    t, b, d = report.totals, report.base_totals, report.diff
    v = report.verdict
    sha = (report.head or {}).get("sha")
    head_row = el("tr", el("th", ""), el("th", "Base", class_="num"), el("th", "Head", class_="num"),
                  el("th", "Δ", class_="num"))
    rows = [el("tr", el("td", "Total coverage"), el("td", _pct(b["percent_covered"]) if b else "n/a", class_="num"),
               el("td", _pct(t["percent_covered"]), class_="num", id="head-total", data_value=t["percent_covered"]),
               el("td", "n/a" if report.delta is None else f"{report.delta:+.2f}", class_="num")),
            el("tr", el("td", "Statements"), el("td", b["statements"] if b else "n/a", class_="num"),
               el("td", t["statements"], class_="num"), el("td", "", class_="num")),
            el("tr", el("td", "Diff coverage"), el("td", "", class_="num"),
               el("td", _pct(d.percent_covered), class_="num", id="diff-coverage", data_value=d.percent_covered),
               el("td", "", class_="num")),
            el("tr", el("td", "Changed lines covered"), el("td", "", class_="num"),
               el("td", f"{d.num_covered} of {d.num_lines}", class_="num"), el("td", "", class_="num"))]
    key = el("p", el("span", "✓ covered", class_="good"), el("span", "✗ missing", class_="bad"),
             el("span", "◐ partly covered (a branch not taken)", class_="warn"),
             el("span", "highlighted: changed in this PR"), class_="key muted")
    body = [el("header", el("h1", title),
               el("p", f"gate {'passed' if v.passed else 'failed'} · head ", el("code", (sha or "")[:12]),
                  f" · base {(report.base or {}).get('ref') or 'n/a'}", class_="sub", id="verdict",
                  data_passed=str(v.passed).lower())),
            el("table", el("thead", head_row), el("tbody", rows), id="totals"), key]
    if not files:
        body.append(el("p", "No measured file changed in this PR.", class_="muted"))
    else:
        body.append(_index(report, files, {r.path: r for r in report.changed_files}))
    rest = file_sections(report, files) if sections is None else sections
    return page_parts(title, chain([body], rest), css=CSS)


def file_sections(report: Report, files: list[FileLines]):
    """Each changed file's section: its figures and its listing. They need the analysis
    only (diff coverage, the changed files' figures, the links), not the gate's verdict,
    so they can be made while the triage, tiers and gate run."""
    links = report.links or {}
    server, repo, sha = links.get("server_url"), links.get("repository"), (report.head or {}).get("sha")

    def url(path: str):
        return f"{server.rstrip('/')}/{repo}/blob/{sha}/{quote(path)}" if server and repo and sha else None

    by_path = {r.path: r for r in report.changed_files}
    for i, f in enumerate(files):
        yield _file(report, f, by_path.get(f.path), url, f"f{i}")


def footer_note(links: dict) -> str | None:
    """The comment footer's pointer to this page (Markdown): the URL the workflow
    publishes it at, else the run whose artifacts hold it, else the output folder."""
    if not links.get("html_report"):
        return None
    url = href(links.get("html_report_url"))
    if url and url.startswith(("https://", "http://")):
        return f"[HTML report]({quote(url, safe=':/?#[]@!$&*+,;=%~')})"
    run = href(links.get("run_url"))
    if run and run.startswith(("https://", "http://")):
        return f"HTML report: `{links['html_report']}` in the [run's artifacts]({quote(run, safe=':/?#@!$&*+,;=%~')})"
    return f"HTML report: `{links['html_report']}` next to report.json"
