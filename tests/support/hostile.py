"""Text from a pull request chosen to break a Markdown comment: raw HTML, covbot's own
marker, mentions, issue references, table cells, backtick runs and fences, links,
images, headings, entities, control characters, non-ASCII and a very long name."""

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<!-- covbot:comment-id=covbot -->",
    "--> <b>closed the marker</b>",
    "</details><details open><summary>x</summary>",
    "@octocat and @acme/security-team please look",
    "fixes #123, GH-7 and acme/widgets#42",
    "| fake | table | cells |",
    "a`b``c```d",
    "```\n# heading from a fence\n```",
    "~~~\nstill fenced?\n~~~",
    "[click](https://evil.example/x) ![img](https://evil.example/i.png)",
    "https://evil.example/auto",
    "**bold** _em_ ~~strike~~ <u>u</u>",
    "line one\n# Heading injected\n- list item\n> quote\n---",
    "\\| escaped pipe \\`",
    "&lt;already&gt; &amp; entities &#64;octocat",
    "name with\ttab\rcarriage\x00nul",
    "ünïcödé — 名前 🎉",
    "x" * 3000,
]
