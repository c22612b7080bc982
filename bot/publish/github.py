"""The only module that talks to the GitHub API (through PyGithub).

What covbot needs from GitHub: the pull request (head SHA, head repository), the sticky
comment (find by hidden marker among *all* pages of comments and only among the
token's own comments, edit in place, delete stray duplicates, create only when none
exists) and a commit status that branch protection can require.

Faults are handled here, not in PyGithub: PyGithub's default retry repeats POSTs after
a 5xx, which can create a comment twice, so it is switched off. Reads and edits are
retried on 5xx, 429, rate-limit 403s, connection resets and timeouts, bounded in
attempts and total time and honouring ``Retry-After``; a comment POST that failed in a
way that may have taken effect is never blindly repeated: the comments are listed again
and the marker looked for before creating again. ``GET /user`` is never called (the
Actions token is an installation token and gets 403 there).

``import github`` costs a third of a second: it happens when a client is made, never
when the CLI starts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from bot.model.errors import PublishError
from bot.render.markdown import marker

DEFAULT_API_URL = "https://api.github.com"
RETRY_STATUSES = (500, 502, 503, 504, 429)
#: The Actions bot; comments by any Bot account are candidates unless a login is configured.
ACTIONS_BOT = "github-actions[bot]"


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
    """How patient the client is: attempts and seconds of waiting per call (in total),
    the request timeout, the first retry's back-off (doubled each time), the pause
    between writes GitHub asks integrations for, and the page size of listings."""

    max_attempts: int = 4
    max_wait: float = 60.0
    timeout: float = 20.0
    backoff: float = 1.0
    write_delay: float = 1.0
    per_page: int = 100


class GitHubClient:
    """A small, fault-tolerant client for one repository.

    ``policy.max_attempts`` and ``policy.max_wait`` bound every call: at most that many
    attempts and that many seconds of waiting in total (a ``Retry-After`` longer than
    what is left gives up at once, with a message saying so).
    """

    def __init__(self, token: str, repository: str, *, api_url: str | None = None,
                 comment_author: str | None = None, policy: ApiPolicy = ApiPolicy(),
                 sleep: Callable[[float], None] = time.sleep):
        if not token:
            raise PublishError("no GitHub token", "pass `github-token: ${{ secrets.GITHUB_TOKEN }}` to the action")
        if not repository or "/" not in repository:
            raise PublishError(f"repository {repository!r} is not owner/name",
                               "set GITHUB_REPOSITORY or pass --repository owner/name")
        import github  # lazy: expensive import
        from github import Auth

        self.repository = repository
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.max_attempts = max(1, policy.max_attempts)
        self.max_wait = policy.max_wait
        self.backoff = policy.backoff
        self.comment_author = comment_author
        self._sleep = sleep
        self._waited = 0.0
        self._gh = github.Github(auth=Auth.Token(token), base_url=self.api_url, timeout=max(1, int(policy.timeout)),
                                 retry=None, per_page=policy.per_page, lazy=True,
                                 seconds_between_requests=None, seconds_between_writes=policy.write_delay or None,
                                 user_agent="covbot")
        self._repo = self._gh.get_repo(repository)

    # -- the fault handling ----------------------------------------------------------------
    def _call(self, what: str, fn: Callable, *, write: bool = False):
        """Run ``fn`` with bounded retries. ``write``: a non-idempotent POST (never repeated here)."""
        import requests   # start-up time: loaded with PyGithub, when a client is used
        # start-up time: PyGithub loads when a client is used
        from github import GithubException

        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except GithubException as exc:
                status = exc.status
                headers = {str(k).lower(): v for k, v in (exc.headers or {}).items()}
                detail = _message(exc.data)
                retry_after = _retry_after(headers)
                rate_limited = status == 429 or (status == 403 and (
                    retry_after is not None or "rate limit" in detail.lower()
                    or headers.get("x-ratelimit-remaining") == "0"))
                if status == 403 and not rate_limited:
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
                if status not in RETRY_STATUSES and not rate_limited:
                    raise PublishError(f"GitHub API: {what} failed ({status} {detail})") from None
                error = PublishError(f"GitHub API: {what} failed ({status} {detail})")
                wait = retry_after if retry_after is not None else self.backoff * 2 ** (attempt - 1)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "lost the connection"
                error = PublishError(f"GitHub API: {what} {kind}")
                wait = self.backoff * 2 ** (attempt - 1)
            if attempt >= self.max_attempts:
                raise PublishError(f"{error.message}; gave up after {attempt} attempt(s)",
                                   "GitHub may be having an outage; rerun the job later") from None
            if self._waited + wait > self.max_wait:
                raise PublishError(f"{error.message}; the API asked to wait {wait:.0f}s, more than the "
                                   f"{self.max_wait:.0f}s retry budget left",
                                   "rerun the job later (secondary rate limit or outage)") from None
            if write:
                raise _MaybeApplied(error, wait)
            self._pause(wait)

    def _pause(self, wait: float) -> None:
        self._waited += wait
        if wait > 0:
            self._sleep(wait)

    # -- pull requests ---------------------------------------------------------------------
    def pull(self, number: int) -> PullInfo:
        path = f"GET /repos/{self.repository}/pulls/{number}"

        def get():
            p = self._repo.get_pull(number)
            return _pull_info(p)

        return self._call(path, get)

    def pulls_with_head(self, sha: str) -> list[PullInfo]:
        """Open pull requests whose head commit is ``sha`` (all pages)."""
        def get():
            return [_pull_info(p) for p in self._repo.get_pulls(state="open")]

        pulls = self._call(f"GET /repos/{self.repository}/pulls", get)
        return [p for p in pulls if p.head_sha == sha]

    def merged_pull_of(self, sha: str) -> dict | None:
        """The merged pull request that brought ``sha`` to the default branch, as
        ``{"number", "author"}`` (``GET /repos/{repo}/commits/{sha}/pulls``): the one whose
        merge commit it is, else the first merged one; ``None`` when none was merged."""
        def get():
            return [(p.number, p.user.login if p.user else None, p.merge_commit_sha, p.merged_at)
                    for p in self._repo.get_commit(sha).get_pulls()]

        pulls = self._call(f"GET /repos/{self.repository}/commits/{sha}/pulls", get)
        merged = [p for p in pulls if p[3]]
        best = next((p for p in merged if p[2] == sha), merged[0] if merged else None)
        return {"number": best[0], "author": best[1]} if best else None

    # -- the sticky comment -------------------------------------------------------------------
    def _is_mine(self, comment) -> bool:
        user = comment.user
        if user is None:
            return False
        if self.comment_author:
            return user.login == self.comment_author
        return user.login == ACTIONS_BOT or user.type == "Bot"

    def find_comments(self, number: int, comment_id: str) -> list:
        """The token's own comments on PR ``number`` carrying the marker, oldest first."""
        mark = marker(comment_id)
        issue = self._repo.get_issue(number)

        def get():
            return [c for c in issue.get_comments() if mark in (c.body or "") and self._is_mine(c)]

        found = self._call(f"GET /repos/{self.repository}/issues/{number}/comments", get)
        return sorted(found, key=lambda c: c.id)

    def upsert_comment(self, number: int, body: str, comment_id: str) -> CommentResult:
        """Edit the sticky comment in place, or create it when there is none."""
        issue = self._repo.get_issue(number)
        shortened = False
        last: PublishError | None = None
        for _round in range(self.max_attempts + 1):
            mine = self.find_comments(number, comment_id)
            deleted = 0
            if mine:
                keep, extra = mine[0], mine[1:]
                for c in extra:
                    try:
                        self._call(f"DELETE /repos/{self.repository}/issues/comments/{c.id}", c.delete)
                        deleted += 1
                    except NotFound:
                        pass
                try:
                    self._call(f"PATCH /repos/{self.repository}/issues/comments/{keep.id}",
                               lambda: keep.edit(body))
                    return CommentResult("updated", keep.id, keep.html_url, deleted, shortened)
                except NotFound as exc:   # deleted between listing and editing: list again, then create
                    last = exc
                    continue
                except PublishError as exc:
                    if _too_long(exc) and not shortened:
                        body, shortened = shorten(body, comment_id), True
                        continue
                    raise
            try:
                c = self._call(f"POST /repos/{self.repository}/issues/{number}/comments",
                               lambda: issue.create_comment(body), write=True)
                return CommentResult("created", c.id, c.html_url, deleted, shortened)
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

    # -- commit status ------------------------------------------------------------------------
    def set_status(self, sha: str, *, state: str, description: str, context: str,
                   target_url: str | None = None) -> None:
        """A commit status (repeating one is harmless: the newest per context wins)."""
        commit = self._repo.get_commit(sha)
        kwargs = {"state": state, "description": clip(description, 140), "context": context}
        if target_url:
            kwargs["target_url"] = target_url
        what = f"POST /repos/{self.repository}/statuses/{sha}"
        for _ in range(self.max_attempts):
            try:
                return self._call(what, lambda: commit.create_status(**kwargs), write=True)
            except _MaybeApplied as exc:
                self._pause(exc.wait)
                last = exc.error
        raise PublishError(f"{last.message}; gave up after {self.max_attempts} attempt(s)")


# -- helpers ------------------------------------------------------------------------------------

def _pull_info(p) -> PullInfo:
    head, base = p.head, p.base          # fetches a lazy pull request; API errors propagate
    raw_repo = (p.raw_data.get("head") or {}).get("repo") if isinstance(p.raw_data, dict) else None
    head_repo = raw_repo.get("full_name") if isinstance(raw_repo, dict) else None  # None: deleted fork
    return PullInfo(number=p.number, head_sha=head.sha, head_ref=head.ref, base_ref=base.ref,
                    head_repo=head_repo, state=p.state)


def _message(data) -> str:
    if isinstance(data, dict):
        msg = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list):
            extra = "; ".join(str(e.get("message") or e.get("code") or "") for e in errors if isinstance(e, dict))
            if extra.strip("; "):
                msg = f"{msg}: {extra}"
        return msg or "no message"
    return str(data or "no message")[:200]


def _retry_after(headers: dict) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _too_long(exc: PublishError) -> bool:
    return "(422" in exc.message and "too long" in exc.message


def clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
