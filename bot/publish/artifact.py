"""The fork-safe half: post a report that an untrusted run produced, as an artifact.

A pull request from a fork runs with a read-only token, so its ``pull_request`` workflow
only computes the report and uploads it as an artifact. A ``workflow_run`` workflow
(trusted code, never the PR's) downloads it and runs this. The artifact is hostile:

- sizes are limited and links refused (a symlink could point at the runner's files);
- ``report.json`` is validated against the one schema of report.json that its writer
  follows (:mod:`bot.model.report_schema`: every key typed, numbers in range, SHAs
  hexadecimal, unknown keys dropped) and the comment is re-rendered from it
  (``comment.md`` in the artifact is ignored), so every PR-controlled string goes through
  the same escaping as in a normal run, and links are rebuilt from trusted values;
- the pull request is the open one whose head commit is the triggering run's head SHA
  (``workflow_run.head_sha`` from the event, not from the artifact), found in a few
  requests; an artifact naming another pull request, or made for another commit, is
  refused; a pull request that moved on since the run (or was closed) is skipped with a
  notice: the run of its new head publishes the new report.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from bot.model import report_schema
from bot.model.errors import CovbotError, InputError, UsageError
from bot.model.report import report_from_dict
from bot.publish.comment import post
from bot.publish.github import NotFound, PullInfo
from bot.render.error import error_comment
from bot.render.markdown import render_comment

MAX_REPORT_BYTES = 10 * 1024 * 1024
MAX_ARTIFACT_BYTES = 50 * 1024 * 1024
MAX_ARTIFACT_FILES = 200
_HEX = set("0123456789abcdef")


# -- the artifact ------------------------------------------------------------------------------

def read_artifact(report_dir: Path) -> dict:
    """Size-checked, link-free ``report.json`` from ``report_dir``, parsed."""
    where = f"report folder {report_dir}"
    try:
        st = os.lstat(report_dir)
    except OSError:
        raise InputError(f"{where} does not exist",
                         "download the artifact first (actions/download-artifact) and pass its path as report-dir") from None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{where} is not a plain directory", "pass the folder the artifact was downloaded to")
    total, count = 0, 0
    for dirpath, dirnames, filenames in os.walk(report_dir):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            s = os.lstat(p)
            if stat.S_ISLNK(s.st_mode):
                raise InputError(f"{where}: {os.path.relpath(p, report_dir)} is a symbolic link; refused",
                                 "the artifact must contain plain files only (report.json, comment.md)")
            if stat.S_ISREG(s.st_mode):
                total += s.st_size
                count += 1
        if total > MAX_ARTIFACT_BYTES or count > MAX_ARTIFACT_FILES:
            raise InputError(f"{where} is too large ({count} files, {total} bytes; limits "
                             f"{MAX_ARTIFACT_FILES} files, {MAX_ARTIFACT_BYTES} bytes)",
                             "upload only covbot's report folder")
    path = report_dir / "report.json"
    try:
        s = os.lstat(path)
    except OSError:
        raise InputError(f"{path}: missing", "upload the whole covbot report folder (report.json and comment.md)") from None
    if not stat.S_ISREG(s.st_mode):
        raise InputError(f"{path}: not a regular file; refused")
    if s.st_size > MAX_REPORT_BYTES:
        raise InputError(f"{path}: {s.st_size} bytes, more than the {MAX_REPORT_BYTES} allowed")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))   # swapped for a link meanwhile: refused
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); refused") from None
    if len(data) > MAX_REPORT_BYTES:
        raise InputError(f"{path}: more than the {MAX_REPORT_BYTES} bytes allowed")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})", "upload the report.json covbot wrote") from None
    return doc


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate_report(doc) -> dict:
    """``doc`` checked against report.json's one schema (:mod:`bot.model.report_schema`),
    unknown keys dropped; InputError naming the first place that does not fit."""
    try:
        return report_schema.validate(doc)
    except report_schema.SchemaError as exc:
        raise InputError(f"report.json does not match covbot's report schema: {exc}",
                         "the artifact was not written by covbot report (or was tampered with); refused") from None


def render_from_artifact(doc: dict, *, comment_id: str, links: dict):
    """``(report or None, comment)``: the comment re-rendered from validated data."""
    if doc.get("error"):
        errs = [CovbotError(e["message"], e.get("hint")) for e in doc["errors"]]
        return None, error_comment(errs, comment_id)
    try:
        report = report_from_dict(doc)
        report.links = dict(links)
        return report, render_comment(report, comment_id=comment_id)
    except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
        raise InputError(f"report.json does not match covbot's report schema (rendering it failed: "
                         f"{type(exc).__name__}: {exc})", "the artifact was not written by this covbot version; refused") from None


# -- choosing the pull request -----------------------------------------------------------------

class Skipped(Exception):
    """Nothing to publish, and rightly so: the pull request moved on or was closed since the
    run (a newer run publishes its own report). Not an error: a notice, exit 0."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TriggeringRun:
    """What the triggering ``workflow_run`` says about itself. GitHub writes the event, so
    this is trusted, unlike the artifact: its head commit, the pull requests GitHub
    associates with it (empty for a fork's), and the branch it ran on."""

    head_sha: str
    pull_numbers: tuple[int, ...] = ()
    head_repo: str | None = None       # owner/name of the branch's repository (a fork's)
    head_branch: str | None = None

    @classmethod
    def from_event(cls, event: dict, head_sha: str) -> "TriggeringRun":
        run = event.get("workflow_run") if isinstance(event.get("workflow_run"), dict) else {}
        prs = run.get("pull_requests") if isinstance(run.get("pull_requests"), list) else []
        numbers = tuple(p["number"] for p in prs if isinstance(p, dict) and _is_int(p.get("number")))
        repo = run.get("head_repository") if isinstance(run.get("head_repository"), dict) else {}
        full = repo.get("full_name") if isinstance(repo.get("full_name"), str) and "/" in repo["full_name"] else None
        branch = run.get("head_branch") if isinstance(run.get("head_branch"), str) and run["head_branch"] else None
        return cls(head_sha, numbers[:MAX_EVENT_PULLS], full, branch if full else None)

    def ran_on(self, pull: PullInfo) -> bool:
        """Whether the run was on this pull request's branch (of the same repository)."""
        return bool(self.head_branch) and pull.head_ref == self.head_branch and pull.head_repo == self.head_repo


