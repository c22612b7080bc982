"""HTML escaped by construction, for the dashboard and the PR's HTML report.

:func:`el` builds an element: every child that is not :class:`Markup` is text and goes
through :func:`html.escape`, every attribute value too, so a file name, a commit
subject or an author cannot add markup. Only code writes tag and attribute names.
Links are checked by :func:`href`: relative paths and ``http(s)`` URLs only.
"""

from __future__ import annotations

import re
from html import escape

_VOID = frozenset({"br", "hr", "meta", "col", "img", "input", "link"})
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_SAFE_ATTR = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*$")
_RELATIVE = re.compile(r"^(?![a-zA-Z][a-zA-Z0-9+.-]*:)(?!//)[^\s]*$")


class Markup(str):
    """Text that is HTML already (made by :func:`el` or :func:`raw`)."""

    __slots__ = ()


def raw(text: str) -> Markup:
    """Markup written by covbot itself (a stylesheet, an SVG path): never data."""
    return Markup(text)


def text(value) -> Markup:
    return Markup(escape(str(value), quote=True))


def _children(children) -> str:
    out = []
    for c in children:
        if c is None or c is False:
            continue
        if isinstance(c, Markup):
            out.append(c)
        elif isinstance(c, (list, tuple)):
            out.append(_children(c))
        else:
            out.append(escape(str(c), quote=True))
    return "".join(out)


def attrs(values: dict) -> str:
    out = []
    for key, value in values.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        if not _SAFE_ATTR.match(name):
            raise ValueError(f"bad attribute name {name!r}")
        out.append(f" {name}" if value is True else f' {name}="{escape(str(value), quote=True)}"')
    return "".join(out)


def el(tag: str, *children, **attributes) -> Markup:
    """``<tag attributes>children</tag>``; ``class_`` is ``class``, ``data_x`` is ``data-x``."""
    if not _SAFE_NAME.match(tag):
        raise ValueError(f"bad tag name {tag!r}")
    start = f"<{tag}{attrs(attributes)}>"
    if tag in _VOID:
        return Markup(start)
    return Markup(f"{start}{_children(children)}</{tag}>")


def join(items, sep: str = "") -> Markup:
    return Markup(sep.join(_children([i]) for i in items))


def href(url: str | None) -> str | None:
    """``url`` when it is a relative path or an ``http(s)`` URL, else ``None`` (no link)."""
    if not url or not isinstance(url, str):
        return None
    if url.startswith(("https://", "http://")) and not re.search(r"[\s<>\"']", url):
        return url
    return url if _RELATIVE.match(url) else None


def link(label, url: str | None, **attributes) -> Markup:
    """A link to ``url``, or the bare label when the URL is not one :func:`href` allows."""
    target = href(url)
    if target is None:
        return el("span", label, **attributes)
    return el("a", label, href=target, **attributes)


def page(title: str, body, *, css: str) -> str:
    """A whole self-contained document: inline CSS, no scripts, nothing fetched."""
    return "".join(page_parts(title, [body], css=css))


def page_parts(title: str, parts, *, css: str):
    """:func:`page` in pieces: the head, each of ``parts`` (markup, or lists of it) as it
    comes, the end; so a large page is written without being held whole."""
    head = el("head", raw('<meta charset="utf-8">'),
              raw('<meta name="viewport" content="width=device-width, initial-scale=1">'),
              raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'; img-src data:\">"),
              el("title", title), el("style", raw(css)))
    yield f'<!DOCTYPE html>\n<html lang="en">{head}<body>'
    for part in parts:
        yield _children([part])
    yield "</body></html>\n"


BASE_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;--good:#1a7f37;
--bad:#cf222e;--warn:#9a6700;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 48px;font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;padding-bottom:4px;
border-bottom:1px solid var(--line)}h3{font-size:15px;margin:20px 0 6px}
p.sub,.muted{color:var(--muted)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;margin:6px 0 10px}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;background:var(--soft)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:190px;background:var(--soft)}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:24px;font-weight:600;font-variant-numeric:tabular-nums}
.card .note{color:var(--muted);font-size:12px}
.good{color:var(--good)}.bad{color:var(--bad)}.warn{color:var(--warn)}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
svg .grid{stroke:#eaeef2;stroke-width:1}svg .axis{stroke:var(--line)}
svg .s0{stroke:#0969da}svg .s1{stroke:#8250df}svg .s2{stroke:#bf8700}svg .s3{stroke:#1a7f37}
svg circle.s0{fill:#0969da}svg circle.s1{fill:#8250df}svg circle.s2{fill:#bf8700}svg circle.s3{fill:#1a7f37}
svg path{fill:none;stroke-width:2}svg path.dashed{stroke-dasharray:5 4}
svg .goal{stroke:var(--good);stroke-width:1.5;stroke-dasharray:6 4}
svg .fit{stroke:var(--bad);stroke-width:2;stroke-dasharray:2 3}
svg circle{stroke:none}
.legend{display:flex;gap:16px;color:var(--muted);font-size:12px;margin:2px 0 0}
.legend i{display:inline-block;width:14px;height:3px;margin-right:5px;vertical-align:middle}
"""
