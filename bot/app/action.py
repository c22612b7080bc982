"""The GitHub Action: what the container runs (``python -m bot.app.action``).

It reads the action's inputs (``COVBOT_*`` names mapped in action.yml, or the runner's own
``INPUT_*`` names, hyphens included, which a shell cannot read), the ``GITHUB_*``
variables and the event payload, picks the activity from the event, and passes
everything explicitly to the stages:

=====================  ===============================================================
event                  activity
=====================  ===============================================================
``pull_request``       analyse, sticky comment, commit status, summary, annotations
``push`` (default)     analyse, summary (and store the baseline when ``bot.baseline.store`` exists)
``push`` (other)       analyse, summary
``workflow_run``       publish the report a (fork's) ``pull_request`` run uploaded
``workflow_dispatch``  analyse, summary
=====================  ===============================================================

Exit statuses: 0 gate passed, 1 gate failed, 2 input error, 3 report written but
publishing failed. A read-only token (a fork's pull request) is not a failure: the
report is written for upload as an artifact, the summary says how to publish it, and the
gate alone decides the exit status.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.publish import outputs
from bot.model.errors import (EXIT_INPUT_ERROR, EXIT_PUBLISH_FAILED, CovbotError, InputError,
                        PublishError, UsageError)

INPUTS = ("github-token", "base", "test-command", "install-command", "working-directory",
          "coverage-files", "junit-files", "config", "comment-id", "fail-on", "annotate", "baseline",
          "python-version", "timeout", "output-dir", "report-dir", "comment-author", "status")

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


# -- inputs and context ---------------------------------------------------------------------

def read_input(name: str, env: dict[str, str]) -> str | None:
    """An action input by its hyphenated name; empty means unset."""
    under = name.upper().replace("-", "_")
    for key in (f"COVBOT_{under}", f"INPUT_{name.upper()}", f"INPUT_{under}"):
        value = env.get(key)
        if value is not None and value.strip() != "":
            return value.strip()
    return None


def read_inputs(env: dict[str, str]) -> dict[str, str | None]:
    return {name: read_input(name, env) for name in INPUTS}


def parse_bool(value: str | None, name: str, default: bool) -> bool:
    if value is None:
        return default
    v = value.strip().lower()
    if v in ("true", "yes", "1", "on"):
        return True
    if v in ("false", "no", "0", "off"):
        return False
    raise UsageError(f"input {name}: {value!r} is not true or false", f"set `{name}: true` or `{name}: false`")


def split_list(value: str | None) -> list[str]:
    if not value:
        return []
    out = []
    for line in value.replace(",", "\n").splitlines():
        if line.strip():
            out.append(line.strip())
    return out


def expand_files(patterns: list[str], cwd: Path) -> list[str]:
    """Glob patterns (``coverage-*.xml``, ``shards/**/.coverage.*``) relative to ``cwd``."""
    out: list[str] = []
    for pat in patterns:
        full = pat if os.path.isabs(pat) else str(cwd / pat)
        if glob.has_magic(pat):
            matches = sorted(glob.glob(full, recursive=True, include_hidden=True))
            if not matches:
                raise InputError(f"coverage-files/junit-files: pattern {pat!r} matches no file in {cwd}",
                                 "check the artifact download path and the working-directory input")
            out.extend(m for m in matches if os.path.isfile(m))
        else:
            out.append(full)
    return out


@dataclass
class Context:
    event_name: str
    event: dict
    repository: str | None
    api_url: str
    server_url: str
    run_id: str | None
    sha: str | None
    ref: str | None
    workspace: Path | None
    env: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "Context":
        event: dict = {}
        path = env.get("GITHUB_EVENT_PATH")
        if path:
            try:
                event = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"GITHUB_EVENT_PATH {path}: cannot read the event payload ({exc})",
                                 "run covbot as a step of a GitHub Actions workflow") from None
        return cls(event_name=env.get("GITHUB_EVENT_NAME", ""), event=event if isinstance(event, dict) else {},
                   repository=env.get("GITHUB_REPOSITORY"),
                   api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
                   server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
                   run_id=env.get("GITHUB_RUN_ID"), sha=env.get("GITHUB_SHA"), ref=env.get("GITHUB_REF"),
                   workspace=Path(env["GITHUB_WORKSPACE"]) if env.get("GITHUB_WORKSPACE") else None, env=env)

    @property
    def run_url(self) -> str | None:
        if self.repository and self.run_id:
            return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"
        return None

    @property
    def pull_request(self) -> dict:
        pr = self.event.get("pull_request")
        return pr if isinstance(pr, dict) else {}


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
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    try:
        ctx = Context.from_env(env)
        activity = find_activity(ctx)
        print(f"covbot: event {ctx.event_name or 'none'} → {activity}", flush=True)
        if activity == "publish":
            from bot.publish import artifact as publish

            return publish.run_action(ctx, inputs, token=token)
        return analyse(ctx, inputs, activity=activity, token=token)
    except CovbotError as exc:
        message = outputs.redact(str(exc), [token])
        print(f"covbot: error: {message}", file=sys.stderr)
        outputs.write_summary(f"### ⚠️ covbot failed\n\n```\n{message}\n```\n", summary_path)
        outputs.set_outputs({"verdict": "error"}, env.get("GITHUB_OUTPUT"))
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - one line in the log, not a traceback
        if env.get("COVBOT_DEBUG"):
            raise
        message = outputs.redact(f"{type(exc).__name__}: {exc}", [token])
        print(f"covbot: internal error: {message}\n  hint: this is a covbot bug; rerun with "
              "COVBOT_DEBUG=1 for the traceback and report it", file=sys.stderr)
        outputs.write_summary(f"### ⚠️ covbot failed (internal error)\n\n```\n{message}\n```\n", summary_path)
        return EXIT_INPUT_ERROR


def _config(inputs: dict, root: Path, *, base: str | None):
    from bot.model.config import load_config, parse_gate_list

    cfg = load_config(inputs["config"], root)
    timeout = None
    if inputs["timeout"]:
        try:
            timeout = float(inputs["timeout"])
        except ValueError:
            raise UsageError(f"input timeout: {inputs['timeout']!r} is not a number of seconds",
                             "set e.g. `timeout: 600`") from None
    overrides = {"base": inputs["base"] or base, "test_command": inputs["test-command"],
                 "install_command": inputs["install-command"], "timeout": timeout,
                 "baseline": inputs["baseline"], "comment_id": inputs["comment-id"]}
    if not inputs["baseline"] and "baseline" not in cfg.explicit:
        # In the Action the stored baseline of the data branch is the default (no second
        # test run); a PR whose base has none yet falls back to testing the merge-base.
        overrides["baseline"] = "auto"
        if "baseline_fallback" not in cfg.explicit:
            overrides["baseline_fallback"] = "rerun"
    if inputs["fail-on"]:
        overrides["gate"] = parse_gate_list(inputs["fail-on"])
    if inputs["annotate"] is not None:
        overrides["annotate"] = parse_bool(inputs["annotate"], "annotate", True)
    return cfg.with_overrides(**overrides)


def _root(cwd: Path) -> Path:
    from bot.runs.git import Git

    try:
        return Git(cwd).toplevel()
    except CovbotError as exc:
        raise InputError(f"{cwd} is not a git checkout ({exc.message})",
                         "add `actions/checkout` with `fetch-depth: 0` before covbot, or set working-directory") from None


def ensure_python(version: str | None, env: dict) -> dict:
    """Make ``python`` on PATH the requested version (see bot.runs.python); returns env changes."""
    if not version:
        return {}
    from bot.runs.python import ensure_python as _ensure

    return _ensure(version, env)


def run_install(command: str | None, cwd: Path) -> None:
    if not command:
        return
    print(f"covbot: installing: {command}", flush=True)
    proc = subprocess.run(command, shell=True, cwd=cwd)
    if proc.returncode != 0:
        raise InputError(f"install-command `{command}` exited with status {proc.returncode}",
                         "fix the command (it runs in the working directory) or install in an earlier step")


def analyse(ctx: Context, inputs: dict, *, activity: str, token: str | None) -> int:
    from bot.app.pipeline import Options, print_errors, run_report

    cwd = Path.cwd()
    root = _root(cwd)
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
    cfg = _config(inputs, root, base=base_ref)
    os.environ.update(ensure_python(inputs["python-version"], ctx.env))
    coverage_files = expand_files(split_list(inputs["coverage-files"]), cwd)
    junit_files = expand_files(split_list(inputs["junit-files"]), cwd)
    if not coverage_files:
        run_install(cfg.install_command, cwd)
    out_dir = Path(inputs["output-dir"] or ".covbot")
    if not out_dir.is_absolute():
        out_dir = root / out_dir
    opts = Options(config=cfg, root=root, output_dir=out_dir, no_run=bool(coverage_files),
                   coverage_files=coverage_files, junit_files=junit_files, head_sha=head_sha,
                   head_ref=head_ref, pr_number=pr_number,
                   links={"server_url": ctx.server_url, "repository": ctx.repository})
    outcome = run_report(opts)
    report = outcome.report
    print(outcome.comment, flush=True)
    print_errors(outcome.errors)

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
                               head_sha=head_sha or ctx.sha, outcome=outcome, notes=notes)
        elif activity == "push-default" and report is not None:
            _store_baseline(root, cfg, outcome, notes)
    finally:
        text = summary + ("\n" + "\n".join(notes) if notes else "")
        outputs.write_summary(outputs.redact(text, [token]), ctx.env.get("GITHUB_STEP_SUMMARY"))
    return code


def _summary(report, outcome, cfg) -> str:
    if report is None:
        return outcome.comment
    from bot.render.markdown import render_summary

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


def status_context(comment_id: str) -> str:
    return "covbot" if comment_id in ("", "covbot") else f"covbot/{comment_id}"


def status_for(report) -> tuple[str, str]:
    """(state, description ≤ 140 characters) for the commit status."""
    from bot.render.format import pct, signed

    if report is None:
        return "error", "covbot could not compute coverage; see the job summary"
    v = report.verdict
    bits = [f"Coverage {pct(report.totals.get('percent_covered'))}"]
    if report.delta is not None:
        bits[-1] += f" ({signed(report.delta)})"
    bits.append(f"diff {pct(report.diff.percent_covered)}")
    failed = [r.rule for r in v.reasons if r.status == "failed"]
    bits.append("gate passed" if v.passed else "gate failed: " + ", ".join(failed))
    from bot.publish.github import clip

    return ("success" if v.passed else "failure"), clip(" · ".join(bits), 140)


def make_client(ctx: Context, inputs: dict, token: str | None):
    from bot.publish.github import GitHubClient

    env = ctx.env
    return GitHubClient(token or "", ctx.repository or "", api_url=ctx.api_url,
                        comment_author=inputs.get("comment-author"),
                        max_attempts=int(env.get("COVBOT_API_ATTEMPTS", "4")),
                        max_wait=float(env.get("COVBOT_API_MAX_WAIT", "60")),
                        backoff=float(env.get("COVBOT_API_BACKOFF", "1")),
                        timeout=float(env.get("COVBOT_API_TIMEOUT", "20")),
                        write_delay=float(env.get("COVBOT_API_WRITE_DELAY", "1")))


def post(client, *, pr_number: int, head_sha: str | None, comment: str, report, comment_id: str,
         target_url: str | None, with_status: bool = True) -> list[str]:
    """Sticky comment, then the commit status. Returns lines for the summary."""
    res = client.upsert_comment(pr_number, comment, comment_id)
    lines = [f"covbot: comment {res.action} on #{pr_number}" + (f" ({res.url})" if res.url else "")]
    if res.deleted:
        lines.append(f"covbot: removed {res.deleted} duplicate comment(s)")
    if res.shortened:
        lines.append("covbot: GitHub refused the comment as too long; a shortened one was posted")
    if with_status and head_sha:
        from bot.publish.github import PermissionDenied

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


def _publish_pr(ctx: Context, inputs: dict, cfg, *, token: str | None, pr_number: int,
                head_sha: str | None, outcome, notes: list[str]) -> int:
    from bot.publish.github import PermissionDenied

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
        print(f"covbot: {outputs.redact(exc.message, [token])}; the report is in {outcome.paths['report'].parent}",
              flush=True)
        report_dir = os.path.relpath(outcome.paths["report"].parent, ctx.workspace or Path.cwd())
        notes.append(FORK_HELP.format(report_dir=report_dir))
        return code
    except PublishError as exc:
        message = outputs.redact(str(exc), [token])
        print(f"covbot: error: {message}", file=sys.stderr, flush=True)
        notes.append(f"> ⚠️ The report was computed but publishing it failed: {message}")
        return code if code == EXIT_INPUT_ERROR else EXIT_PUBLISH_FAILED
    return code


def _store_baseline(root: Path, cfg, outcome, notes: list[str]) -> None:
    """On the default branch, keep the baseline for later PRs (when storage is available)."""
    try:
        from bot.baseline import store
    except ImportError:
        return
    hook = getattr(store, "save_from_report", None)
    try:
        if hook is not None:
            hook(root=root, config=cfg, report_path=outcome.paths["report"])
        else:
            import argparse

            store.cmd_save(argparse.Namespace(no_run=True, coverage_file=[], junit=[], test_command=None,
                                              timeout=None, config=None, repo=str(root), remote="origin",
                                              data_branch=cfg.data_branch, output_dir=str(outcome.paths["report"].parent)))
        notes.append("covbot: baseline stored for this commit")
    except CovbotError as exc:
        notes.append(f"> ⚠️ Storing the baseline failed: {exc.message}")


if __name__ == "__main__":
    raise SystemExit(main())
