"""The GitHub REST API: the only module that calls it (each request through PyGithub: wire.py).

What covbot needs from GitHub: the pull request, the sticky comment (found by its
hidden marker on *all* pages, among covbot's own identity's comments only; edited in
place, then its stray duplicates deleted; created only when none exists) and a commit
status that branch protection can require.

Faults are handled here, and every answer is checked before it is used:

- every request has an overall deadline (``ApiPolicy.timeout``, from connecting to the
  last byte; a server that drips one byte at a time is cut off), and all the API work of
  a run has a total budget (``ApiPolicy.budget``);
- reads, edits and statuses are retried on 5xx, connection resets and timeouts, with a
  doubling back-off, bounded in attempts and in seconds of waiting (``max_wait``);
- rate limits follow GitHub's rules (:mod:`bot.publish.limits`): ``Retry-After``, else
  ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0, else at least a minute for a
  secondary limit; a wait past the budget gives up at once, saying until when;
- a comment POST that may have taken effect is never repeated blindly: the comments are
  listed again and the marker looked for before creating;
- a 2xx answer whose body is not the JSON expected is a :class:`PublishError`, and pages
  are followed only on the API's own host (the token goes nowhere else).

covbot's identity is the ``comment-author`` input, else the token's own login where the
API tells it (``GET /user``, asked only for user tokens: an installation token such as
the Actions token gets 403 there, and its comments are github-actions[bot]'s).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote, urlencode

from bot.model.errors import PublishError
from bot.publish import wire
from bot.publish.limits import rate_limit
from bot.render.format import clip
from bot.render.markdown import marker, shorten

DEFAULT_API_URL = "https://api.github.com"
RETRY_STATUSES = (500, 502, 503, 504)
#: The Actions bot: the author of every comment made with GITHUB_TOKEN.
ACTIONS_BOT = "github-actions[bot]"
#: Tokens of a user (personal, fine-grained, OAuth, user-to-server): GET /user names them.
USER_TOKEN_PREFIXES = ("ghp_", "github_pat_", "gho_", "ghu_")
#: Pages of one listing covbot follows at most (100 items each).
MAX_PAGES = 100
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


class PermissionDenied(PublishError):
    """The token may not write (a fork's read-only GITHUB_TOKEN, or missing permissions)."""


class NotFound(PublishError):
    """The API answered 404 (a comment deleted meanwhile, a wrong PR number...)."""


class _MaybeApplied(Exception):
    """A write failed in a way that may still have taken effect (5xx, reset, timeout)."""

    def __init__(self, error: PublishError, wait: float):
        super().__init__(error.message)
        self.error = error
        self.wait = wait


@dataclass
class CommentResult:
    action: str              # created | updated
    comment_id: int
    url: str | None
    deleted: int = 0         # stray duplicates removed
    shortened: bool = False  # the API refused the body as too long; a shorter one was posted
    left: int = 0            # duplicates that could not be removed


@dataclass
class PullInfo:
    number: int
    head_sha: str
    head_ref: str | None
    base_ref: str | None
    head_repo: str | None
    state: str | None


@dataclass(frozen=True)
class ApiPolicy:
    """How patient the client is: attempts per call, seconds of waiting between attempts
    for the whole run (``max_wait``), the overall deadline of one request (``timeout``),
    the first retry's back-off (doubled each time), the pause between writes GitHub asks
    integrations for, the page size of listings, and the seconds all the API work of a
    run may take (``budget``)."""

    max_attempts: int = 4
    max_wait: float = 60.0
    timeout: float = 20.0
    backoff: float = 1.0
    write_delay: float = 1.0
    per_page: int = 100
    budget: float = 300.0


class GitHubClient:
    """A small, fault-tolerant client for one repository. ``sleep`` and ``clock`` (epoch
    seconds) are injectable: the tests check the waits requested without waiting."""

    def __init__(self, token: str, repository: str, *, api_url: str | None = None,
                 comment_author: str | None = None, policy: ApiPolicy = ApiPolicy(),
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time):
        if not token:
            raise PublishError("no GitHub token", "pass `github-token: ${{ secrets.GITHUB_TOKEN }}` to the action")
        if not repository or not _REPOSITORY.fullmatch(repository):
            raise PublishError(f"repository {repository!r} is not owner/name",
                               "set GITHUB_REPOSITORY or pass --repository owner/name")
        self.repository = repository
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self._wire = wire.Wire(token, self.api_url, timeout=policy.timeout, per_page=policy.per_page)
        self._origin = self._wire.origin
        self.policy = policy
        self.max_attempts = max(1, policy.max_attempts)
        self.max_wait, self.comment_author, self._token = policy.max_wait, comment_author, token
        self._sleep, self._clock, self._started = sleep, clock, clock()
        self._waited, self._last_write, self._identity = 0.0, None, None

    # -- one call, with GitHub's rules for retries and waits ------------------------------
    def _call(self, what: str, method: str, url: str, body: dict | None = None, *, write: bool = False):
        """``(parsed JSON, headers)`` of a 2xx answer. ``write``: a non-idempotent POST,
        never repeated here after a failure that may have taken effect."""
        attempt = refusals = 0
        while True:
            attempt += 1
            timeout = min(self.policy.timeout, self._budget_left(what))
            self._space_writes(method)
            limited = False
            try:
                status, headers, raw = self._wire.exchange(what, method, url, body, timeout=timeout)
            except wire.Deadline:
                error = PublishError(f"GitHub API: {what} timed out (no complete answer within {timeout:.0f}s)")
                wait = self._backoff(attempt)
            except wire.Lost as exc:
                error, wait = PublishError(f"GitHub API: {what} lost the connection ({exc})"), self._backoff(attempt)
            else:
                if 200 <= status < 300:
                    return wire.parse_json(what, status, raw), headers
                detail = wire.error_message(wire.loads_or_none(raw))
                limit = rate_limit(status, headers, detail, now=self._clock(), refusals=refusals + 1)
                if limit is not None:
                    refusals += limit.kind == "secondary"
                    limited, wait = True, limit.wait
                    error = PublishError(f"GitHub API: {what} was refused by the {limit.kind} rate limit "
                                         f"({status}, {limit.why})")
                else:
                    _raise_for(what, status, detail)
                    error, wait = PublishError(f"GitHub API: {what} failed ({status} {detail})"), self._backoff(attempt)
            if attempt >= self.max_attempts:
                raise PublishError(f"{error.message}; gave up after {attempt} attempt(s)",
                                   _hint(limited)) from None
            left = min(self.max_wait - self._waited, self._budget_left(what) - self.policy.timeout)
            if wait > left:
                raise PublishError(f"{error.message}; the API asked to wait {wait:.0f}s, more than the "
                                   f"{max(0.0, left):.0f}s retry budget left", _hint(limited)) from None
            if write and not limited:     # a refused request did not take effect; others may have
                raise _MaybeApplied(error, wait)
            self._pause(wait)

    def _budget_left(self, what: str) -> float:
        left = self.policy.budget - (self._clock() - self._started)
        if left <= 0:
            raise PublishError(f"GitHub API: {what} was not attempted: the run's {self.policy.budget:.0f}s "
                               "budget for API calls is used up", "rerun the job later")
        return left

    def _backoff(self, attempt: int) -> float:
        return self.policy.backoff * 2 ** (attempt - 1)

    def _space_writes(self, method: str) -> None:
        """GitHub asks integrations to leave about a second between content-creating requests."""
        if method == "GET" or not self.policy.write_delay:
            return
        now = time.monotonic()
        if self._last_write is not None and now - self._last_write < self.policy.write_delay:
            time.sleep(self.policy.write_delay - (now - self._last_write))
        self._last_write = time.monotonic()

    def _pause(self, wait: float) -> None:
        self._waited += wait
        if wait > 0:
            self._sleep(wait)

    def _url(self, path: str, query: dict | None = None) -> str:
        return self.api_url + path + (f"?{urlencode(query)}" if query else "")

    def _repo_url(self, rest: str, query: dict | None = None) -> str:
        return self._url(f"/repos/{self.repository}{rest}", query)

    def _paged(self, what: str, url: str, *, max_pages: int = MAX_PAGES) -> list:
        """Every item of a listing, following ``Link: rel="next"`` (on the API's host only)."""
        items: list = []
        for _ in range(max_pages):
            data, headers = self._call(what, "GET", url)
            wire.expect(isinstance(data, list), what, "a list")
            items += data
            url = wire.next_link(headers.get("link"), what, self._origin)
            if url is None:
                return items
        raise PublishError(f"GitHub API: {what} has more than {max_pages} pages; gave up",
                           "the listing is too long to search")

    # -- pull requests -------------------------------------------------------------------------
    def pull(self, number: int) -> PullInfo:
        what = f"GET /repos/{self.repository}/pulls/{number}"
        data, _ = self._call(what, "GET", self._repo_url(f"/pulls/{int(number)}"))
        return _pull_info(data, what)

    def pulls_for_commit(self, sha: str) -> list[PullInfo]:
        """The pull requests GitHub associates with commit ``sha`` (a fork's are not listed)."""
        what = f"GET /repos/{self.repository}/commits/{sha}/pulls"
        url = self._repo_url(f"/commits/{quote(sha, safe='')}/pulls", {"per_page": self.policy.per_page})
        return [_pull_info(p, what) for p in self._paged(what, url, max_pages=3)]

    def pulls_of_branch(self, owner: str, branch: str) -> list[PullInfo]:
        """Pull requests (open or closed) from ``owner``'s branch ``branch``: one page."""
        what = f"GET /repos/{self.repository}/pulls?head={owner}:{branch}"
        url = self._repo_url("/pulls", {"state": "all", "head": f"{owner}:{branch}",
                                        "per_page": self.policy.per_page})
        return [_pull_info(p, what) for p in self._paged(what, url, max_pages=1)]

    def pull_has_commit(self, number: int, sha: str) -> bool:
        """Whether ``sha`` is among the pull request's commits (GitHub lists at most 250)."""
        what = f"GET /repos/{self.repository}/pulls/{number}/commits"
        url = self._repo_url(f"/pulls/{int(number)}/commits", {"per_page": 100})
        return any(isinstance(c, dict) and c.get("sha") == sha for c in self._paged(what, url, max_pages=3))

    def merged_pull_of(self, sha: str) -> dict | None:
        """The merged pull request that brought ``sha`` to the default branch, as
        ``{"number", "author"}`` (``GET /repos/{repo}/commits/{sha}/pulls``): the one whose
        merge commit it is, else the first merged one; ``None`` when none was merged."""
        what = f"GET /repos/{self.repository}/commits/{sha}/pulls"
        url = self._repo_url(f"/commits/{quote(sha, safe='')}/pulls", {"per_page": self.policy.per_page})
        merged = [p for p in self._paged(what, url, max_pages=3)
                  if isinstance(p, dict) and isinstance(p.get("number"), int) and p.get("merged_at")]
        best = next((p for p in merged if p.get("merge_commit_sha") == sha), merged[0] if merged else None)
        if best is None:
            return None
        user = best.get("user") if isinstance(best.get("user"), dict) else {}
        return {"number": best["number"], "author": _str(user.get("login"))}

    # -- the sticky comment -------------------------------------------------------------------
    def identity(self) -> str:
        """The login covbot's comments are written by (see the module's docstring)."""
        if self._identity is None:
            self._identity = self.comment_author or self._token_login()
        return self._identity

    def _token_login(self) -> str:
        if not self._token.startswith(USER_TOKEN_PREFIXES):
            return ACTIONS_BOT
        try:
            data, _ = self._call("GET /user", "GET", self._url("/user"))
        except (PermissionDenied, NotFound):
            return ACTIONS_BOT
        login = data.get("login") if isinstance(data, dict) else None
        return login if isinstance(login, str) and login else ACTIONS_BOT

    def find_comments(self, number: int, comment_id: str) -> list[dict]:
        """covbot's own comments on PR ``number`` carrying the marker, oldest first."""
        mark, me = marker(comment_id), self.identity()
        what = f"GET /repos/{self.repository}/issues/{number}/comments"
        url = self._repo_url(f"/issues/{int(number)}/comments", {"per_page": self.policy.per_page})
        mine = [c for c in map(lambda c: _comment(c, what), self._paged(what, url))
                if mark in c["body"] and c["login"] == me]
        return sorted(mine, key=lambda c: c["id"])

    def upsert_comment(self, number: int, body: str, comment_id: str) -> CommentResult:
        """Edit the oldest of covbot's own comments in place, then remove its duplicates;
        create one when there is none. Nobody else's comment is ever edited or deleted."""
        shortened = False
        last: PublishError | None = None
        for _round in range(self.max_attempts + 1):
            mine = self.find_comments(number, comment_id)
            if mine:
                keep = mine[0]
                what = f"PATCH /repos/{self.repository}/issues/comments/{keep['id']}"
                try:
                    data, _ = self._call(what, "PATCH", self._repo_url(f"/issues/comments/{keep['id']}"),
                                         {"body": body})
                except NotFound as exc:   # deleted between listing and editing: list again
                    last = exc
                    continue
                except PublishError as exc:
                    if _too_long(exc) and not shortened:
                        body, shortened = shorten(body, comment_id), True
                        continue
                    raise
                deleted, left = self._remove(mine[1:])
                url = data.get("html_url") if isinstance(data, dict) else None
                return CommentResult("updated", keep["id"], url or keep["url"], deleted, shortened, left)
            what = f"POST /repos/{self.repository}/issues/{number}/comments"
            try:
                data, _ = self._call(what, "POST", self._repo_url(f"/issues/{int(number)}/comments"),
                                     {"body": body}, write=True)
                made = _comment(data, what)
                return CommentResult("created", made["id"], made["url"], 0, shortened)
            except _MaybeApplied as exc:  # maybe created: look for the marker again before creating
                last = exc.error
                self._pause(exc.wait)
            except PublishError as exc:
                if _too_long(exc) and not shortened:
                    body, shortened = shorten(body, comment_id), True
                    continue
                raise
        raise PublishError(f"{last.message if last else 'posting the comment failed'}; gave up",
                           "rerun the job later")

    def _remove(self, duplicates: list[dict]) -> tuple[int, int]:
        """Delete covbot's own stray duplicates (after the edit): (deleted, left in place)."""
        deleted = left = 0
        for c in duplicates:
            try:
                self._call(f"DELETE /repos/{self.repository}/issues/comments/{c['id']}", "DELETE",
                           self._repo_url(f"/issues/comments/{c['id']}"))
                deleted += 1
            except NotFound:
                pass
            except PublishError:      # the comment is posted; a duplicate left is no failure
                left += 1
        return deleted, left

    # -- commit status ------------------------------------------------------------------------
    def set_status(self, sha: str, *, state: str, description: str, context: str,
                   target_url: str | None = None) -> None:
        """A commit status (repeating one is harmless: the newest per context wins)."""
        body = {"state": state, "description": clip(description, 140), "context": context}
        if target_url:
            body["target_url"] = target_url
        what = f"POST /repos/{self.repository}/statuses/{sha}"
        self._call(what, "POST", self._repo_url(f"/statuses/{quote(sha, safe='')}"), body)


# -- helpers ------------------------------------------------------------------------------------

def _raise_for(what: str, status: int, detail: str) -> None:
    """The errors no retry can mend; a retryable status returns."""
    if status == 403:
        raise PermissionDenied(
            f"GitHub API: {what} was refused (403 {detail})",
            "the token cannot write here: a pull request from a fork gets a read-only token "
            "(use the two-workflow setup: upload the report, publish it from a workflow_run "
            "workflow), otherwise grant `permissions: pull-requests: write, statuses: write`")
    if status == 404:
        raise NotFound(f"GitHub API: {what} answered 404 ({detail})",
                       "check the repository and pull request number, and that the token can see them")
    if status == 401:
        raise PublishError(f"GitHub API: {what} answered 401 ({detail})",
                           "the token is invalid or expired; pass `github-token`")
    if status not in RETRY_STATUSES:
        raise PublishError(f"GitHub API: {what} failed ({status} {detail})")


def _hint(limited: bool) -> str:
    if limited:
        return ("GitHub limits how fast a token may call it (GITHUB_TOKEN: 1,000 requests an hour per "
                "repository); rerun the job after the time given")
    return "GitHub may be having an outage; rerun the job later"


def _pull_info(p, what: str) -> PullInfo:
    wire.expect(isinstance(p, dict) and isinstance(p.get("head"), dict) and isinstance(p.get("base"), dict),
                what, "a pull request object")
    head, base = p["head"], p["base"]
    wire.expect(isinstance(p.get("number"), int) and isinstance(head.get("sha"), str), what,
                "a pull request with a number and a head SHA")
    repo = head.get("repo")
    head_repo = repo.get("full_name") if isinstance(repo, dict) else None   # None: a deleted fork
    return PullInfo(number=p["number"], head_sha=head["sha"], head_ref=_str(head.get("ref")),
                    base_ref=_str(base.get("ref")), head_repo=_str(head_repo), state=_str(p.get("state")))


def _comment(c, what: str) -> dict:
    wire.expect(isinstance(c, dict) and isinstance(c.get("id"), int), what, "comments with ids")
    user = c.get("user") if isinstance(c.get("user"), dict) else {}
    return {"id": c["id"], "body": c.get("body") if isinstance(c.get("body"), str) else "",
            "login": _str(user.get("login")), "url": _str(c.get("html_url"))}


def _str(value) -> str | None:
    return value if isinstance(value, str) else None


def _too_long(exc: PublishError) -> bool:
    return "(422" in exc.message and "too long" in exc.message
