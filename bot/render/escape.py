"""Make text from a pull request inert in Markdown: no HTML, no structure, no pings.

The one escaping path: every string the comment shows goes through a function here.
File names, test names and failure messages come from the PR and may be hostile. In
table cells and inline text every Markdown metacharacter is backslash-escaped, ``<``,
``>`` and ``&`` become entities, ``@`` and ``#`` get a zero-width space so they cannot
mention a user/team or link an issue, and newlines collapse to spaces. Code blocks use
a fence longer than any backtick run inside them. Everywhere, the characters that
reorder or break lines invisibly (bidi embeddings, overrides and isolates, the line and
paragraph separators) are shown as ``[U+202E]`` instead. Labels in a Mermaid chart keep
letters, digits and a few marks only; a path is linked only when it is a plain
repository path (:func:`repo_path`).
"""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~!$])")
_LINE_START = re.compile(r"^(\s*)([-+>=]|\d+[.)])")
_ZWSP = "\u200b"
_AUTOLINKS = re.compile(r"(?i)\b(GH)(-)(?=\d)|(:)(//)|\b(www)(\.)")
#: Invisible characters that reorder text (Trojan Source) or break a line where none shows.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u2028\u2029\u200e\u200f\u061c]")
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 ._-]")
_PATH_SEGMENT = re.compile(r"[^\x00-\x1f\x7f\\]+")


def visible(text: str) -> str:
    """``text`` with every bidi control and line/paragraph separator shown as its code point, ``[U+202E]``."""
    return _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(text))


def inline(text: str, limit: int | None = None) -> str:
    """Escape ``text`` for use inside a Markdown paragraph or table cell."""
    text = visible(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    text = text.replace("@", "@" + _ZWSP).replace("#", "#" + _ZWSP)
    # GitHub also links GH-123 and turns bare URLs / www. names into links.
    text = _AUTOLINKS.sub(lambda m: _ZWSP.join(g for g in m.groups() if g is not None), text)
    # A closing HTML comment can end covbot's own marker early; keep it broken.
    return text


def _defuse_marker(text: str) -> str:
    """Code keeps ``<!--`` literally; break it so PR text can never contain a comment
    marker (covbot finds its sticky comment by that marker)."""
    return text.replace("<!--", "<!\u200b--")


def code_span(text: str, limit: int | None = None) -> str:
    """A file name or test id as inline code, safe whatever characters it contains."""
    text = _defuse_marker(visible(text).replace("\r", " ").replace("\n", " "))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    # Inside a table a pipe ends the cell even in code; use an entity-free replacement.
    text = text.replace("|", "\u2502")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, lang: str = "", limit: int | None = None) -> str:
    text = _defuse_marker(visible(text))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    longest = max((len(m) for m in re.findall(r"`{3,}|~{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def html_text(text: str, limit: int | None = None) -> str:
    """Text for inside covbot's own HTML elements such as ``<summary>``.

    GitHub does not process Markdown inside an HTML block, so backslash escapes would
    show literally: here only ``&``, ``<`` and ``>`` become entities; ``@``, ``#`` and
    autolinks are broken as in :func:`inline`; ``|`` is shown as ``│`` as in
    :func:`code_span`; newlines collapse to spaces."""
    text = visible(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\u2502")
    text = text.replace("@", "@" + _ZWSP).replace("#", "#" + _ZWSP)
    return _AUTOLINKS.sub(lambda m: _ZWSP.join(g for g in m.groups() if g is not None), text)


def comment_safe(text: str) -> str:
    """Text inside an HTML comment must not contain ``--``."""
    return visible(text).replace("--", "- -").replace(">", "")


def mermaid_label(text: str, limit: int = 16) -> str:
    """A label for inside ``"..."`` in a Mermaid chart: letters, digits, space, ``._-``."""
    return _MERMAID_UNSAFE.sub("", str(text))[:limit] or "?"


def repo_path(path: str) -> str | None:
    """``path`` when it is a plain path inside the repository, fit for a link (relative,
    no ``.``/``..`` or empty segments, no backslash or control character), else None."""
    if not isinstance(path, str) or not path or len(path) > 1024 or path.startswith("/"):
        return None
    segments = path.split("/")
    if any(seg in ("", ".", "..") or not _PATH_SEGMENT.fullmatch(seg) or _INVISIBLE.search(seg)
           for seg in segments):
        return None
    return path
