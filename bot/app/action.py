"""The GitHub Action: what the container runs (``python -m bot.app.action``).

It reads the action's inputs (``COVBOT_*`` names mapped in action.yml, or the runner's own
``INPUT_*`` names, hyphens included, which a shell cannot read), the ``GITHUB_*``
variables and the event payload, picks the activity from the event, and passes
everything explicitly to the stages:

=====================  ===============================================================
event                  activity
=====================  ===============================================================
``pull_request``       analyse, sticky comment, commit status, summary, annotations
``push`` (default)     analyse, summary, store the baseline on the data branch
``push`` (other)       analyse, summary
``workflow_run``       publish the report a (fork's) ``pull_request`` run uploaded
``workflow_dispatch``  analyse, summary
=====================  ===============================================================

On a pull request the settings are the merge-base's ``.covbot.yml`` (the PR's own file
is only compared with it). ``pull_request_target`` runs with a write token in the base's
context, so there covbot runs no command at all: it reports on ``coverage-files`` that an
unprivileged job produced, or refuses. What the commands print and what may carry
untrusted text is fenced from the runner's command parser (:mod:`bot.runs.joblog`), and
no command gets the token (:data:`bot.runs.collect.SECRET_VARIABLES`).

Exit statuses: 0 gate passed, 1 gate failed, 2 input error, 3 report written but
publishing failed. A read-only token (a fork's pull request) is not a failure: the
report is written for upload as an artifact, the summary says how to publish it, and the
gate alone decides the exit status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.app.dashboard_command import site_maker
from bot.app.pipeline import Options, print_errors, run_report
from bot.app.publish_command import run_action
from bot.app.settings import (
    Context,
    config_from_inputs,
    expand_files,
    make_client,
    parse_bool,
    read_inputs,
    split_list,
    workspace_root,
)
from bot.baseline.stored import save_from_report
from bot.model.errors import (
    EXIT_INPUT_ERROR,
    EXIT_PUBLISH_FAILED,
    CovbotError,
    InputError,
    PublishError,
    UsageError,
)
from bot.publish import outputs
from bot.publish.comment import post
from bot.publish.github import PermissionDenied
from bot.render.markdown import render_summary
from bot.runs.collect import SECRET_VARIABLES, child_environment, remove_scratch
from bot.runs.joblog import JobLog
from bot.runs.python import ensure_python as provision_python

FORK_HELP = """\
#### Why there is no PR comment

The token of this run cannot write to the pull request (a pull request from a fork gets
a read-only `GITHUB_TOKEN`). The report was written to `{report_dir}`; to publish it,
use the two-workflow setup:

1. in this `pull_request` workflow, upload the folder as an artifact:
   `actions/upload-artifact` with `name: covbot-report` and `path: {report_dir}`;
2. add a workflow on `workflow_run` (types: `completed`) of this workflow that downloads
   the artifact (`actions/download-artifact` with `run-id: ${{{{ github.event.workflow_run.id }}}}`)
   and runs this action again: it validates the report and posts it to the pull request
   whose head is the triggering run's commit, without checking out the PR's code.