MAX_EVENT_PULLS = 5


def choose_pull(client, *, run: TriggeringRun, claimed: int | None) -> int:
    """The open PR whose head is the run's head commit, found in a few requests: the PR the
    report names (checked), the event's ``pull_requests``, the PRs of the run's branch, or
    the PRs GitHub associates with the commit. Raises :class:`Skipped` when the run's PR
    has moved on or was closed, InputError when no PR is the run's."""
    sha = run.head_sha
    if claimed is not None:
        return _check_claim(client, run, claimed)
    if run.pull_numbers:
        candidates = [p for p in map(lambda n: _pull_or_none(client, n), run.pull_numbers) if p is not None]
    elif run.head_branch:
        owner = run.head_repo.split("/")[0]
        candidates = [p for p in client.pulls_of_branch(owner, run.head_branch) if run.ran_on(p)]
    else:
        candidates = client.pulls_for_commit(sha)
    current = sorted(p.number for p in candidates if p.head_sha == sha and p.state == "open")
    if len(current) == 1:
        return current[0]
    if len(current) > 1:
        raise InputError(f"several open pull requests have head commit {sha[:12]}: "
                         f"{', '.join(f'#{n}' for n in current)}", "pass the pull request number (pr / --pr)")
    if candidates:
        raise Skipped(_moved_on(min(candidates, key=lambda p: (p.state != "open", -p.number)), sha))
    raise InputError(f"no open pull request has head commit {sha[:12]}",
                     "run the publisher on workflow_run events of pull_request runs")


def _check_claim(client, run: TriggeringRun, claimed: int) -> int:
    sha = run.head_sha
    pull = _pull_or_none(client, claimed)
    if pull is not None and pull.head_sha == sha:
        if pull.state != "open":
            raise Skipped(_moved_on(pull, sha))
        return claimed
    if pull is not None and (run.ran_on(pull) or (not run.head_branch and client.pull_has_commit(claimed, sha))):
        raise Skipped(_moved_on(pull, sha))
    found = "it does not exist" if pull is None else f"its head is {pull.head_sha[:12]}"
    raise InputError(f"the report names pull request #{claimed}, but the triggering run's head commit "
                     f"{sha[:12]} is not its head ({found}) and the run was not on its branch; refused",
                     "a report may only be published to the pull request it was computed for")


def _pull_or_none(client, number: int) -> PullInfo | None:
    try:
        return client.pull(number)
    except NotFound:
        return None


def _moved_on(pull: PullInfo, sha: str) -> str:
    if pull.state != "open":
        return (f"pull request #{pull.number} is {pull.state or 'not open'}: the report of {sha[:12]} "
                "was not published")
    return (f"pull request #{pull.number} moved on since the run: its head is now {pull.head_sha[:12]}, "
            f"the report is of {sha[:12]}; not published (the run of the new head publishes its own)")


def publish(client, *, report_dir: Path, run: TriggeringRun, comment_id: str, claimed_pr: int | None,
            server_url: str, repository: str, target_url: str | None, with_status: bool = True) -> list[str]:
    """Validate the artifact, pick the PR, post. Returns log lines. Raises CovbotError, or
    :class:`Skipped` when the pull request moved on since the run."""
    head_sha = run.head_sha
    if not (isinstance(head_sha, str) and len(head_sha) == 40 and set(head_sha.lower()) <= _HEX):
        raise UsageError(f"head SHA {head_sha!r} is not a commit SHA",
                         "pass the triggering run's head_sha (github.event.workflow_run.head_sha)")
    head_sha = head_sha.lower()
    run = replace(run, head_sha=head_sha)
    doc = validate_report(read_artifact(report_dir))
    art_sha = (doc.get("head") or {}).get("sha")
    if art_sha is not None and art_sha != head_sha:
        raise InputError(f"the report was computed for commit {art_sha[:12]}, but the triggering "
                         f"run's head commit is {head_sha[:12]}; refused",
                         "publish the artifact of the run that triggered this workflow")
    art_pr = (doc.get("links") or {}).get("pr_number")
    if art_pr is not None and not _is_int(art_pr):
        raise InputError("report.json: links.pr_number is not an integer; refused")
    if claimed_pr is not None and art_pr is not None and claimed_pr != art_pr:
        raise InputError(f"the report names pull request #{art_pr}, the publisher was asked for #{claimed_pr}; refused")
    number = choose_pull(client, run=run, claimed=claimed_pr if claimed_pr is not None else art_pr)
    links = {"server_url": server_url, "repository": repository, "head_sha": head_sha, "pr_number": number}
    report, comment = render_from_artifact(doc, comment_id=comment_id, links=links)
    return post(client, pr_number=number, head_sha=head_sha, comment=comment, report=report,
                comment_id=comment_id, target_url=target_url, with_status=with_status)
