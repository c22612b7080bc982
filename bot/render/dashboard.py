"""The programme dashboard (``index.html`` on the data branch): one self-contained page,
inline CSS and SVG, no script, nothing fetched.

It formats what :mod:`bot.baseline.programme` computed (``programme``) and the newest
baseline's tier status (``status``: a report's ``tiers``, ``goal``, ``high_impact`` and
``totals``); every figure carries its value in a ``data-value`` attribute too.
"""

from __future__ import annotations

from bot.render.charts import legend, line_chart, y_range
from bot.render.markup import BASE_CSS, Markup, el, link, page

#: Rows of a tier's file table before it is cut (the rest are in coverage.py's report).
MAX_MEMBERS = 200

CSS = BASE_CSS + """
.tier{margin-bottom:18px}.split{display:grid;grid-template-columns:minmax(0,500px) minmax(0,1fr);
gap:24px;align-items:start}.split>*{min-width:0;overflow-x:auto}
td.path{min-width:12em;max-width:560px;overflow-wrap:anywhere}
tr.meets td.status{color:var(--good)}tr.misses td.status{color:var(--bad)}
td.drop{color:var(--bad)}td.gain{color:var(--good)}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:24px}.pair>*{min-width:0}
footer{margin-top:36px;color:var(--muted);font-size:12px}
"""


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def _signed(value) -> str:
    return "n/a" if value is None else ("±0.00" if value == 0 else f"{value:+.2f}")


def _days(n: int) -> str:
    return "day" if n == 1 else f"{n} days"


def _title(p: dict) -> str:
    """A save's subject without the ``(#N)`` of its pull request, shown next to it."""
    subject = p["subject"] or ""
    suffix = f" (#{p['pr']})"
    return subject[: -len(suffix)] if p["pr"] and subject.endswith(suffix) else subject


class Links:
    """Where names on the page link to: the repository's own pages, coverage.py's report."""

    def __init__(self, links: dict, pages: dict[str, str]):
        server, repo = links.get("server_url"), links.get("repository")
        self.base = f"{server.rstrip('/')}/{repo}" if server and repo else None
        self.pages = pages

    def commit(self, sha: str) -> str | None:
        return f"{self.base}/commit/{sha}" if self.base else None

    def pull(self, number: int) -> str | None:
        return f"{self.base}/pull/{number}" if self.base else None

    def file(self, path: str) -> Markup:
        return link(el("code", path), self.pages.get(path))


def _card(label: str, value: str, note, *, id_: str, data_value) -> Markup:
    return el("div", el("div", label, class_="label"),
              el("div", value, class_="value", id=id_, data_value=data_value),
              el("div", note, class_="note"), class_="card")


def _cards(prog: dict, status: dict | None) -> Markup:
    points, pc = prog["points"], prog["pace"]
    last = points[-1]
    goal = prog["goal"]
    g = (status or {}).get("goal", {})
    gap, unit = g.get("gap_statements"), g.get("unit") or "statements"
    cards = [
        _card("Total coverage", _pct(last["percent_covered"]),
              f"as coverage report; goal {goal:g}%" + (f": {gap} {unit} to cover" if gap is not None else ""),
              id_="total", data_value=last["percent_covered"]),
        _card("Statement coverage", _pct(last["percent_statements"]), "statements alone",
              id_="statements", data_value=last["percent_statements"]),
        _card("Pace", "n/a" if pc["per_week"] is None else f"{pc['per_week']:+.2f}",
              f"points a week over the last {_days(pc['window_days'])} ({pc['saves']} saves)",
              id_="pace", data_value=pc["per_week"]),
    ]
    date = {"reached": "reached", "on pace": pc["goal_date"], "not at this pace": "not at this pace"}.get(
        pc["status"], pc["status"])
    cards.append(_card(f"Goal {goal:g}% reached", date, "at this pace, from the newest save",
                       id_="goal-date", data_value=pc["goal_date"] or pc["status"]))
    return el("div", cards, class_="cards")


def _coverage_chart(prog: dict) -> Markup:
    points, pc, goal = prog["points"], prog["pace"], prog["goal"]
    stmts = [(p["when"], p["pc_statements"]) for p in points]
    total = [(p["when"], p["percent_covered"]) for p in points]
    fit = pc["fit"] or []
    lo, hi = y_range([y for _, y in stmts + total + fit] + [goal])
    series = [{"name": "statement coverage", "points": stmts, "cls": "s0"},
              {"name": "total coverage", "points": total, "cls": "s1"}]
    if fit:
        series.append({"name": "pace", "points": fit, "cls": "fit", "dashed": True})
    chart = line_chart(series, y_lo=lo, y_hi=hi, hlines=[{"y": goal, "label": f"goal {goal:g}%"}],
                       label="Coverage over time, by commit date, with the goal")
    items = [("statement coverage", "s0"), ("total coverage (the goal's measure)", "s1"),
             (f"goal {goal:g}%", "goal")]
    if fit:
        items.append((f"least-squares pace over {pc['start']} to {pc['end']}", "fit"))
    return el("section", el("h2", "Coverage over time"), chart, legend(items), id="coverage")


