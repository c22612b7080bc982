"""``covbot dashboard``: the coverage programme's page, read back from the data branch
and written to a folder; and the dashboard part of every save (:func:`site_for`).

The page is the one ``covbot baseline save`` commits as ``index.html`` on the data
branch, with coverage.py's HTML report of the newest save in ``html/`` next to it.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Callable

from bot.app.settings import checkout_root, config_from_args
from bot.baseline.data_branch import DataBranch, summary_path
from bot.baseline.history import HISTORY_PATH, newest, parse_history
from bot.baseline.programme import WINDOW_DAYS
from bot.baseline.site import INDEX_PATH, Site, render_index
from bot.model.config import Config
from bot.model.errors import CovbotError, GitError, InputError, UsageError
from bot.runs.coverage_html import HTML_DIR, coverage_html, pages_of
from bot.runs.git import Git


def links_from(env, repository: str | None = None) -> dict:
    """Where the page's commit and pull request numbers link: the repository's own pages."""
    return {"server_url": env.get("GITHUB_SERVER_URL") or "https://github.com",
            "repository": repository or env.get("GITHUB_REPOSITORY")}


def pull_lookup(env, token: str | None) -> Callable[[str], dict | None] | None:
    """With a token, the merged pull request of a commit from the API (``None`` on failure:
    the commit message is what the page has then)."""
    repository = env.get("GITHUB_REPOSITORY")
    if not token or not repository:
        return None

    def lookup(sha: str) -> dict | None:
        from bot.app.settings import Context, make_client   # start-up time: only a save with a token

        try:
            return make_client(Context.from_env(dict(env)), {}, token).merged_pull_of(sha)
        except CovbotError as exc:
            print(f"covbot: note: the pull request of {sha[:12]} is not known: {exc.message}", file=sys.stderr)
            return None

    return lookup


def site_for(git: Git, summary: dict, cfg: Config, *, root: Path, coverage_files, env,
             token: str | None = None) -> Site:
    """What a save adds for the dashboard: coverage.py's HTML report of the files it measured
    (when they are coverage.py data files), the commit's pull request, the links."""
    links = links_from(env)
    html, why = coverage_html([Path(p) for p in coverage_files], root=root, tracked=git.tracked_files(),
                              title=f"Coverage of {summary['commit'][:12]}")
    if why:
        print(f"covbot: note: the dashboard has no coverage.py HTML report: {why}", file=sys.stderr)
    return Site(git, summary, cfg, links=links, coverage_html=html, pull_of=pull_lookup(env, token))


def site_maker(cfg: Config, *, root: Path, outcome, env, token: str | None):
    """``site(git, summary)`` for a save of what ``covbot report`` measured (the Action's push)."""
    cov = outcome.inputs[0] if outcome.inputs else None
    files = list(cov.sources) if cov is not None else []
    return lambda git, summary: site_for(git, summary, cfg, root=root, coverage_files=files, env=env, token=token)


def _tip(git: Git, remote: str, branch: str) -> tuple[DataBranch, str | None]:
    store = DataBranch(git, remote, branch)
    tip = None
    if remote == "." or remote in git.remotes():
        try:
            tip = store.fetch()
        except GitError as exc:
            print(f"covbot: note: {exc.message}; using the local copy", file=sys.stderr)
            tip = store.local_tip()
    return store, tip or git.rev_parse(f"refs/heads/{branch}") or store.local_tip()


def _extract_html(git: Git, tip: str, out: Path) -> int:
    """coverage.py's report in the data branch's ``html/`` into ``out/html``; the file count."""
    if not git.run(["ls-tree", "--name-only", tip, HTML_DIR], check=False).strip():
        return 0
    data = git.run_bytes(["archive", "--format=tar", tip, HTML_DIR])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}   # Python 3.12, 3.11.4
        tar.extractall(out, members=members, **safe)
    return len(members)


def cmd_dashboard(args) -> int:
    if args.window_days is not None and args.window_days < 1:
        raise UsageError(f"--window-days {args.window_days}: the pace's window must be at least one day",
                         f"pass a number of days, e.g. --window-days {WINDOW_DAYS}")
    root = checkout_root(args)
    args.repo = str(root)
    cfg = config_from_args(args)
    branch = args.data_branch or cfg.data_branch
    git = Git(root)
    store, tip = _tip(git, args.remote, branch)
    if tip is None:
        raise InputError(f"there is no data branch {branch!r} (on {args.remote} or locally)",
                         "save baselines first with `covbot baseline save` on the default branch, "
                         "or name the remote with --remote")
    history = parse_history(store.read(tip, HISTORY_PATH))
    if not history:
        raise InputError(f"{branch}:{HISTORY_PATH} has no saved baselines",
                         "save one with `covbot baseline save`")
    latest = newest(history, is_ancestor=lambda a, b: git.ok(["merge-base", "--is-ancestor", str(a), str(b)]))
    try:
        summary = json.loads(store.read(tip, summary_path(latest["commit"])) or b"null")
    except ValueError:
        summary = None
    if not isinstance(summary, dict):
        print(f"covbot: note: {branch}:{summary_path(latest['commit'])} is missing or damaged; "
              "the page shows the history only", file=sys.stderr)
        summary = None
    out = Path(args.output_dir)
    if not out.is_absolute():
        out = Path.cwd() / out
    out.mkdir(parents=True, exist_ok=True)
    pages = pages_of(store.read(tip, f"{HTML_DIR}/status.json"))
    count = _extract_html(git, tip, out) if pages else 0
    page = render_index(history, summary, cfg, links=links_from(os.environ, args.repository), pages=pages,
                        window_days=args.window_days or WINDOW_DAYS)
    (out / INDEX_PATH).write_bytes(page)
    extra = f" and coverage.py's report ({count} files) in {out / HTML_DIR}" if count else ""
    print(f"covbot: wrote {out / INDEX_PATH} ({len(history)} saves of {branch}){extra}", file=sys.stderr)
    return 0
