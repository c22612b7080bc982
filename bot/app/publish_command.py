"""The fork-safe publisher's entry points: the Action on ``workflow_run`` and
``covbot publish``. Both validate the downloaded artifact and post it
(:mod:`bot.publish.artifact`), with the triggering run's head SHA, branch and pull
requests from the event. A pull request that moved on since the run is skipped with a
notice (exit 0): the run of its new head publishes its own report."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.app.settings import Context, make_client, parse_bool, read_input
from bot.model.errors import EXIT_PASSED, CovbotError, UsageError
from bot.publish import outputs
from bot.publish.artifact import Skipped, TriggeringRun, publish


def run_action(ctx, inputs: dict, *, token: str | None) -> int:
    """The action on ``workflow_run``: publish the downloaded artifact."""
    run = ctx.event.get("workflow_run") or {}
    head_sha = run.get("head_sha")
    if not head_sha:
        raise UsageError("the workflow_run event has no head_sha", "run the publisher on `workflow_run` events")
    report_dir = Path(inputs.get("report-dir") or "covbot-report")
    if not report_dir.is_absolute():
        report_dir = Path.cwd() / report_dir
    comment_id = inputs.get("comment-id") or "covbot"
    summary = ctx.env.get("GITHUB_STEP_SUMMARY")
    try:
        client = make_client(ctx, inputs, token)
        lines = publish(client, report_dir=report_dir, run=TriggeringRun.from_event(ctx.event, head_sha),
                        comment_id=comment_id, claimed_pr=None, server_url=ctx.server_url,
                        repository=ctx.repository or "", target_url=run.get("html_url") or ctx.run_url,
                        with_status=parse_bool(inputs.get("status"), "status", True))
    except Skipped as skip:
        print(f"covbot: {skip.message}", flush=True)
        outputs.write_summary(f"### covbot did not publish the report\n\n> ℹ️ {skip.message}\n", summary)
        return EXIT_PASSED
    except CovbotError as exc:   # a refused artifact (2) or an API failure (3)
        message = outputs.redact(str(exc), [token])
        print(f"covbot: error: {message}", file=sys.stderr)
        outputs.write_summary(f"### ⚠️ covbot could not publish the report\n\n```\n{message}\n```\n", summary)
        return exc.exit_code
    for line in lines:
        print(line, flush=True)
    outputs.write_summary("### covbot published the report\n\n" + "\n".join(f"- {x}" for x in lines) + "\n", summary)
    return EXIT_PASSED


def cmd_publish(args) -> int:
    """``covbot publish``: the same, from the command line (flags, then GITHUB_* variables)."""
    env = dict(os.environ)
    token = read_input("github-token", env) or env.get("GITHUB_TOKEN")
    outputs.mask(token) if env.get("GITHUB_ACTIONS") else None
    ctx = Context.from_env(env)
    run = ctx.event.get("workflow_run") or {}
    head_sha = args.head_sha or run.get("head_sha")
    if not head_sha:
        raise UsageError("covbot publish needs the triggering run's head commit",
                         "pass --head-sha (github.event.workflow_run.head_sha)")
    repository = args.repository or ctx.repository
    if repository:
        ctx.repository = repository
    try:
        client = make_client(ctx, {"comment-author": read_input("comment-author", env)}, token)
        lines = publish(client, report_dir=Path(args.report_dir), run=TriggeringRun.from_event(ctx.event, head_sha),
                        comment_id=args.comment_id or "covbot", claimed_pr=args.pr,
                        server_url=ctx.server_url, repository=repository or "",
                        target_url=run.get("html_url") or ctx.run_url)
    except Skipped as skip:
        print(f"covbot: {skip.message}")
        return EXIT_PASSED
    except CovbotError as exc:
        exc.message = outputs.redact(exc.message, [token])
        raise
    for line in lines:
        print(line)
    return EXIT_PASSED
