"""The comment of a run that could not compute coverage."""

from __future__ import annotations

from bot.model.errors import CovbotError
from bot.render import escape
from bot.render.format import count
from bot.render.markdown import marker


def error_comment(errors: list[CovbotError], comment_id: str, tests: dict | None = None) -> str:
    """The comment when no coverage could be computed: each error with what to do, and the
    test results that could still be read."""
    lines = [marker(comment_id), "### ⚠️ covbot could not compute coverage", ""]
    for e in errors:
        lines.append(f"- {escape.inline(e.message, limit=2000)}")
        if e.hint:
            lines.append(f"  - what to do: {escape.inline(e.hint, limit=1000)}")
    if tests and tests.get("total"):
        lines += ["", f"Tests: {count(tests['total'])} run, {count(tests['passed'])} passed, "
                      f"{count(tests['failed'])} failed, {count(tests['errors'])} errors, "
                      f"{count(tests['skipped'])} skipped (details in report.json)."]
        failures = tests.get("failures") or []
        for f in failures[:10]:
            lines.append(f"- {escape.code_span(f['id'], limit=150)}: {escape.inline(f.get('message') or '', limit=200)}")
        if len(failures) > 10:
            lines.append(f"- … {len(failures) - 10} more in report.json")
    return "\n".join(lines) + "\n"
