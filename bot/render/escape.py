"""Make text from a pull request inert in Markdown: no HTML, no structure, no pings.

File names, test names and failure messages come from the PR and may be hostile. In
table cells and inline text every Markdown metacharacter is backslash-escaped, ``<``,
``>`` and ``&`` become entities, ``@`` and ``#`` get a zero-width space so they cannot
mention a user/team or link an issue, and newlines collapse to spaces. Code blocks use
a fence longer than any backtick run inside them.
"""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~!$])")
_LINE_START = re.compile(r"^(\s*)([-+>=]|\d+[.)])")
_ZWSP = "\u200b"
_AUTOLINKS = re.compile(r"(?i)\b(GH)(-)(?=\d)|(:)(//)|\b(www)(\.)")


def inline(text: str, limit: int | None = None) -> str:
    """Escape ``text`` for use inside a Markdown paragraph or table cell."""
    text = str(text)
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
    text = _defuse_marker(str(text).replace("\r", " ").replace("\n", " "))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    # Inside a table a pipe ends the cell even in code; use an entity-free replacement.
    text = text.replace("|", "\u2502")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, lang: str = "", limit: int | None = None) -> str:
    text = _defuse_marker(str(text))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    longest = max((len(m) for m in re.findall(r"`{3,}|~{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def html_text(text: str) -> str:
    """Text for inside an HTML element such as <summary>."""
    return inline(text)


def comment_safe(text: str) -> str:
    """Text inside an HTML comment must not contain ``--``."""
    return str(text).replace("--", "- -").replace(">", "")
