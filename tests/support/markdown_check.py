"""Structural checks on a rendered comment: is everything from the pull request inert?

Parses the Markdown with markdown-it-py (CommonMark + GFM tables, as GitHub renders
comments) and fails on anything PR text could have created: raw HTML, links, images,
mentions, issue references, autolinked URLs, headings, rules, extra table cells and
code fences that do not close.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"

# -- checking markdown --------------------------------------------------------------------

ALLOWED_HTML = re.compile(r"^\s*</?(details|summary|sub|br)\b[^<>]*>\s*$|^<!-- covbot:comment-id=[\w.-]+ -->\s*$")
MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9][\w-]*(/[\w-]+)?")
ISSUE = re.compile(r"(?<![\w&])#\d|\bGH-\d|\b[\w.-]+/[\w.-]+#\d", re.IGNORECASE)


def _md():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").enable("strikethrough")


def walk(tokens):
    """Every token of ``tokens``, the inline children included."""
    for t in tokens:
        yield t
        if t.children:
            yield from walk(t.children)


def check_inert(comment: str, *, link_prefix: str | None = None) -> list:
    """Structural checks; returns the tokens for further assertions."""
    tokens = _md().parse(comment)
    body_lines = comment.split("\n")
    # 1. HTML: only covbot's own elements and its marker, never anything from the PR.
    for t in walk(tokens):
        if t.type in ("html_block", "html_inline"):
            for piece in re.findall(r"<!--.*?-->|<[^>]*>", t.content, flags=re.S) or [t.content]:
                assert ALLOWED_HTML.match(piece), f"raw HTML from the PR: {piece!r}"
    assert comment.count("<!-- covbot:comment-id=") == 1
    # 2. Links and images: only covbot's own line links, never from PR text.
    for t in walk(tokens):
        if t.type == "image":
            raise AssertionError(f"image in the comment: {t.attrs}")
        if t.type == "link_open":
            href = t.attrs.get("href", "")
            assert link_prefix and href.startswith(link_prefix), f"unexpected link {href!r}"
    # 3. Text GitHub would turn into a mention or an issue link (code is never linked).
    for t in walk(tokens):
        if t.type == "text":
            assert not MENTION.search(t.content), f"mention survives: {t.content!r}"
            assert not ISSUE.search(t.content), f"issue reference survives: {t.content!r}"
            assert not re.search(r"://|\bwww\.", t.content), f"bare URL would be linked: {t.content!r}"
    # 4. Headings, lists, quotes, rules: only covbot's own.
    for t in tokens:
        if t.type == "heading_open":
            inline = tokens[tokens.index(t) + 1].content
            assert not re.search(r"injected|heading from|octocat|evil|script|fake", inline, re.I), \
                f"heading made from PR text: {inline!r}"
        if t.type == "hr":
            raise AssertionError("a thematic break from PR text")
    # 5. Tables: every row has exactly the header's number of cells.
    table = None
    for line in body_lines:
        if line.startswith("|"):
            cells = _cells(line)
            if table is None:
                table = cells
            else:
                assert cells == table, f"row has {cells} cells, header {table}: {line[:300]!r}"
        else:
            table = None
    # 6. Fences: balanced, and PR text never closes one early.
    for t in tokens:
        if t.type == "fence":   # an unclosed fence runs to the end of the document
            closing = body_lines[t.map[1] - 1].strip()
            assert closing and set(closing) == {t.markup[0]} and len(closing) >= len(t.markup), \
                f"code fence opened at line {t.map[0] + 1} is never closed"
    return tokens


def _cells(row: str) -> int:
    """GFM cell count: unescaped pipes (inside code spans too, as GFM does)."""
    count = 0
    i = 0
    while i < len(row):
        if row[i] == "\\":
            i += 2
            continue
        if row[i] == "|":
            count += 1
        i += 1
    return count - 1


