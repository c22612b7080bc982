"""The data branch: an orphan branch of the repository that keeps the baselines.

Layout (default ``covbot-data``, setting ``data-branch``)::

    baselines/<sha[:2]>/<sha>/summary.json   one summary per saved commit
    history.jsonl                            totals per saved commit, oldest first
    badge.svg                                total coverage of the newest saved commit
    index.html                               the programme dashboard (bot.baseline.site)
    html/                                    coverage.py's HTML report of the newest save
    README.md                                what the branch is

The branch is written with plumbing only (hash-object, mktree, commit-tree, push): no
checkout, no index, the working tree is never touched. A push that loses a race is
rejected as non-fast-forward; the save then fetches the new tip, applies its change
again on top of it and retries, a bounded number of times, so concurrent saves all land.

Every summary file has the same name, so git's packer puts successive summaries next
to each other and stores them as deltas of one another: thousands fit on the branch.
Nothing outside the git remote is needed, and any remote works (GitHub, a bare
repository on disk, ``.`` for the repository itself).
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass

from bot.baseline.badge import badge_svg
from bot.baseline.history import HISTORY_PATH, append_history, history_entry, newest, parse_history
from bot.baseline.summary import dump_summary
from bot.model.errors import GitError
from bot.runs.git import Git

SUMMARY_NAME = "summary.json"
BADGE_PATH = "badge.svg"
README_PATH = "README.md"
#: How many times a save fetches and re-applies after losing a push race.
MAX_ATTEMPTS = 8
_BRANCH_README = """\
# covbot data

This branch is written by `covbot baseline save` and read by `covbot report --baseline auto`.
It has no common history with the code and is never checked out.

