"""Small formatting helpers shared by the renderers (numbers, ranges, links)."""

from __future__ import annotations

import re
from urllib.parse import quote

from bot.model.diff import range_text, ranges  # noqa: F401 - the renderers take them from here
from bot.render.escape import repo_path

_SERVER = re.compile(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def signed(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if value == 0:
        return f"±0.00{unit}"
    return f"{value:+.2f}{unit}"


def arrow(value: float | None) -> str:
    if value is None or value == 0:
        return ""
    return "▲" if value > 0 else "▼"


def short_sha(sha: str | None) -> str:
    """The first 7 hex digits of a commit SHA ("?" for anything else)."""
    return sha[:7] if isinstance(sha, str) and _SHA.fullmatch(sha) else "?"


def count(n) -> str:
    """An integer count as text; anything that is not one shows as "?", never as text."""
    return str(n) if isinstance(n, int) and not isinstance(n, bool) else "?"


def line_link(links: dict, path: str, start: int, end: int | None = None) -> str | None:
    """URL of ``path`` lines at the PR head, when the report knows the repository. Built
    only from a valid server URL, owner/name, commit SHA and a plain repository path
    (no ``..``, no scheme, no absolute path): never a link out of the repository."""
    server, repo, sha = links.get("server_url"), links.get("repository"), links.get("head_sha")
    if not (isinstance(server, str) and _SERVER.fullmatch(server) and isinstance(repo, str)
            and _REPOSITORY.fullmatch(repo) and isinstance(sha, str) and _SHA.fullmatch(sha)):
        return None
    path = repo_path(path)
    if path is None or not (isinstance(start, int) and start > 0):
        return None
    anchor = f"#L{start}" if end is None or end == start else f"#L{start}-L{end}"
    return f"{server.rstrip('/')}/{repo}/blob/{sha}/{quote(path, safe='/')}{anchor}"


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters (a commit status description)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def progress_bar(value: float, goal: float, width: int = 20) -> str:
    if goal <= 0:
        return ""
    filled = int(round(width * min(value, goal) / goal))
    return "█" * filled + "░" * (width - filled)
