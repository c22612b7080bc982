"""What goes on the wire for :mod:`bot.publish.github`: one request through PyGithub, within
an overall deadline, and what its answer may be.

PyGithub's requester (``Requester.requestJson``) makes each request, over requests: the
token, the JSON body, connection reuse, ``https_proxy``/``no_proxy`` and certificates
(certifi's bundle, or ``REQUESTS_CA_BUNDLE``) are theirs. Two of PyGithub's habits are
switched off, because :mod:`bot.publish.github` decides them: its retries (its default
repeats a POST after a 5xx, which can post a comment twice) and its pauses between
requests.

A read timeout alone does not bound a request: a server that sends one byte every few
seconds never trips it. So each request runs in a daemon thread, waited for until its
deadline; past it the request fails with :class:`Deadline`, the Github object's
connections are closed and the next request gets a fresh Github object. Closing them
cannot interrupt a read already under way: the abandoned thread goes on reading from
such a server, holding only that old object, and its connection is closed when it
returns (the pool is shut) or when covbot exits.

``import github`` (a third of a second, requests included) happens on the first
request, never at start-up.
"""

from __future__ import annotations

import json
import math
import re
import threading
from urllib.parse import urlsplit

from bot.model.errors import PublishError

#: The largest answer accepted (a page of 100 comments of 65,536 characters is about 7 MB).
MAX_BODY = 32 * 1024 * 1024
ACCEPT = "application/vnd.github+json"
_LINK_NEXT = re.compile(r'<([^<>]+)>\s*;\s*rel="?next"?')


class Deadline(Exception):
    """No complete answer before the request's deadline."""


class Lost(Exception):
    """The connection failed or closed before a complete answer."""


def origin(url: str) -> tuple[str, str]:
    """``(scheme, host[:port])`` of the API URL: where the token may be sent."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublishError(f"GitHub API URL {url!r} is not an http(s) URL",
                           "set GITHUB_API_URL to the API's address, e.g. https://api.github.com")
    return parts.scheme, parts.netloc.lower()


class Wire:
    """Requests to one API host with one token, through a Github object made when needed."""

    def __init__(self, token: str, api_url: str, *, timeout: float, per_page: int):
        self.origin = origin(api_url)
        self._token, self._api_url = token, api_url
        self._timeout, self._per_page = max(1, math.ceil(timeout)), per_page
        self._gh = None

    def exchange(self, what: str, method: str, url: str, body: dict | None, *,
                 timeout: float) -> tuple[int, dict[str, str], str]:
        """``(status, headers with lower-case names, body text)`` of one request, within
        ``timeout`` seconds; any status, 4xx and 5xx included, is an answer."""
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self.origin:
            raise PublishError(f"GitHub API: refused to send the token to {parts.scheme}://{parts.netloc}",
                               "covbot only talks to GITHUB_API_URL's host")
        requester = self._github().requester
        outcome: dict = {}

        def request() -> None:
            try:
                outcome["answer"] = requester.requestJson(method, url, headers={"Accept": ACCEPT}, input=body)
            except BaseException as exc:   # handed to the waiting thread
                outcome["error"] = exc

        worker = threading.Thread(target=request, name="covbot-api", daemon=True)
        worker.start()
        worker.join(max(0.1, timeout))
        if worker.is_alive():
            self.close()
            raise Deadline()
        if "error" in outcome:
            raise _failure(what, outcome["error"])
        status, headers, text = outcome["answer"]
        if len(text) > MAX_BODY:
            raise PublishError(f"GitHub API: {what} answered more than {MAX_BODY} characters; refused")
        return status, headers, text

    def close(self) -> None:
        """Close the connections; a later request makes a fresh Github object."""
        gh, self._gh = self._gh, None
        if gh is not None:
            gh.close()

    def _github(self):
        if self._gh is None:
            import github   # start-up time: only a run that posts needs it
            from github import Auth

            self._gh = github.Github(auth=Auth.Token(self._token), base_url=self._api_url, timeout=self._timeout,
                                     retry=None, per_page=self._per_page, seconds_between_requests=None,
                                     seconds_between_writes=None, user_agent="covbot")
        return self._gh


def _failure(what: str, exc: BaseException) -> BaseException:
    """What a failed request means for the client: :class:`Lost` (retried), or a PublishError."""
    import requests

    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError, ValueError)):
        return Lost(_reason(exc))
    if isinstance(exc, RuntimeError):   # PyGithub refuses a redirect to another host or scheme
        return PublishError(f"GitHub API: {what} was redirected elsewhere; refused ({str(exc)[:200]})",
                            "set GITHUB_API_URL to the API's address")
    return exc


def _reason(exc: BaseException) -> str:
    """The failure's name and its root cause's (an OSError's text names the host or errno;
    other texts may quote headers, so only their names are given)."""
    root = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__
    name = type(exc).__name__
    if root is exc:
        return name
    cause = f"{type(root).__name__}: {root}" if isinstance(root, OSError) and str(root) else type(root).__name__
    return f"{name}, {cause}"


# -- answers -------------------------------------------------------------------------------------

def loads_or_none(raw: str):
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None


def parse_json(what: str, status: int, raw: str):
    """The JSON of a 2xx answer (None for an empty one, e.g. 204)."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise PublishError(f"GitHub API: {what} answered {status} with a body that is not JSON "
                           f"({len(raw)} characters: {raw[:60]!r})",
                           "a proxy or GitHub itself sent a broken answer; rerun the job later") from None


def expect(condition: bool, what: str, shape: str) -> None:
    if not condition:
        raise PublishError(f"GitHub API: {what} answered with a body that is not {shape}",
                           "a proxy or GitHub itself sent an unexpected answer; rerun the job later")


def next_link(header: str | None, what: str, origin: tuple[str, str]) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, refused unless it is on the API's host."""
    if not header:
        return None
    m = _LINK_NEXT.search(header)
    if not m:
        return None
    url = m.group(1)
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc.lower()) != origin:
        raise PublishError(f"GitHub API: {what}: the next page is at {parts.scheme}://{parts.netloc}, "
                           "not the API's host; refused", "covbot only sends the token to GITHUB_API_URL's host")
    return url


def error_message(data) -> str:
    """What an error answer says: its message and the messages of its ``errors``."""
    if isinstance(data, dict):
        msg = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list):
            extra = "; ".join(str(e.get("message") or e.get("code") or "") for e in errors if isinstance(e, dict))
            if extra.strip("; "):
                msg = f"{msg}: {extra}"
        return msg[:500] or "no message"
    return str(data or "no message")[:200]