def _tier_chart(prog: dict, name: str) -> Markup | None:
    meeting, targeted = [], []
    for p in prog["points"]:
        t = next((t for t in p["tiers"] or [] if isinstance(t, dict) and t.get("name") == name), None)
        meeting.append((p["when"], t.get("meeting") if t else None))
        targeted.append((p["when"], t.get("targeted") if t else None))
    values = [y for _, y in meeting + targeted if y is not None]
    if not values:
        return None
    hi = max(values) + 1
    chart = line_chart([{"name": "files", "points": targeted, "cls": "s2", "dashed": True},
                        {"name": "meeting", "points": meeting, "cls": "s3"}],
                       y_lo=0, y_hi=max(hi, 2), unit="", width=500, height=150,
                       label=f"{name}: files meeting the target over time")
    return el("div", chart, legend([("files meeting the target", "s3"), ("files in the tier", "s2")]))


def _members(tier: dict, links: Links) -> Markup:
    rows = []
    for m in tier.get("members", [])[:MAX_MEMBERS]:
        ok = m.get("meets_target")
        rows.append(el("tr", el("td", links.file(m["path"]), class_="path"),
                       el("td", m["statements"], class_="num"), el("td", m["uncovered"], class_="num"),
                       el("td", _pct(m.get("percent_covered")), class_="num"),
                       el("td", f"{m['target']:g}%" + (" (critical)" if m.get("critical") else ""), class_="num"),
                       el("td", "meets" if ok else f"{m['gap_statements']} to cover", class_="status"),
                       class_="meets" if ok else "misses", data_path=m["path"]))
    more = len(tier.get("members", [])) - MAX_MEMBERS
    head = el("tr", el("th", "File"), el("th", "Statements", class_="num"), el("th", "Uncovered", class_="num"),
              el("th", "Covered", class_="num", title="as coverage report"), el("th", "Target", class_="num"),
              el("th", "Status"))
    note = el("p", f"{more} more files in coverage.py's report.", class_="muted") if more > 0 else None
    return el("div", el("table", el("thead", head), el("tbody", rows)), note)


def _tiers(prog: dict, status: dict | None, links: Links) -> Markup:
    out: list = [el("h2", "Tiers")]
    tiers = [t for t in (status or {}).get("tiers", []) if t.get("target") is not None]
    unit = (status or {}).get("goal", {}).get("unit") or "statements"
    if not tiers:
        out.append(el("p", "No tier has files yet.", class_="muted"))
    ever = {c.get("name") for p in prog["points"] for c in p["tiers"] or [] if isinstance(c, dict) and c.get("files")}
    empty = [t for t in tiers if not t["files"] and t["name"] not in ever]
    for t in tiers:
        if t in empty:
            continue
        summary = el("p", el("strong", f"{t['meeting']} of {t['targeted']}"),
                     f" files meet the target of {t['target']:g}% coverage; "
                     f"{t['gap_statements']} {unit} to cover; tier coverage "
                     f"{_pct(t.get('percent_covered'))} ({t['statements']} statements).",
                     class_="tier-now", data_tier=t["name"], data_meeting=t["meeting"],
                     data_targeted=t["targeted"], data_files=t["files"])
        bounds = f"{t['min_statements']}+" if t.get("max_statements") is None else \
            f"{t['min_statements']}–{t['max_statements']}"
        out.append(el("div", el("h3", t["name"], el("span", f" ({bounds} statements)", class_="muted")),
                      summary, el("div", _tier_chart(prog, t["name"]), _members(t, links), class_="split"),
                      class_="tier"))
    if empty:
        out.append(el("p", "No files in " + ", ".join(f"{t['name']} ({t['min_statements']}+ statements)"
                                                      for t in empty) + ".", class_="muted"))
    return el("section", out, id="tiers")


def _test_next(status: dict | None, links: Links) -> Markup:
    items = (status or {}).get("high_impact", [])
    rows = [el("tr", el("td", i + 1, class_="num"), el("td", links.file(h["path"]), class_="path"),
               el("td", h["uncovered"], class_="num"), el("td", h["statements"], class_="num"),
               el("td", _pct(h.get("percent_covered")), class_="num"), el("td", h.get("tier") or ""),
               data_path=h["path"], data_uncovered=h["uncovered"])
            for i, h in enumerate(items)]
    head = el("tr", el("th", "#", class_="num"), el("th", "File"), el("th", "Uncovered statements", class_="num"),
              el("th", "Statements", class_="num"), el("th", "Coverage", class_="num"), el("th", "Tier"))
    body = el("table", el("thead", head), el("tbody", rows)) if rows else el("p", "Nothing left uncovered.")
    return el("section", el("h2", "Test next"),
              el("p", "The files with the most uncovered statements, largest first.", class_="muted"),
              body, id="test-next")