See `examples/workflows/fork-safe-*.yml` in covbot's repository.
"""


def find_activity(ctx: Context) -> str:
    """``pull_request`` | ``push-default`` | ``push`` | ``publish`` | ``analyse``."""
    name = ctx.event_name
    if name in ("pull_request", "pull_request_target") and ctx.pull_request:
        return "pull_request"
    if name == "push":
        default = (ctx.event.get("repository") or {}).get("default_branch")
        if default and ctx.ref == f"refs/heads/{default}":
            return "push-default"
        return "push"
    if name == "workflow_run":
        return "publish"
    return "analyse"


# -- the activities ---------------------------------------------------------------------------

def main(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    inputs = read_inputs(env)
    token = inputs["github-token"]
    outputs.mask(token)
    keep_secrets(token)
    log = JobLog(fenced=True)
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    try:
        ctx = Context.from_env(env)
        activity = find_activity(ctx)
        print(f"covbot: event {ctx.event_name or 'none'} → {activity}", flush=True)
        if activity == "publish":
            return run_action(ctx, inputs, token=token)
        return analyse(ctx, inputs, activity=activity, token=token, log=log)
    except CovbotError as exc:
        message = outputs.redact(str(exc), [token])
        log.message(f"covbot: error: {message}")
        outputs.write_summary(f"### ⚠️ covbot failed\n\n```\n{message}\n```\n", summary_path)
        outputs.set_outputs({"verdict": "error"}, env.get("GITHUB_OUTPUT"))
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - one line in the log, not a traceback
        if env.get("COVBOT_DEBUG"):
            raise
        message = outputs.redact(f"{type(exc).__name__}: {exc}", [token])
        log.message(f"covbot: internal error: {message}\n  hint: this is a covbot bug; rerun with "
                    "COVBOT_DEBUG=1 for the traceback and report it")
        outputs.write_summary(f"### ⚠️ covbot failed (internal error)\n\n```\n{message}\n```\n", summary_path)
        return EXIT_INPUT_ERROR


#: Where covbot reads its token; after :func:`run` starts covbot again, through a pipe.
TOKEN_VARIABLES = ("COVBOT_GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN")
_SECRET_FD = "COVBOT_SECRET_FD"


def secret_variables(env: dict[str, str], token: str | None) -> set[str]:
    """The variables no command may see: :data:`SECRET_VARIABLES` and any holding the token."""
    return {name for name, value in env.items()
            if name in SECRET_VARIABLES or (token and len(token) >= 8 and token in value)}


def run() -> None:
    """The container's entry point: :func:`main` in a process started without secrets.

    What a process removes from its environment stays in its initial environment,
    which ``/proc/<pid>/environ`` shows to every process of the same user, the project's
    tests included. So covbot starts itself once more, without the secret variables,
    and hands its token to the new process through a pipe."""
    env = dict(os.environ)
    fd = env.pop(_SECRET_FD, None)
    if fd is not None:
        os.environ.pop(_SECRET_FD, None)
        with os.fdopen(int(fd), "rb") as fh:
            env.update(json.loads(fh.read() or b"{}"))
    else:
        secret = secret_variables(env, read_inputs(env)["github-token"])
        handed = json.dumps({k: env[k] for k in TOKEN_VARIABLES if k in env}).encode()
        if secret and hasattr(sys, "orig_argv") and len(handed) < 16384:   # a pipe holds that much
            read_fd, write_fd = os.pipe()
            os.write(write_fd, handed)
            os.close(write_fd)
            os.set_inheritable(read_fd, True)
            clean = {k: v for k, v in env.items() if k not in secret}
            clean[_SECRET_FD] = str(read_fd)
            sys.stdout.flush()
            sys.stderr.flush()
            os.execve(sys.executable, sys.orig_argv, clean)
    raise SystemExit(main(env))


def keep_secrets(token: str | None) -> None:
    """Nothing covbot starts gets the token: the variables that hold it (or the runner's
    credentials) leave this process's environment (:func:`run` started it without
    them), and the process is made undumpable, so a command running as the same user
    cannot read its memory (``/proc/<pid>/mem``; root needs CAP_SYS_PTRACE, which a
    container does not have by default)."""
    for name in secret_variables(dict(os.environ), token):
        del os.environ[name]
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):   # not Linux: the environment is still clean
        pass


def ensure_python(version: str | None, env: dict) -> dict:
    """Make ``python`` on PATH the requested version (see bot.runs.python); returns env changes."""
    if not version:
        return {}
    return provision_python(version, child_environment(env))


def run_install(command: str | None, cwd: Path, log: JobLog) -> None:
    if not command:
        return
    log.message(f"covbot: installing: {command}")
    with log.child_output() as output:
        proc = subprocess.run(command, shell=True, cwd=cwd, env=child_environment(), stdin=subprocess.DEVNULL,
                              stdout=output, stderr=output)
    if proc.returncode != 0:
        raise InputError(f"install-command `{command}` exited with status {proc.returncode}",
                         "fix the command (it runs in the working directory) or install in an earlier step")


def analyse(ctx: Context, inputs: dict, *, activity: str, token: str | None, log: JobLog) -> int:
    cwd = Path.cwd()
    root = workspace_root(cwd)
    pr = ctx.pull_request
    head_sha = head_ref = base_ref = None
    pr_number = None
    if activity == "pull_request":
        head_sha = (pr.get("head") or {}).get("sha")
        head_ref = (pr.get("head") or {}).get("ref")
        base_ref = (pr.get("base") or {}).get("ref")
        pr_number = pr.get("number")
    elif activity in ("push", "push-default"):
        head_ref = (ctx.ref or "").removeprefix("refs/heads/") or None
    cfg = config_from_inputs(inputs, root, base=base_ref, from_base=activity == "pull_request")
    coverage_files = expand_files(split_list(inputs["coverage-files"]), cwd)
    junit_files = expand_files(split_list(inputs["junit-files"]), cwd)
    if ctx.event_name == "pull_request_target":
        cfg = no_commands(cfg, coverage_files)
    os.environ.update(ensure_python(inputs["python-version"], ctx.env))
    if not coverage_files:
        run_install(cfg.install_command, cwd, log)
    out_dir = Path(inputs["output-dir"] or ".covbot")
    if not out_dir.is_absolute():
        out_dir = root / out_dir
    opts = Options(config=cfg, root=root, output_dir=out_dir, no_run=bool(coverage_files),
                   coverage_files=coverage_files, junit_files=junit_files, head_sha=head_sha,
                   head_ref=head_ref, pr_number=pr_number, log=log, keep_work=activity == "push-default",
                   links={"server_url": ctx.server_url, "repository": ctx.repository, "run_url": ctx.run_url,
                          "html_report_url": inputs["html-report-url"]})   # the footer's pointer to html/
    outcome = run_report(opts)
    report = outcome.report
    log.untrusted(outcome.comment)
    print_errors(outcome.errors, log)

    summary = _summary(report, outcome, cfg)
    notes: list[str] = []
    code = outcome.exit_code
    try:
        outputs.set_outputs(outputs.report_outputs(report, outcome.paths, error=bool(outcome.errors)),
                            ctx.env.get("GITHUB_OUTPUT"))
        if report is not None and cfg.annotate:
            prefix = _annotation_prefix(root, ctx.workspace)
            for line in outputs.annotation_commands(report, prefix=prefix):
                print(line, flush=True)
        if activity == "pull_request" and pr_number:
            code = _publish_pr(ctx, inputs, cfg, token=token, pr_number=int(pr_number),
                               head_sha=head_sha or ctx.sha, outcome=outcome, notes=notes, log=log)
        elif activity == "push-default" and report is not None:
            _store_baseline(root, cfg, outcome, notes,
                            site=site_maker(cfg, root=root, outcome=outcome, env=ctx.env, token=token))
    finally:
        remove_scratch(outcome.work)   # kept for the push's dashboard
        text = summary + ("\n" + "\n".join(notes) if notes else "")
        full = os.path.relpath(outcome.paths["report"], ctx.workspace or cwd) if outcome.paths else "report.json"
        outputs.write_summary(outputs.redact(text, [token]), ctx.env.get("GITHUB_STEP_SUMMARY"), full=full)
    return code


def no_commands(cfg, coverage_files: list[str]):
    """On ``pull_request_target`` the job has a write token and the base's secrets, and
    the checkout may be the pull request's: covbot runs no command there (no tests, no
    install command, no rerun of the base or of failures), it only reports on files."""
    where = "examples/workflows/fork-safe-pr.yml and fork-safe-publish.yml"
    if not coverage_files:
        raise UsageError("on pull_request_target covbot does not run tests: the job has a write token, and "
                         "running the pull request's code there would hand it that token",
                         "run the tests in an unprivileged pull_request workflow and publish its report with a "
                         f"workflow_run one ({where}), or give coverage-files produced without the token")
    if cfg.baseline == "rerun":
        raise UsageError("on pull_request_target covbot does not rerun the tests on the merge-base (baseline: rerun)",
                         "use `baseline: auto` (the stored baseline of the data branch) or `baseline: none`")
    return cfg.with_overrides(baseline_fallback="none", rerun_failures=False)


def _summary(report, outcome, cfg) -> str:
    if report is None:
        return outcome.comment
    return render_summary(report, comment_id=cfg.comment_id) + outputs.uncovered_section(report)


def _annotation_prefix(root: Path, workspace: Path | None) -> str:
    """Annotation paths are relative to the workspace; the report's to the repository root."""
    if workspace is None:
        return ""
    try:
        rel = root.resolve().relative_to(workspace.resolve())
    except ValueError:
        return ""
    return "" if str(rel) == "." else f"{rel.as_posix()}/"


