"""Bytes on the wire for :mod:`bot.publish.github`: one HTTPS request with an overall deadline.

A read timeout alone does not bound a request: a server that sends one byte every few
seconds never trips it. Here a timer shuts the socket down when the deadline passes,
wherever the request is (sending, waiting for the status line, reading headers or the
body), and the request fails with :class:`Deadline`. Answers are read up to
``MAX_BODY`` bytes. Connections go through ``https_proxy`` when the environment names
one (as curl and requests do), and certificates are checked against the system's
store and certifi's bundle when certifi is installed (``SSL_CERT_FILE`` adds a CA).

``http.client`` and ``ssl`` are imported on the first request, not at start-up.
"""

from __future__ import annotations

import json
import re
import threading
from base64 import b64encode
from urllib.parse import unquote, urlsplit

from bot.model.errors import PublishError

#: The largest answer read (a page of 100 comments of 65,536 characters is about 7 MB).
MAX_BODY = 32 * 1024 * 1024
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


def exchange(method: str, url: str, payload: bytes | None, *, token: str, timeout: float,
             origin: tuple[str, str]) -> tuple[int, dict[str, str], bytes]:
    """``(status, lower-cased headers, body)`` of one request, within ``timeout`` seconds."""
    import http.client   # start-up time: only a run that posts needs it

    parts = urlsplit(url)
    if (parts.scheme, parts.netloc.lower()) != origin:
        raise PublishError(f"GitHub API: refused to send the token to {parts.scheme}://{parts.netloc}",
                           "covbot only talks to GITHUB_API_URL's host")
    conn = _connection(parts, max(0.1, timeout))
    fired = threading.Event()

    def cut() -> None:
        fired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(2)   # socket.SHUT_RDWR: a blocked read returns at once
            except OSError:
                pass

    timer = threading.Timer(max(0.1, timeout), cut)
    timer.daemon = True
    timer.start()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
               "User-Agent": "covbot", "Connection": "close"}
    if payload is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
    try:
        conn.connect()             # bounded by the socket timeout; the timer cuts what follows
        if fired.is_set():
            raise Deadline()
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=payload,
                     headers=headers)
        resp = conn.getresponse()
        body = resp.read(MAX_BODY + 1)
        status, answer = resp.status, {k.lower(): v for k, v in resp.getheaders()}
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if fired.is_set():
            raise Deadline() from None
        # OSError texts name the host or the errno; others (ValueError) may quote headers
        raise Lost(f"{type(exc).__name__}: {exc}" if isinstance(exc, OSError) and str(exc)
                   else type(exc).__name__) from None
    finally:
        timer.cancel()
        conn.close()
    if fired.is_set():
        raise Deadline()
    if len(body) > MAX_BODY:
        raise PublishError(f"GitHub API: {method} {parts.path} answered more than {MAX_BODY} bytes; refused")
    return status, answer, body


def _connection(parts, timeout: float):
    import http.client

    host, port = parts.hostname, parts.port
    if parts.scheme == "http":
        return http.client.HTTPConnection(host, port or 80, timeout=timeout)
    proxy = _proxy(host)
    if proxy is None:
        return http.client.HTTPSConnection(host, port or 443, timeout=timeout, context=_tls())
    conn = http.client.HTTPSConnection(proxy.hostname, proxy.port or 8080, timeout=timeout, context=_tls())
    auth = {}
    if proxy.username:
        creds = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
        auth["Proxy-Authorization"] = "Basic " + b64encode(creds).decode()
    conn.set_tunnel(host, port or 443, headers=auth)
    return conn


def _proxy(host: str):
    import urllib.request

    url = urllib.request.getproxies().get("https")
    if not url or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return parts if parts.hostname else None


_CONTEXT = None


def _tls():
    global _CONTEXT
    if _CONTEXT is None:
        import ssl

        ctx = ssl.create_default_context()
        try:
            import certifi   # installed with covbot's dependencies; the system store may be empty
            ctx.load_verify_locations(certifi.where())
        except (ImportError, OSError):
            pass
        _CONTEXT = ctx
    return _CONTEXT


# -- answers -------------------------------------------------------------------------------------

def loads_or_none(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except (ValueError, RecursionError):
        return None


def parse_json(what: str, status: int, raw: bytes):
    """The JSON of a 2xx answer (None for an empty one, e.g. 204)."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise PublishError(f"GitHub API: {what} answered {status} with a body that is not JSON "
                           f"({len(raw)} bytes: {raw[:60]!r})",
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