def _move_rows(points: list[dict], kind: str, links: Links) -> Markup:
    if not points:
        return el("p", f"No {kind} in the window.", class_="muted")
    rows = []
    for p in points:
        pr = el("td", link(f"#{p['pr']}", links.pull(p["pr"])) if p["pr"] else "", class_="pr")
        rows.append(el("tr", el("td", _signed(p["move"]), class_=f"num {kind[:-1]}"), pr,
                       el("td", link(el("code", p["commit"][:7]), links.commit(p["commit"]))),
                       el("td", p["author"] or ""), el("td", p["date"], class_="num"),
                       el("td", _title(p)),
                       class_=f"move {kind[:-1]}", data_points=p["move"], data_pr=p["pr"] or "",
                       data_commit=p["commit"]))
    head = el("tr", el("th", "Points", class_="num"), el("th", "PR"), el("th", "Commit"), el("th", "Author"),
              el("th", "Date", class_="num"), el("th", "Subject"))
    return el("table", el("thead", head), el("tbody", rows), id=kind)


def _moves(prog: dict, links: Links) -> Markup:
    pc = prog["pace"]
    return el("section", el("h2", "Biggest drops and gains"),
              el("p", f"Change of total coverage from the previous save, saves committed {pc['start']} "
                      f"to {pc['end']} (the last {_days(pc['window_days'])}).", class_="muted"),
              el("div", el("div", el("h3", "Drops"), _move_rows(prog["moves"]["drops"], "drops", links)),
                 el("div", el("h3", "Gains"), _move_rows(prog["moves"]["gains"], "gains", links)), class_="pair"),
              id="moves")


def _pass_rate(prog: dict, target: float) -> Markup:
    rates = [(p["when"], p["pass_rate"]) for p in prog["points"]]
    known = [y for _, y in rates if y is not None]
    if not known:
        return el("section", el("h2", "Pass rate"), el("p", "No test results were saved.", class_="muted"),
                  id="pass-rate")
    lo, hi = y_range(known + [target], pad=1)
    chart = line_chart([{"name": "pass rate", "points": rates, "cls": "s0"}], y_lo=lo, y_hi=hi, height=180,
                       hlines=[{"y": target, "label": f"target {target:g}%"}], label="Test pass rate over time")
    last = next(p for p in reversed(prog["points"]) if p["pass_rate"] is not None)
    return el("section", el("h2", "Pass rate"),
              el("p", "Now ", el("strong", _pct(last["pass_rate"]), id="pass-rate-now",
                                 data_value=last["pass_rate"]),
                 f" of {last['tests'].get('total', 0)} tests (skipped tests excluded).", class_="muted"),
              chart, legend([("pass rate", "s0"), (f"target {target:g}%", "goal")]), id="pass-rate")


def dashboard_html(prog: dict, status: dict | None, *, title: str, links: dict, pages: dict[str, str],
                   pass_rate_target: float = 98.0) -> str:
    """The whole page; ``pages`` maps file paths to their page in coverage.py's report."""
    to = Links(links, pages)
    points = prog["points"]
    if not points:
        return page(f"{title} · coverage", el("h1", title), css=CSS)
    last = points[-1]
    by = [" (", link(f"#{last['pr']}", to.pull(last["pr"])) if last["pr"] else None,
          " " if last["pr"] and last["subject"] else None, _title(last),
          f" by {last['author']}" if last["author"] else None, ")"]
    sub = el("p", "Newest save: ", link(el("code", last["commit"][:12]), to.commit(last["commit"])),
             by if last["pr"] or last["subject"] else None,
             f", committed {last['date']}; {len(points)} saves since {points[0]['date']}.", class_="sub",
             id="newest", data_commit=last["commit"])
    index = pages.get("") if pages else None
    report = el("p", link("coverage.py's report of the newest save", index), " (every file, line by line).",
                class_="sub") if index else None
    body = [el("header", el("h1", title), sub, report), _cards(prog, status), _coverage_chart(prog),
            _tiers(prog, status, to), _test_next(status, to), _moves(prog, to),
            _pass_rate(prog, pass_rate_target), _footer(prog)]
    return page(f"{title} · coverage", body, css=CSS)


def _footer(prog: dict) -> Markup:
    pc = prog["pace"]
    return el("footer", el("p",
        "Dates are commit dates (UTC). The pace is the least-squares slope of statement coverage "
        f"against the commit date over the {pc['saves']} saves committed in the last "
        f"{_days(pc['window_days'])}, in points a week; the goal date adds the time the remaining "
        "points take at that pace to the newest save's date. Targets and the goal are judged on statement coverage; total coverage is "
        "coverage.py's combined figure of statements and branches. Pull requests are named by their "
        "merge or squash commits' messages (or by the API when the save had a token)."),
        el("p", "Written by covbot baseline save from the data branch's history.jsonl."))