def _publish_pr(ctx: Context, inputs: dict, cfg, *, token: str | None, pr_number: int,
                head_sha: str | None, outcome, notes: list[str], log: JobLog) -> int:
    code = outcome.exit_code
    if not token:
        notes.append("> ℹ️ No `github-token` input: the comment and the status were not posted.")
        return code
    with_status = parse_bool(inputs.get("status"), "status", True)
    try:
        client = make_client(ctx, inputs, token)
        for line in post(client, pr_number=pr_number, head_sha=head_sha, comment=outcome.comment,
                         report=outcome.report, comment_id=cfg.comment_id, target_url=ctx.run_url,
                         with_status=with_status):
            print(line, flush=True)
    except PermissionDenied as exc:
        log.untrusted(f"covbot: {outputs.redact(exc.message, [token])}; the report is in "
                      f"{outcome.paths['report'].parent}")
        report_dir = os.path.relpath(outcome.paths["report"].parent, ctx.workspace or Path.cwd())
        notes.append(FORK_HELP.format(report_dir=report_dir))
        return code
    except PublishError as exc:
        message = outputs.redact(str(exc), [token])
        log.message(f"covbot: error: {message}")
        notes.append(f"> ⚠️ The report was computed but publishing it failed: {message}")
        return code if code == EXIT_INPUT_ERROR else EXIT_PUBLISH_FAILED
    return code


def _store_baseline(root: Path, cfg, outcome, notes: list[str], site=None) -> None:
    """On the default branch, keep the report's baseline.json for later PRs (and the dashboard)."""
    try:
        save_from_report(root=root, config=cfg, report_path=outcome.paths["report"], site=site)
        notes.append("covbot: baseline stored for this commit")
    except CovbotError as exc:
        notes.append(f"> ⚠️ Storing the baseline failed: {exc.message}")


if __name__ == "__main__":
    run()