- `baselines/<sha[:2]>/<sha>/summary.json`: coverage summary and test results of one commit
- `history.jsonl`: total coverage per saved commit, one JSON object a line, oldest first
- `badge.svg`: total coverage of the newest saved commit
- `index.html`: the coverage programme at a glance (open it, or serve the branch with GitHub Pages)
- `html/`: coverage.py's HTML report of the newest saved commit
"""


def summary_path(sha: str) -> str:
    return f"baselines/{sha[:2]}/{sha}/{SUMMARY_NAME}"


class DataBranch:
    """The data branch on ``remote``: fetch its tip, read files, commit changes, push."""

    def __init__(self, git: Git, remote: str, branch: str):
        self.git = git
        self.remote = remote
        self.branch = branch
        if remote in git.remotes():
            self.tracking = f"refs/remotes/{remote}/{branch}"
        else:
            self.tracking = f"refs/covbot/{branch}"

    # -- reading
    def fetch(self) -> str | None:
        """Fetch the branch; its tip, or ``None`` when the remote does not have it yet."""
        args = ["fetch", "--no-tags", "--quiet"]
        if self.git.is_shallow():
            args.append("--depth=1")   # a shallow checkout needs only the tip
        args += [self.remote, f"+refs/heads/{self.branch}:{self.tracking}"]
        proc = self.git.run_full(args)
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace")
            if "couldn't find remote ref" in err or "could not find remote ref" in err:
                self.git.run(["update-ref", "-d", self.tracking], check=False)
                return None
            raise GitError(f"git fetch {self.remote} {self.branch} failed: {_first_error(err)}",
                           f"check that the remote {self.remote!r} exists and is reachable (`git remote -v`)")
        return self.git.rev_parse(self.tracking)

    def local_tip(self) -> str | None:
        """The last fetched tip (or a local branch of that name), without network."""
        return self.git.rev_parse(self.tracking) or self.git.rev_parse(f"refs/heads/{self.branch}")

    def read(self, tip: str, path: str) -> bytes | None:
        proc = self.git.run_full(["cat-file", "blob", f"{tip}:{path}"])
        return proc.stdout if proc.returncode == 0 else None

    def existing(self, tip: str, shas: list[str]) -> set[str]:
        """Which of ``shas`` have a summary at ``tip`` (one ``cat-file --batch-check``)."""
        if not shas:
            return set()
        query = "".join(f"{tip}:{summary_path(s)}\n" for s in shas).encode()
        out = self.git.run_bytes(["cat-file", "--batch-check"], input=query).decode().splitlines()
        return {sha for sha, line in zip(shas, out) if not line.endswith("missing")}

    # -- writing
    def _ls_tree(self, tree: str | None) -> dict[str, tuple[str, str, str]]:
        if tree is None:
            return {}
        out = self.git.run_bytes(["ls-tree", "-z", tree])
        entries = {}
        for item in out.split(b"\0"):
            if not item:
                continue
            meta, name = item.split(b"\t", 1)
            mode, kind, sha = meta.decode().split()
            entries[name.decode("utf-8", "surrogateescape")] = (mode, kind, sha)
        return entries

    def _build(self, tree: str | None, changes: dict[str, str]) -> str:
        """A new tree: ``tree`` with blobs ``changes`` (path → blob sha) put in place."""
        entries = self._ls_tree(tree)
        nested: dict[str, dict[str, str]] = {}
        for path, blob in changes.items():
            head, sep, rest = path.partition("/")
            if sep:
                nested.setdefault(head, {})[rest] = blob
            elif blob is None:     # removed (a folder replaced as a whole)
                entries.pop(head, None)
            else:
                entries[head] = ("100644", "blob", blob)
        for name, sub in nested.items():
            old = entries.get(name)
            old_tree = old[2] if old and old[1] == "tree" else None
            entries[name] = ("040000", "tree", self._build(old_tree, sub))
        text = b"".join(f"{mode} {kind} {sha}\t".encode() + name.encode("utf-8", "surrogateescape") + b"\0"
                        for name, (mode, kind, sha) in sorted(entries.items()))
        return self.git.run_bytes(["mktree", "-z"], input=text).decode().strip()

    def blob(self, data: bytes) -> str:
        return self.git.run_bytes(["hash-object", "-w", "--stdin"], input=data).decode().strip()

    def commit(self, tip: str | None, files: dict[str, bytes | None], message: str) -> str:
        changes = {path: None if data is None else self.blob(data) for path, data in files.items()}
        root = self.git.run(["rev-parse", f"{tip}^{{tree}}"]).strip() if tip else None
        tree = self._build(root, changes)
        args = ["commit-tree", tree, "-m", message]
        if tip:
            args += ["-p", tip]
        return self.git.run(args).strip()

    def push(self, commit: str) -> tuple[bool, str]:
        """Push ``commit`` as the branch (fast-forward only); ``(landed, git's message)``."""
        proc = self.git.run_full(["push", "--quiet", "--no-verify", self.remote,
                                    f"{commit}:refs/heads/{self.branch}"])
        if proc.returncode == 0:
            self.git.run(["update-ref", self.tracking, commit], check=False)
            return True, ""
        return False, _first_error(proc.stderr.decode("utf-8", "replace"))


def _first_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    for prefix in ("! ", "fatal:", "error:", "remote:"):
        for ln in lines:
            if ln.startswith(prefix):
                return ln
    return lines[0] if lines else "exit status non-zero"


@dataclass
class SaveResult:
    """A stored baseline: the data-branch commit and how many pushes it took."""

    data_commit: str
    attempts: int
    path: str
    history_length: int


def save(git: Git, *, summary: dict, remote: str, branch: str, history_length: int,
         max_attempts: int = MAX_ATTEMPTS, site=None) -> SaveResult:
    """Store ``summary`` on the data branch, retrying on lost push races; ``site``
    (a :class:`bot.baseline.site.Site`) adds the dashboard's entry fields and files."""
    store = DataBranch(git, remote, branch)
    data = dump_summary(summary)
    path = summary_path(summary["commit"])
    entry = history_entry(summary)
    if site is not None:
        entry.update(site.entry)
    tip = store.fetch()
    for attempt in range(1, max_attempts + 1):
        history = append_history(parse_history(store.read(tip, HISTORY_PATH) if tip else None),
                                 entry, history_length)
        files = {path: data,
                 HISTORY_PATH: "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in history).encode(),
                 BADGE_PATH: badge_svg(newest(history, is_ancestor=lambda a, b: git.ok(
                     ["merge-base", "--is-ancestor", str(a), str(b)]))["percent_covered"]).encode()}
        if site is not None:
            files.update(site.files(history, lambda p, tip=tip: store.read(tip, p) if tip else None))
        if tip is None:
            files[README_PATH] = _BRANCH_README.encode()
        commit = store.commit(tip, files, f"Baseline of {summary['commit'][:12]} "
                                          f"({summary['totals']['percent_covered']:.2f}%)")
        landed, message = store.push(commit)
        if landed:
            return SaveResult(data_commit=commit, attempts=attempt, path=path, history_length=len(history))
        new_tip = store.fetch()
        if new_tip == tip:
            raise GitError(f"git push {remote} {branch} was rejected: {message}",
                           "the token needs `contents: write`, and no branch protection may cover "
                           f"{branch!r}")
        tip = new_tip
        time.sleep(random.uniform(0.05, 0.3) * attempt)
    raise GitError(f"could not store the baseline on {branch!r}: the branch moved {max_attempts} times "
                   "while saving", "run the save again; concurrent saves retry up to "
                   f"{max_attempts} times")


def identity(git: Git) -> dict[str, str]:
    """A committer for the data commits when git has none configured (fresh CI runners)."""
    if git.run(["config", "user.email"], check=False).strip() or os.environ.get("GIT_COMMITTER_EMAIL"):
        return {}
    if os.environ.get("GITHUB_ACTIONS"):
        return {"user.name": "github-actions[bot]",
                "user.email": "41898282+github-actions[bot]@users.noreply.github.com"}
    return {"user.name": "covbot", "user.email": "covbot@localhost"}


def looks_like_url(remote: str) -> bool:
    return "://" in remote or remote.startswith(("/", "./", "../", "git@")) or os.path.isdir(remote)
