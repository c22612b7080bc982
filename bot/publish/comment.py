"""What covbot posts on a pull request: the sticky comment, then the commit status that a
branch protection rule can require (context ``covbot`` or ``covbot/<comment-id>``)."""

from __future__ import annotations

from bot.publish.github import PermissionDenied
from bot.render.format import clip, pct, signed


def status_context(comment_id: str) -> str:
    return "covbot" if comment_id in ("", "covbot") else f"covbot/{comment_id}"


def status_for(report) -> tuple[str, str]:
    """(state, description ≤ 140 characters) for the commit status."""
    if report is None:
        return "error", "covbot could not compute coverage; see the job summary"
    v = report.verdict
    bits = [f"Coverage {pct(report.totals.get('percent_covered'))}"]
    if report.delta is not None:
        bits[-1] += f" ({signed(report.delta)})"
    bits.append(f"diff {pct(report.diff.percent_covered)}")
    failed = [r.rule for r in v.reasons if r.status == "failed"]
    bits.append("gate passed" if v.passed else "gate failed: " + ", ".join(failed))
    return ("success" if v.passed else "failure"), clip(" · ".join(bits), 140)


def post(client, *, pr_number: int, head_sha: str | None, comment: str, report, comment_id: str,
         target_url: str | None, with_status: bool = True) -> list[str]:
    """Sticky comment, then the commit status. Returns lines for the summary."""
    res = client.upsert_comment(pr_number, comment, comment_id)
    lines = [f"covbot: comment {res.action} on #{pr_number}" + (f" ({res.url})" if res.url else "")]
    if res.deleted:
        lines.append(f"covbot: removed {res.deleted} duplicate comment(s)")
    if res.left:
        lines.append(f"covbot: {res.left} duplicate comment(s) could not be removed")
    if res.shortened:
        lines.append("covbot: GitHub refused the comment as too long; a shortened one was posted")
    if with_status and head_sha:
        state, description = status_for(report)
        try:
            client.set_status(head_sha, state=state, description=description,
                              context=status_context(comment_id), target_url=target_url)
        except PermissionDenied as exc:   # commented, but `statuses: write` is missing
            lines.append(f"covbot: the commit status was not posted: {exc.message}; "
                         "grant `permissions: statuses: write` (or set `status: false`)")
            return lines
        lines.append(f"covbot: status {status_context(comment_id)} = {state} on {head_sha[:12]}")
    return lines
