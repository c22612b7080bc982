"""Every git command covbot runs goes through :class:`Git`.

It runs git with a fixed, locale-independent environment, never through a shell, and
turns failures into :class:`~bot.model.errors.GitError` messages that say what to do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

from bot.model.errors import GitError

_ENV = {
    "LC_ALL": "C",
    "LANG": "C",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
}


class Pending:
    """A git command started by :meth:`Git.start`."""

    def __init__(self, git: "Git", args: list[str], proc: subprocess.Popen, out, err):
        self._git, self._args, self._proc, self._out, self._err = git, args, proc, out, err

    def result(self) -> str:
        """git's output; raises the GitError :meth:`Git.run` would raise."""
        try:
            status = self._proc.wait()
            self._out.seek(0)
            data = self._out.read()
            if status != 0:
                self._err.seek(0)
                raise self._git._error(self._args, self._err.read().decode("utf-8", "replace"))
        finally:
            self._out.close()
            self._err.close()
        return data.decode("utf-8", "surrogateescape")


class Git:
    def __init__(self, cwd: str | os.PathLike = ".", *, extra_config: dict[str, str] | None = None):
        self.cwd = Path(cwd)
        self.config = {"core.quotePath": "false", **(extra_config or {})}

    # -- plumbing ---------------------------------------------------------------
    def _cmd(self, args: list[str]) -> list[str]:
        cmd = ["git"]
        for key, value in self.config.items():
            cmd += ["-c", f"{key}={value}"]
        return cmd + list(args)

    def run_full(self, args: list[str], *, input: bytes | None = None) -> subprocess.CompletedProcess:
        """Run git and return the whole outcome (status, stdout, stderr), never raising on
        a non-zero status: for calls whose failure is an answer (push, fetch, cat-file)."""
        try:
            return subprocess.run(self._cmd(args), cwd=self.cwd, env={**os.environ, **_ENV}, input=input,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError as exc:
            raise GitError("git is not installed or not on PATH", "install git") from exc

    def start(self, args: list[str]) -> "Pending":
        """Start git and return at once; :meth:`Pending.result` waits for its output.

        The output goes to a temporary file, not a pipe: nothing has to read it while git
        runs (no thread), so the caller may still fork while it waits."""
        out = tempfile.TemporaryFile()
        try:
            err = tempfile.TemporaryFile()
        except OSError:
            out.close()
            raise
        try:
            proc = subprocess.Popen(self._cmd(args), cwd=self.cwd, env={**os.environ, **_ENV},
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except FileNotFoundError as exc:
            out.close()
            err.close()
            raise GitError("git is not installed or not on PATH", "install git") from exc
        return Pending(self, args, proc, out, err)

    def run_bytes(self, args: list[str], *, check: bool = True, input: bytes | None = None) -> bytes:
        proc = self.run_full(args, input=input)
        if check and proc.returncode != 0:
            raise self._error(args, proc.stderr.decode("utf-8", "replace"))
        return proc.stdout

    def run(self, args: list[str], *, check: bool = True, input: str | None = None) -> str:
        out = self.run_bytes(args, check=check, input=input.encode() if input is not None else None)
        return out.decode("utf-8", "surrogateescape")

    def ok(self, args: list[str]) -> bool:
        env = {**os.environ, **_ENV}
        proc = subprocess.run(self._cmd(args), cwd=self.cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc.returncode == 0

    def _error(self, args: list[str], stderr: str) -> GitError:
        text = stderr.strip().splitlines()
        first = next((line for line in text if line.startswith("fatal:")), text[0] if text else "")
        command = "git " + " ".join(args)
        if "dubious ownership" in stderr:
            return GitError(
                f"{command}: git refuses the repository at {self.cwd}: it is owned by another user",
                f"run `git config --global --add safe.directory {self.cwd}` (the covbot image does this itself)",
            )
        if "not a git repository" in stderr:
            return GitError(f"{self.cwd} is not a git repository", "run covbot inside a git checkout")
        return GitError(f"{command} failed: {first or 'exit status non-zero'}")

    # -- queries ----------------------------------------------------------------
    def toplevel(self) -> Path:
        return Path(self.run(["rev-parse", "--show-toplevel"]).strip())

    def rev_parse(self, ref: str) -> str | None:
        out = self.run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], check=False)
        sha = out.strip()
        return sha or None

    def head_sha(self) -> str:
        sha = self.rev_parse("HEAD")
        if not sha:
            raise GitError("the repository has no commit at HEAD", "commit something first")
        return sha

    def current_branch(self) -> str | None:
        out = self.run(["symbolic-ref", "--quiet", "--short", "HEAD"], check=False).strip()
        return out or None

    def is_shallow(self) -> bool:
        return self.run(["rev-parse", "--is-shallow-repository"]).strip() == "true"

    def remotes(self) -> list[str]:
        return self.run(["remote"]).split()

    def default_branch(self) -> str:
        """The remote's default branch, else ``main``, else ``master``."""
        for remote in self.remotes()[:1] if "origin" not in self.remotes() else ["origin"]:
            out = self.run(["symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD"], check=False).strip()
            if out:
                return out.split(f"refs/remotes/{remote}/", 1)[1]
        for name in ("main", "master"):
            if self.rev_parse(name) or self.rev_parse(f"origin/{name}"):
                return name
        return "main"

    def resolve_base(self, base: str) -> tuple[str, str]:
        """Resolve a base ref to ``(name_used, sha)``, fetching it from origin if needed."""
        for candidate in (base, f"origin/{base}"):
            sha = self.rev_parse(candidate)
            if sha:
                return candidate, sha
        if "origin" in self.remotes():
            ref = base.removeprefix("origin/")
            self.run(["fetch", "--no-tags", "--quiet", "origin",
                      f"+refs/heads/{ref}:refs/remotes/origin/{ref}"], check=False)
            sha = self.rev_parse(f"origin/{ref}")
            if sha:
                return f"origin/{ref}", sha
        raise GitError(
            f"base branch {base!r} not found: neither {base!r} nor 'origin/{base}' exists",
            "fetch it (`git fetch origin " + base + "`) or pass the right one with --base",
        )

    def merge_base(self, base_sha: str, head: str = "HEAD", *, deepen: bool = True) -> str:
        """Merge-base of ``base_sha`` and ``head``; deepens a shallow clone when it is missing."""
        out = self.run(["merge-base", base_sha, head], check=False).strip()
        if out:
            return out
        if deepen and self.is_shallow() and "origin" in self.remotes():
            for depth in (50, 500):
                self.run(["fetch", "--no-tags", "--quiet", f"--deepen={depth}", "origin"], check=False)
                out = self.run(["merge-base", base_sha, head], check=False).strip()
                if out:
                    return out
            self.run(["fetch", "--no-tags", "--quiet", "--unshallow", "origin"], check=False)
            out = self.run(["merge-base", base_sha, head], check=False).strip()
            if out:
                return out
        if self.is_shallow():
            raise GitError(
                f"no merge-base between the base ({base_sha[:12]}) and {head}: the clone is shallow "
                "and deepening it did not reach the common ancestor",
                "check out with `fetch-depth: 0` (actions/checkout) or run `git fetch --unshallow`",
            )
        raise GitError(
            f"the base ({base_sha[:12]}) and {head} have no common ancestor",
            "pass the branch this work started from with --base",
        )

    def diff_text(self, merge_base: str, head: str | None = None) -> str:
        """Unified diff with zero context of ``head`` (or the working tree) against ``merge_base``.

        With ``head=None`` staged and unstaged changes are included, as diff-cover does
        by default; untracked files are not.
        """
        return self.run(self._diff_args(merge_base, head))

    def start_diff(self, merge_base: str, head: str | None = None) -> Pending:
        """:meth:`diff_text`, started: git computes it while the caller does other work."""
        return self.start(self._diff_args(merge_base, head))

    @staticmethod
    def _diff_args(merge_base: str, head: str | None) -> list[str]:
        args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "-U0", "-M",
                "--ignore-submodules=all", "--src-prefix=a/", "--dst-prefix=b/", merge_base]
        if head:
            args.append(head)
        args.append("--")
        return args

    def tracked_files(self) -> list[str]:
        out = self.run_bytes(["ls-files", "-z", "--cached"])
        return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]

    def count_commits(self, older: str, newer: str) -> int:
        return int(self.run(["rev-list", "--count", f"{older}..{newer}"]).strip() or 0)

    @contextlib.contextmanager
    def worktree(self, sha: str) -> Iterator[Path]:
        """A temporary detached worktree at ``sha``, removed afterwards even on failure."""
        parent = Path(tempfile.mkdtemp(prefix="covbot-base-"))
        path = parent / "worktree"
        try:
            self.run(["worktree", "add", "--detach", "--force", str(path), sha])
            yield path
        finally:
            self.run(["worktree", "remove", "--force", str(path)], check=False)
            shutil.rmtree(parent, ignore_errors=True)
            self.run(["worktree", "prune"], check=False)
