"""A small, stateful fake of the GitHub REST API on 127.0.0.1, for covbot's client over real HTTP.

What it serves (enough for covbot's sticky comment, statuses and the fork-safe publisher):

- ``GET /repos/{o}/{r}``, ``GET /repos/{o}/{r}/pulls[/{n}]`` (``state``, ``head=owner:branch``),
  ``GET /repos/{o}/{r}/pulls/{n}/commits`` (at most 250, as GitHub lists),
  ``GET /repos/{o}/{r}/commits/{sha}/pulls`` (the open pull requests of this repository
  whose commits include ``sha``; a fork's commits are not found there, as on GitHub)
- ``GET|POST /repos/{o}/{r}/issues/{n}/comments`` (pagination: ``per_page``, ``page``,
  ``Link`` headers pointing at ``/repositories/{id}/…`` as GitHub's do; those paths are
  served too), ``GET|PATCH|DELETE /repos/{o}/{r}/issues/comments/{id}``
- ``POST /repos/{o}/{r}/statuses/{sha}``, ``GET /repos/{o}/{r}/commits/{sha}/statuses``
- ``GET /user``: 403 for installation tokens (like the Actions token), the login otherwise

Tokens: ``add_token(token, write=True, login=..., installation=True, admin=False)``; a
read-only token gets 403 "Resource not accessible by integration" on every write, as a
fork's ``GITHUB_TOKEN`` does. Editing or deleting someone else's comment is refused
unless the token is an admin's (``admin=True``: GitHub lets a repository admin edit
anyone's comment). A body over 65,536 characters gets 422. Every answer carries
``x-ratelimit-*`` headers.

Faults: ``fail_next(method, path_regex, status, times=1, headers=None)`` where status may
also be ``"reset"`` (connection closed without an answer), ``"slow"`` (``delay`` seconds
before answering) or ``"drip"`` (the whole answer, status line and headers included,
one byte every ``delay`` seconds); ``raw=b"..."`` answers ``status`` with that body as is
(a malformed 200); ``after=True`` lets the request take effect first, then the error is
returned (a POST that succeeded but whose answer was lost). ``rate_limit_next(method,
path_regex, kind="primary"|"secondary", ...)`` answers as GitHub does when a limit is hit
(primary: ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``; secondary: the message,
``Retry-After`` only when given). ``before_next(method, path_regex, fn)`` runs ``fn(fake)``
just before a request is handled (e.g. someone deletes the comment between list and edit).

Every request is logged in ``requests`` as ``(method, path, status)``; the path keeps
its query string. Use in tests as ``with FakeGitHub() as gh: ...`` or as a process:
``python tests/support/fakegithub.py --port P --state state.json`` (the state file seeds repos,
pulls and tokens and is rewritten with comments, statuses and the request log after
every request).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

COMMENT_LIMIT = 65536
_BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern
    status: int | str
    times: int
    headers: dict = field(default_factory=dict)
    body: dict | None = None
    delay: float = 0.0
    after: bool = False
    raw: bytes | None = None


class FakeGitHub:
    def __init__(self, port: int = 0, state_file: str | Path | None = None):
        self._lock = threading.RLock()
        self.repos: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.requests: list[tuple[str, str, int | str]] = []
        self.request_headers: list[dict] = []
        self.bodies: list[tuple[str, str, object]] = []
        self._faults: list[_Fault] = []
        self._hooks: list[tuple[str, re.Pattern, object]] = []
        self._next_id = 1000
        self._prefix = ""
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.state_file = Path(state_file) if state_file else None

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> "FakeGitHub":
        fake = self

        class Handler(_Handler):
            gh = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeGitHub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is not None:
            self._port = self._server.server_address[1]
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- state setup ------------------------------------------------------------------
    def add_repo(self, full_name: str, default_branch: str = "main", private: bool = False) -> None:
        with self._lock:
            self.repos[full_name] = {"default_branch": default_branch, "private": private,
                                     "pulls": {}, "comments": {}, "statuses": {}}

    def add_pull(self, full_name: str, number: int, *, head_sha: str, base_sha: str = "0" * 40,
                 head_ref: str = "feature", base_ref: str = "main", head_repo: str | None = None,
                 state: str = "open", merge_commit_sha: str | None = None, user: str = "octocat") -> None:
        """A pull request; with ``merge_commit_sha`` it is merged (closed) by that commit."""
        with self._lock:
            repo = self.repos[full_name]
            repo["pulls"][int(number)] = {"number": int(number), "head_sha": head_sha, "base_sha": base_sha,
                                          "head_ref": head_ref, "base_ref": base_ref,
                                          "head_repo": head_repo or full_name,
                                          "state": "closed" if merge_commit_sha else state,
                                          "merge_commit_sha": merge_commit_sha, "user": user,
                                          "commits": [head_sha]}
            repo["comments"].setdefault(int(number), [])

    def set_head(self, full_name: str, number: int, head_sha: str, *, force: bool = False) -> None:
        """A push to the pull request's branch (``force``: its earlier commits are gone)."""
        with self._lock:
            p = self.repos[full_name]["pulls"][int(number)]
            p["head_sha"] = head_sha
            p["commits"] = [head_sha] if force else p.get("commits", []) + [head_sha]

    def set_state(self, full_name: str, number: int, state: str) -> None:
        with self._lock:
            self.repos[full_name]["pulls"][int(number)]["state"] = state

    def add_token(self, token: str, write: bool = True, *, login: str = _BOT["login"],
                  type: str = "Bot", installation: bool = True, admin: bool = False) -> None:
        with self._lock:
            self.tokens[token] = {"write": write, "login": login, "type": type,
                                  "installation": installation, "admin": admin}

    def add_comment(self, full_name: str, number: int, body: str, *, login: str = "octocat",
                    type: str = "User") -> int:
        with self._lock:
            return self._new_comment(full_name, int(number), body, {"login": login, "type": type})["id"]

    def comments(self, full_name: str, number: int) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self.repos[full_name]["comments"].get(int(number), [])]

    def delete_comment(self, full_name: str, comment_id: int) -> None:
        with self._lock:
            for lst in self.repos[full_name]["comments"].values():
                lst[:] = [c for c in lst if c["id"] != comment_id]

    def statuses(self, full_name: str, sha: str) -> list[dict]:
        with self._lock:
            return [dict(s) for s in self.repos[full_name]["statuses"].get(sha, [])]

    def fail_next(self, method: str, path_regex: str, status: int | str, times: int = 1,
                  headers: dict | None = None, *, body: dict | None = None, delay: float = 0.0,
                  after: bool = False, raw: bytes | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault(method.upper(), re.compile(path_regex), status, times,
                                       dict(headers or {}), body, delay, after, raw))

    def rate_limit_next(self, method: str, path_regex: str, *, kind: str = "primary", status: int = 403,
                        reset_in: float = 1800, retry_after: float | None = None, times: int = 1) -> int:
        """The next matching request(s) hit a rate limit, answered the way GitHub answers:
        a primary limit with ``x-ratelimit-remaining: 0`` and the reset time, a secondary
        one with its message (and ``Retry-After`` only when ``retry_after`` is given).
        Returns the ``x-ratelimit-reset`` epoch second sent."""
        reset = int(time.time() + reset_in)
        if kind == "primary":
            headers = {"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "1000",
                       "x-ratelimit-reset": str(reset), "x-ratelimit-resource": "core"}
            body = {"message": "API rate limit exceeded for installation ID 4242.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}
        else:
            headers = {"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "912", "x-ratelimit-used": "88",
                       "x-ratelimit-reset": str(reset), "x-ratelimit-resource": "core"}
            body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before "
                               "you try again. If you reach out to GitHub Support for help, please include "
                               "the request ID 0000:1111:2222.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                                         "#about-secondary-rate-limits"}
        if retry_after is not None:
            headers["retry-after"] = str(int(retry_after))
        self.fail_next(method, path_regex, status, times=times, headers=headers, body=body)
        return reset

    def before_next(self, method: str, path_regex: str, fn) -> None:
        with self._lock:
            self._hooks.append((method.upper(), re.compile(path_regex), fn))

    def transcript(self) -> str:
        return "\n".join(f"{m} {p} -> {s}" for m, p, s in self.requests)

    # -- persistence for the standalone process ----------------------------------------
    def load_state(self, doc: dict) -> None:
        for name, repo in doc.get("repos", {}).items():
            self.add_repo(name, repo.get("default_branch", "main"), repo.get("private", False))
            for p in repo.get("pulls", []):
                p = dict(p)
                commits, number = p.pop("commits", None), int(p.pop("number"))
                self.add_pull(name, number, **p)
                if commits:
                    self.repos[name]["pulls"][number]["commits"] = list(commits)
            for number, lst in repo.get("comments", {}).items():
                for c in lst:
                    self.add_comment(name, int(number), c["body"], login=c["user"]["login"],
                                     type=c["user"].get("type", "User"))
        for token, info in doc.get("tokens", {}).items():
            self.add_token(token, **info)

    def dump_state(self) -> dict:
        with self._lock:
            repos = {}
            for name, r in self.repos.items():
                repos[name] = {"default_branch": r["default_branch"], "private": r["private"],
                               "pulls": [dict(p) for p in r["pulls"].values()],
                               "comments": {str(n): lst for n, lst in r["comments"].items()},
                               "statuses": r["statuses"]}
            return {"repos": repos, "tokens": self.tokens,
                    "requests": [list(x) for x in self.requests]}

    def _save(self) -> None:
        if self.state_file:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.dump_state(), indent=1))
            tmp.replace(self.state_file)

    # -- JSON shapes --------------------------------------------------------------------
    @staticmethod
    def repo_id(name: str) -> int:
        """The repository's numeric id (stable across processes, as GitHub's is)."""
        return zlib.crc32(name.encode()) % 10**8 + 1

    def _repo_json(self, name: str) -> dict:
        r = self.repos.get(name, {"private": False, "default_branch": "main"})
        owner, short = name.split("/", 1)
        return {"id": self.repo_id(name), "name": short, "full_name": name,
                "owner": {"login": owner, "type": "Organization"}, "private": r["private"],
                "default_branch": r["default_branch"], "url": f"{self.url}/repos/{name}",
                "html_url": f"https://github.example/{name}",
                "permissions": {"admin": False, "push": True, "pull": True}}

    def _pull_json(self, name: str, p: dict) -> dict:
        return {"id": p["number"] + 5000, "number": p["number"], "state": p["state"],
                "title": f"PR {p['number']}", "url": f"{self.url}/repos/{name}/pulls/{p['number']}",
                "html_url": f"https://github.example/{name}/pull/{p['number']}",
                "head": {"sha": p["head_sha"], "ref": p["head_ref"],
                         "label": f"{p['head_repo'].split('/')[0]}:{p['head_ref']}",
                         "repo": self._repo_json(p["head_repo"])},
                "base": {"sha": p["base_sha"], "ref": p["base_ref"], "label": f"x:{p['base_ref']}",
                         "repo": self._repo_json(name)},
                "user": {"login": p.get("user", "octocat"), "type": "User", "id": 9},
                "merge_commit_sha": p.get("merge_commit_sha"),
                "merged_at": "2025-01-01T00:00:00Z" if p.get("merge_commit_sha") else None}

    def _new_comment(self, name: str, number: int, body: str, user: dict) -> dict:
        self._next_id += 1
        cid = self._next_id
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        c = {"id": cid, "body": body, "user": {"login": user["login"], "type": user["type"], "id": 7},
             "url": f"{self.url}/repos/{name}/issues/comments/{cid}",
             "html_url": f"https://github.example/{name}/pull/{number}#issuecomment-{cid}",
             "issue_url": f"{self.url}/repos/{name}/issues/{number}",
             "created_at": now, "updated_at": now}
        self.repos[name]["comments"].setdefault(number, []).append(c)
        return c

    # -- request handling ----------------------------------------------------------------
    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for f in self._faults:
                if f.method == method and f.pattern.search(path) and f.times > 0:
                    f.times -= 1
                    if f.times == 0:
                        self._faults.remove(f)
                    return f
        return None

    def _run_hooks(self, method: str, path: str) -> None:
        with self._lock:
            hooks = [h for h in self._hooks if h[0] == method and h[1].search(path)]
            for h in hooks:
                self._hooks.remove(h)
        for _, _, fn in hooks:
            fn(self)

    def handle(self, method: str, raw_path: str, headers, body: bytes):
        """Returns ``(status, json_body, extra_headers)``."""
        parts = urlsplit(raw_path)
        path, prefix = parts.path, ""
        if path.startswith("/api/v3/"):      # GitHub Enterprise Server's API prefix
            path, prefix = path[len("/api/v3"):], "/api/v3"
        if m := re.fullmatch(r"/repositories/(\d+)(/.*)?", path):   # where GitHub's Link headers point
            names = [n for n in self.repos if self.repo_id(n) == int(m.group(1))]
            path = f"/repos/{names[0]}{m.group(2) or ''}" if names else "/repos/-/-"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        auth = headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else ""
        if self.tokens and token not in self.tokens:
            return 401, {"message": "Bad credentials"}, {}
        info = self.tokens.get(token, {"write": True, "login": _BOT["login"], "type": "Bot",
                                       "installation": True})
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return 400, {"message": "Problems parsing JSON"}, {}
        with self._lock:
            self._prefix = prefix
            return self._route(method, path, query, data, info)

    def _route(self, method, path, query, data, info):
        if path == "/user":
            if info["installation"]:
                return 403, {"message": "Resource not accessible by integration"}, {}
            return 200, {"login": info["login"], "type": info["type"], "id": 99}, {}
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if not m or m.group(1) not in self.repos:
            return 404, {"message": "Not Found"}, {}
        name, rest = m.group(1), m.group(2) or ""
        repo = self.repos[name]
        write = method in ("POST", "PATCH", "DELETE", "PUT")
        if write and not info["write"]:
            return 403, {"message": "Resource not accessible by integration",
                         "documentation_url": "https://docs.github.com/rest"}, {}
        if rest == "" and method == "GET":
            return 200, self._repo_json(name), {}
        if rest.startswith("/pulls") or re.fullmatch(r"/commits/[^/]+/pulls", rest):
            return self._route_pulls(name, repo, rest, query)
        if rest.startswith("/issues/"):
            return self._route_comments(method, name, repo, rest, query, data, info)
        if mm := re.fullmatch(r"/statuses/([0-9a-f]{40})", rest):
            if method == "POST":
                return self._new_status(name, repo, mm.group(1), data, info)
        if mm := re.fullmatch(r"/commits/([0-9a-f]{40})/statuses", rest):
            return self._page(name, rest, query, list(reversed(repo["statuses"].get(mm.group(1), []))))
        return 404, {"message": "Not Found"}, {}

    def _route_pulls(self, name, repo, rest, query):
        pulls = sorted(repo["pulls"].values(), key=lambda p: -p["number"])
        if rest == "/pulls":
            state = query.get("state", "open")
            chosen = [p for p in pulls if state in ("all", p["state"])]
            if "head" in query:   # owner:branch, as GitHub filters
                owner, _, branch = query["head"].partition(":")
                chosen = [p for p in chosen if p["head_repo"].split("/")[0] == owner and p["head_ref"] == branch]
            return self._page(name, rest, query, [self._pull_json(name, p) for p in chosen])
        if mm := re.fullmatch(r"/pulls/(\d+)(/commits)?", rest):
            p = repo["pulls"].get(int(mm.group(1)))
            if p is None:
                return 404, {"message": "Not Found"}, {}
            if mm.group(2):
                return self._page(name, rest, query, [{"sha": c, "commit": {"message": "change"}}
                                                      for c in p["commits"][:250]])
            return 200, self._pull_json(name, p), {}
        if mm := re.fullmatch(r"/commits/([^/]+)/pulls", rest):
            sha = mm.group(1)
            if not re.fullmatch(r"[0-9a-f]{7,40}", sha):
                return 422, {"message": "No commit found for SHA: " + sha}, {}
            # The pull requests a commit belongs to (a fork's commits are not in this
            # repository's object graph: GitHub lists nothing for them) or that it merged.
            found = [p for p in repo["pulls"].values()
                     if (p["head_repo"] == name and any(c.startswith(sha) for c in p["commits"]))
                     or (p.get("merge_commit_sha") or "").startswith(sha)]
            return self._page(name, rest, query, [self._pull_json(name, p) for p in found])
        return 404, {"message": "Not Found"}, {}

    def _route_comments(self, method, name, repo, rest, query, data, info):
        if mm := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(mm.group(1))
            if number not in repo["pulls"]:
                return 404, {"message": "Not Found"}, {}
            if method == "GET":
                return self._page(name, rest, query, repo["comments"].get(number, []))
            if method == "POST":
                text = data.get("body")
                if not isinstance(text, str) or not text:
                    return 422, {"message": "Validation Failed", "errors": [{"field": "body", "code": "missing"}]}, {}
                if len(text) > COMMENT_LIMIT:
                    return 422, _too_long(), {}
                return 201, self._new_comment(name, number, text, info), {}
        if mm := re.fullmatch(r"/issues/comments/(\d+)", rest):
            cid = int(mm.group(1))
            found = [(n, c) for n, lst in repo["comments"].items() for c in lst if c["id"] == cid]
            if not found:
                return 404, {"message": "Not Found"}, {}
            number, c = found[0]
            if method == "GET":
                return 200, c, {}
            if method in ("PATCH", "DELETE") and c["user"]["login"] != info["login"] and not info.get("admin"):
                return 403, {"message": "Must have admin rights to Repository."}, {}
            if method == "PATCH":
                text = data.get("body")
                if not isinstance(text, str) or not text:
                    return 422, {"message": "Validation Failed"}, {}
                if len(text) > COMMENT_LIMIT:
                    return 422, _too_long(), {}
                c["body"] = text
                c["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                return 200, c, {}
            if method == "DELETE":
                repo["comments"][number].remove(c)
                return 204, None, {}
        return 404, {"message": "Not Found"}, {}

    def _new_status(self, name, repo, sha, data, info):
        state = data.get("state")
        if state not in ("error", "failure", "pending", "success"):
            return 422, {"message": "Validation Failed", "errors": [{"field": "state"}]}, {}
        if len(data.get("description") or "") > 140:
            return 422, {"message": "Validation Failed",
                         "errors": [{"field": "description", "code": "custom",
                                     "message": "description is too long (maximum is 140 characters)"}]}, {}
        self._next_id += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        s = {"id": self._next_id, "state": state, "context": data.get("context", "default"),
             "description": data.get("description"), "target_url": data.get("target_url"),
             "url": f"{self.url}/repos/{name}/statuses/{sha}", "created_at": now, "updated_at": now,
             "creator": {"login": info["login"], "type": info["type"]}}
        repo["statuses"].setdefault(sha, []).append(s)
        return 201, s, {}

    def _page(self, name: str, rest: str, query: dict, items: list):
        try:
            per_page = max(1, min(100, int(query.get("per_page", 30))))
            page = max(1, int(query.get("page", 1)))
        except ValueError:
            return 422, {"message": "Validation Failed"}, {}
        start = (page - 1) * per_page
        chunk = items[start:start + per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        base_q = {k: v for k, v in query.items() if k not in ("page",)}
        base_q["per_page"] = str(per_page)
        # GitHub's Link headers name the repository by id, not by owner/name.
        where = f"{self.url}{self._prefix}/repositories/{self.repo_id(name)}{rest}"

        def link(n, rel):
            return f'<{where}?{urlencode(dict(base_q, page=n))}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})


def _too_long() -> dict:
    return {"message": "Validation Failed",
            "errors": [{"resource": "IssueComment", "code": "custom", "field": "body",
                        "message": "body is too long (maximum is 65536 characters)"}]}


class _Handler(BaseHTTPRequestHandler):
    gh: FakeGitHub
    protocol_version = "HTTP/1.1"
    server_version = "FakeGitHub/1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _serve(self) -> None:
        gh = self.gh
        method = self.command
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path_only = urlsplit(self.path).path
        gh._run_hooks(method, path_only)
        fault = gh._take_fault(method, path_only)
        with gh._lock:
            gh.request_headers.append(dict(self.headers))
        slow = False
        if fault and fault.status in ("slow", "drip"):     # logged when it arrives; answered late
            with gh._lock:
                gh.requests.append((method, self.path, fault.status))
            if fault.status == "drip":
                status, doc, extra = gh.handle(method, self.path, self.headers, body)
                self._drip(self._response(status, doc, extra), fault.delay)
                return
            time.sleep(fault.delay)
            fault, slow = None, True
        if fault and not fault.after:
            self._fault(fault)
            return
        status, doc, extra = gh.handle(method, self.path, self.headers, body)
        with gh._lock:
            if body:
                try:
                    gh.bodies.append((method, path_only, json.loads(body)))
                except ValueError:
                    pass
        if fault:                  # the request took effect, but its answer is lost
            self._fault(fault)
            return
        with gh._lock:
            if not slow:
                gh.requests.append((method, self.path, status))
            gh._save()
        try:
            self._send(status, doc, extra)
        except OSError:     # the client gave up waiting
            self.close_connection = True

    def _fault(self, fault: _Fault) -> None:
        gh = self.gh
        if fault.status == "reset":
            with gh._lock:
                gh.requests.append((self.command, self.path, "reset"))
                gh._save()
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        with gh._lock:
            gh.requests.append((self.command, self.path, fault.status))
            gh._save()
        if fault.raw is not None:
            self.wfile.write(self._response(int(fault.status), None, fault.headers, payload=fault.raw))
            return
        doc = fault.body or {"message": {500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                                         429: "API rate limit exceeded",
                                         403: "You have exceeded a secondary rate limit. Please wait a few "
                                              "minutes before you try again."}.get(fault.status, "Error")}
        self._send(int(fault.status), doc, fault.headers)

    def _drip(self, data: bytes, delay: float) -> None:
        """The answer one byte at a time: every read of the client gets something."""
        self.close_connection = True
        try:
            for i in range(len(data)):
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(delay)
        except OSError:     # the client gave up
            pass

    def _response(self, status: int, doc, extra: dict, payload: bytes | None = None) -> bytes:
        """The bytes of a whole answer; ``extra`` headers replace the defaults of the same name."""
        if payload is None:
            payload = b"" if doc is None else json.dumps(doc).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(payload)),
                   "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999",
                   "X-RateLimit-Reset": str(int(time.time()) + 3600), "X-RateLimit-Resource": "core",
                   "Date": self.date_time_string(), "Server": self.server_version}
        lower = {k.lower(): k for k in headers}
        for k, v in extra.items():
            headers.pop(lower.get(k.lower(), k), None)
            headers[k] = str(v)
        reason = self.responses.get(status, ("",))[0]
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        return head.encode("latin-1") + payload

    def _send(self, status: int, doc, extra: dict) -> None:
        self.wfile.write(self._response(status, doc, extra))
        self.wfile.flush()

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="fake GitHub REST API for covbot's tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state", help="JSON file: seeds repos/pulls/tokens; rewritten after every request")
    args = ap.parse_args(argv)
    gh = FakeGitHub(port=args.port, state_file=args.state)
    if args.state and Path(args.state).is_file():
        gh.load_state(json.loads(Path(args.state).read_text() or "{}"))
    gh.start()
    gh._save()
    print(f"fakegithub listening on {gh.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        gh.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
