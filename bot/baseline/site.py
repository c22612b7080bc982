"""The dashboard's files on the data branch: ``index.html`` (:mod:`bot.render.dashboard`)
and, next to it in ``html/``, coverage.py's own HTML report of the newest save.

A save hands :func:`bot.baseline.data_branch.save` a :class:`Site`: what the history
entry records besides the totals (the commit's subject, author and pull request, the
per-tier counts, the goal), and the files to commit with the history it lands on. The
same page is rendered locally from the data branch by ``covbot dashboard``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Callable

from bot.baseline.data_branch import summary_path
from bot.baseline.history import newest
from bot.baseline.programme import WINDOW_DAYS, commit_info, programme, tier_counts
from bot.baseline.summary import baseline_from_summary
from bot.model.config import Config
from bot.model.diff import Diff
from bot.model.errors import InputError
from bot.render.dashboard import dashboard_html
from bot.runs.coverage_html import HTML_DIR, pages_of
from bot.runs.git import Git
from bot.stages import analyze, tiers

INDEX_PATH = "index.html"


def status_of(summary: dict, config: Config) -> dict:
    """Tiers, goal and high-impact list of a saved summary, as ``covbot report`` makes them."""
    cov = baseline_from_summary(summary, f"the summary of {str(summary.get('commit'))[:12]}").coverage
    report = analyze.build_report(head=cov, base=None, diff=Diff(), config=config,
                                  head_info={"sha": summary.get("commit")}, base_info={}, baseline_info={})
    tiers.apply(report, head=cov, base=None, config=config)
    return {"tiers": report.tiers, "goal": report.goal, "high_impact": report.high_impact,
            "totals": report.totals}


def title_of(links: dict) -> str:
    return f"{links['repository']} coverage programme" if links.get("repository") else "Coverage programme"


def render_index(history: list[dict], summary: dict | None, config: Config, *, links: dict,
                 pages: dict[str, str], window_days: int = WINDOW_DAYS) -> bytes:
    """``index.html`` for ``history`` and the newest save's ``summary``."""
    status = None
    if summary is not None:
        try:
            status = status_of(summary, config)
        except InputError:
            status = None      # an unreadable summary: the page shows the history alone
    prog = programme(history, goal=config.goal, window_days=window_days)
    return dashboard_html(prog, status, title=title_of(links), links=links, pages=pages,
                          pass_rate_target=config.pass_rate).encode("utf-8")


class Site:
    """What one save adds for the dashboard (see the module's docstring)."""

    def __init__(self, git: Git, summary: dict, config: Config, *, links: dict | None = None,
                 coverage_html: dict[str, bytes] | None = None, window_days: int = WINDOW_DAYS,
                 pull_of: Callable[[str], dict | None] | None = None):
        self.git, self.summary, self.config = git, summary, config
        self.links = links or {}
        self.html = coverage_html
        self.window_days = window_days
        info = commit_info(git, summary["commit"])
        if info["pr"] is None and pull_of is not None:
            found = pull_of(summary["commit"])
            if found:
                info.update(pr=found["number"], pr_source="api", author=found.get("author") or info["author"])
        self.entry = {**info, "tiers": tier_counts(status_of(summary, config)["tiers"]), "goal": config.goal}

    def _is_ancestor(self, a, b) -> bool:
        return self.git.ok(["merge-base", "--is-ancestor", str(a), str(b)])

    def files(self, history: list[dict], read: Callable[[str], bytes | None]) -> dict[str, bytes | None]:
        """The dashboard's files for ``history`` (``read`` reads the tip being built on);
        a ``None`` value removes that path (coverage.py's report of an older save). The
        baseline matters more than its page: a page that cannot be made is a note."""
        try:
            return self._files(history, read)
        except Exception as exc:  # noqa: BLE001 - the save goes on without the page
            if os.environ.get("COVBOT_DEBUG"):
                raise
            print(f"covbot: note: the dashboard was not updated ({type(exc).__name__}: {exc}); "
                  "this is a covbot bug, please report it", file=sys.stderr)
            return {}

    def _files(self, history: list[dict], read: Callable[[str], bytes | None]) -> dict[str, bytes | None]:
        latest = newest(history, is_ancestor=self._is_ancestor)
        files: dict[str, bytes | None] = {}
        if latest is None or latest["commit"] == self.summary["commit"]:
            summary = self.summary
            files[HTML_DIR] = None
            if self.html:
                files.update({f"{HTML_DIR}/{name}": data for name, data in self.html.items()})
            pages = pages_of((self.html or {}).get("status.json"))
        else:   # an older commit saved late: the newest save's page stays, with this point added
            try:
                summary = json.loads(read(summary_path(latest["commit"])) or b"null")
            except ValueError:
                summary = None
            pages = pages_of(read(f"{HTML_DIR}/status.json"))
        files[INDEX_PATH] = render_index(history, summary if isinstance(summary, dict) else None, self.config,
                                         links=self.links, pages=pages, window_days=self.window_days)
        return files
