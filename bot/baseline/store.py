"""The baseline store: coverage summaries kept on an orphan data branch of the repository.

``covbot baseline save`` (on pushes to the default branch) records a compact summary of
HEAD's coverage and test results; ``covbot report --baseline auto`` (on a PR) reads the
summary of the merge-base, or of its nearest saved first-parent ancestor. Nothing
outside the git remote is needed, and any remote works (GitHub, a bare repository on
disk, ``.`` for the repository itself).

Layout of the data branch (default ``covbot-data``, setting ``data-branch``)::

    baselines/<sha[:2]>/<sha>/summary.json   one summary per saved commit
    history.jsonl                            totals per saved commit, oldest first
    badge.svg                                total coverage of the newest saved commit
    README.md                                what the branch is

The branch is written with plumbing only (hash-object, mktree, commit-tree, push): no
checkout, no index, the working tree is never touched. A push that loses a race is
rejected as non-fast-forward; the save then fetches the new tip, applies its change
again on top of it and retries, a bounded number of times, so concurrent saves all land.

Every summary file has the same name, so git's packer puts successive summaries next
to each other and stores them as deltas of one another: thousands fit on the branch.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bot.model.errors import GitError, InputError, UsageError
from bot.runs.git import Git
from bot.model.coverage import Baseline, CoverageSet, FileCoverage, FileNumbers, TestOutcomes
from bot.model.numbers import Numbers

FORMAT = 1
SUMMARY_NAME = "summary.json"
HISTORY_PATH = "history.jsonl"
BADGE_PATH = "badge.svg"
README_PATH = "README.md"
#: How many first-parent ancestors of the merge-base ``--baseline auto`` looks at.
MAX_WALK = 100
#: How many times a save fetches and re-applies after losing a push race.
MAX_ATTEMPTS = 8
_FILE_COLUMNS = ["path", "statements", "missing", "branches", "missing_branches", "partial"]
_BRANCH_README = """\
# covbot data

This branch is written by `covbot baseline save` and read by `covbot report --baseline auto`.
It has no common history with the code and is never checked out.

- `baselines/<sha[:2]>/<sha>/summary.json`: coverage summary and test results of one commit
- `history.jsonl`: total coverage per saved commit, one JSON object a line, oldest first
- `badge.svg`: total coverage of the newest saved commit
"""


# -- line ranges ------------------------------------------------------------------------

def encode_ranges(lines) -> str:
    """Sorted line numbers as compact ranges: ``[1, 2, 3, 7, 9, 10]`` → ``"1-3,7,9-10"``."""
    return _encode_sorted(sorted(set(lines)))


def _encode_sorted(a: list[int]) -> str:
    """:func:`encode_ranges` of numbers already sorted and distinct."""
    if not a:
        return ""
    # Where a run breaks: the index of each number that does not follow its predecessor.
    breaks = [i for i, (x, y) in enumerate(zip(a, a[1:]), 1) if y != x + 1]
    starts = [a[0]] + [a[i] for i in breaks]
    ends = [a[i - 1] for i in breaks] + [a[-1]]
    return ",".join(str(s) if s == e else f"{s}-{e}" for s, e in zip(starts, ends))


def decode_ranges(text: str) -> list[int]:
    """The inverse of :func:`encode_ranges`; a malformed text raises ``ValueError``."""
    lines: list[int] = []
    if not text:
        return lines
    for part in text.split(","):
        a, sep, b = part.partition("-")
        lo = int(a)
        hi = int(b) if sep else lo
        if hi < lo or lo < 0:
            raise ValueError(f"bad line range {part!r}")
        lines.extend(range(lo, hi + 1))
    return lines


# -- summaries ----------------------------------------------------------------------------

def summarize(cov: CoverageSet, tests: TestOutcomes | None, *, commit: str, ref: str | None,
              committed: str | None) -> dict:
    """The compact summary of one run that a baseline keeps."""
    doc = {
        "format": FORMAT,
        "commit": commit,
        "ref": ref,
        "committed": committed,
        "saved": _now(),
        "branch_coverage": bool(cov.has_branches),
        "totals": _totals(cov.totals),
        "file_columns": list(_FILE_COLUMNS),
        "files": file_rows(cov),
        "tests": None,
    }
    if tests is not None:
        doc["tests"] = tests_summary(tests)
    return doc


def file_rows(cov: CoverageSet) -> list[list]:
    """One row per file, in the order of ``_FILE_COLUMNS``, sorted by path."""
    files = []
    for path in sorted(cov.files):
        fc = cov.files[path]
        n = fc.numbers
        missing = partial = ""     # a file known by its counts only (FileNumbers) has no lines
        if isinstance(fc, FileCoverage):
            missing, partial = _encode_sorted(fc.sorted_missing()), _encode_sorted(fc.partial_lines())
        files.append([path, n.statements, missing, n.branches, n.missing_branches, partial])
    return files


def tests_summary(tests: TestOutcomes) -> dict:
    return {"total": tests.total, "passed": tests.passed, "failed": tests.failed,
            "errors": tests.errors, "skipped": tests.skipped,
            "failing": sorted(tests.failing_ids), "flaky": sorted(tests.flaky_ids)}


def _totals(n: Numbers) -> dict:
    return {"statements": n.statements, "missing": n.missing, "branches": n.branches,
            "missing_branches": n.missing_branches, "percent_covered": n.percent_covered}


def dump_summary(doc: dict) -> bytes:
    """Summary JSON with one file a line: readable, and successive versions delta well."""
    return _dump(doc, dump_rows(doc["files"]))


def dump_rows(rows: list[list]) -> bytes:
    return ",\n".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in rows).encode("utf-8")


def _dump(doc: dict, rows: bytes) -> bytes:
    head = {k: v for k, v in doc.items() if k != "files"}
    return (json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1].encode("utf-8")
            + b',"files":[\n' + rows + b"\n]}\n")


def baseline_from_summary(doc, source: str) -> Baseline:
    """A :class:`Baseline` (per-file numbers, test outcomes) from a stored summary."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"{source}: not a covbot baseline summary of format {FORMAT} (got {got!r})",
                         "the data branch was written by an incompatible covbot; save the baseline again")
    cov = CoverageSet(has_branches=bool(doc.get("branch_coverage")), sources=[source])
    try:
        cols = doc.get("file_columns") or _FILE_COLUMNS
        idx = {name: cols.index(name) for name in ("path", "statements", "missing", "branches",
                                                   "missing_branches")}
        for row in doc["files"]:
            path = row[idx["path"]]
            missing = len(decode_ranges(row[idx["missing"]]))
            n = Numbers(int(row[idx["statements"]]), missing, int(row[idx["branches"]]),
                        int(row[idx["missing_branches"]]))
            cov.files[path] = FileNumbers(path, n)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise InputError(f"{source}: malformed files entry in the baseline summary ({exc})",
                         "save the baseline again (`covbot baseline save`)") from None
    tests = None
    t = doc.get("tests")
    if isinstance(t, dict):
        tests = TestOutcomes(total=int(t.get("total", 0)), passed=int(t.get("passed", 0)),
                             failed=int(t.get("failed", 0)), errors=int(t.get("errors", 0)),
                             skipped=int(t.get("skipped", 0)), failing_ids=set(t.get("failing", [])),
                             flaky_ids=set(t.get("flaky", [])))
    return Baseline(coverage=cov, tests=tests)


def history_entry(doc: dict) -> dict:
    t = doc["totals"]
    entry = {"commit": doc["commit"], "ref": doc.get("ref"), "committed": doc.get("committed"),
             "saved": doc.get("saved"), "percent_covered": t["percent_covered"],
             "statements": t["statements"], "missing": t["missing"], "branches": t["branches"],
             "missing_branches": t["missing_branches"]}
    tests = doc.get("tests")
    if tests:
        entry["tests"] = {k: tests[k] for k in ("total", "passed", "failed", "errors")}
    return entry


def parse_history(data: bytes | None) -> list[dict]:
    """Entries of history.jsonl; a damaged line is skipped rather than failing the report."""
    entries = []
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict) and isinstance(e.get("commit"), str) and \
                isinstance(e.get("percent_covered"), (int, float)):
            entries.append(e)
    return entries


def append_history(entries: list[dict], entry: dict, limit: int) -> list[dict]:
    """Append ``entry`` (replacing an earlier entry of the same commit), keep the last ``limit``."""
    out = [e for e in entries if e.get("commit") != entry["commit"]]
    out.append(entry)
    return out[-max(1, limit):]


def newest(entries: list[dict], is_ancestor=None) -> dict | None:
    """The entry of the most recently committed commit (saves may land out of order).

    Commits made in the same second are told apart by ancestry when
    ``is_ancestor(a, b)`` can (a descendant is newer), else by the order of saving."""
    if not entries:
        return None
    latest = max(e.get("committed") or "" for e in entries)
    tied = [e for e in entries if (e.get("committed") or "") == latest]
    if len(tied) > 1 and is_ancestor is not None:
        tips = [e for e in tied
                if not any(o is not e and o.get("commit") != e.get("commit")
                           and is_ancestor(e.get("commit"), o.get("commit")) for o in tied)]
        tied = tips or tied
    return tied[-1]


def summary_path(sha: str) -> str:
    return f"baselines/{sha[:2]}/{sha}/{SUMMARY_NAME}"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# -- the data branch ----------------------------------------------------------------------

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

    def commit(self, tip: str | None, files: dict[str, bytes], message: str) -> str:
        changes = {path: self.blob(data) for path, data in files.items()}
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
         max_attempts: int = MAX_ATTEMPTS) -> SaveResult:
    """Store ``summary`` on the data branch, retrying on lost push races."""
    from bot.baseline.badge import badge_svg

    store = DataBranch(git, remote, branch)
    data = dump_summary(summary)
    path = summary_path(summary["commit"])
    entry = history_entry(summary)
    tip = store.fetch()
    for attempt in range(1, max_attempts + 1):
        history = append_history(parse_history(store.read(tip, HISTORY_PATH) if tip else None),
                                 entry, history_length)
        files = {path: data,
                 HISTORY_PATH: "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in history).encode(),
                 BADGE_PATH: badge_svg(newest(history, is_ancestor=lambda a, b: git.ok(
                     ["merge-base", "--is-ancestor", str(a), str(b)]))["percent_covered"]).encode()}
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


# -- covbot baseline save ---------------------------------------------------------------

def cmd_save(args) -> int:
    from bot.app.cli import _config_from, _root

    root = _root(args)
    args.repo = str(root)
    cfg = _config_from(args)
    branch = args.data_branch or cfg.data_branch
    git = Git(root, extra_config=_identity(Git(root)))
    remote = args.remote
    if remote not in git.remotes() and remote != "." and not _looks_like_url(remote):
        known = ", ".join(git.remotes()) or "none"
        raise UsageError(f"--remote {remote}: no such git remote (remotes: {known})",
                         "add one with `git remote add`, pass a URL or path, or `--remote .` "
                         "to keep the data branch in this repository")
    sha = git.head_sha()
    cov, tests = _collect(args, cfg, root, git)
    committed = _commit_time(git, sha)
    ref = os.environ.get("GITHUB_REF_NAME") or git.current_branch()
    summary = summarize(cov, tests, commit=sha, ref=ref, committed=committed)
    out_dir = Path(args.output_dir)
    if not out_dir.is_absolute():
        out_dir = root / out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / BASELINE_FILE).write_bytes(dump_summary(summary))
    result = save(git, summary=summary, remote=remote, branch=branch, history_length=cfg.history_length)
    tries = "1 attempt" if result.attempts == 1 else f"{result.attempts} attempts"
    print(f"covbot: saved the baseline of {sha[:12]} ({summary['totals']['percent_covered']:.2f}%, "
          f"{len(summary['files'])} files) to {remote} {branch} as {result.path} "
          f"(data commit {result.data_commit[:12]}, {tries}, history {result.history_length} entries)",
          file=sys.stderr)
    return 0


BASELINE_FILE = "baseline.json"


def write_baseline_file(out_dir: Path, cov: CoverageSet, results: list, *, git: Git, sha: str,
                        ref: str | None, part: tuple | None = None) -> Path:
    """Write the summary a save would store next to report.json (``baseline.json``).

    ``covbot report`` writes it on every run, so a push job that already ran the
    report stores it with :func:`save_from_report` instead of running the tests again.
    ``part`` is :func:`coverage_part` of ``cov`` when it was computed already.
    """
    from bot.stages import triage

    committed, rows = part if part is not None else coverage_part(cov, git=git, sha=sha)
    doc = summarize(CoverageSet(has_branches=cov.has_branches), None, commit=sha, ref=ref, committed=committed)
    doc["totals"] = _totals(cov.totals)
    if results:
        doc["tests"] = tests_summary(triage.outcomes(results))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / BASELINE_FILE
    path.write_bytes(_dump(doc, rows))
    return path


def coverage_part(cov: CoverageSet, *, git: Git, sha: str) -> tuple[str | None, bytes]:
    """What baseline.json says of the coverage (the commit time, the file rows, dumped):
    the costly part, which does not depend on the test results."""
    return _commit_time(git, sha), dump_rows(file_rows(cov))


def save_from_report(*, root: Path, config, report_path: Path, remote: str = "origin") -> SaveResult:
    """Store the ``baseline.json`` that ``covbot report`` wrote next to ``report_path``."""
    path = Path(report_path).parent / BASELINE_FILE
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: the report could not measure coverage",
                         "fix the report's errors, or run `covbot baseline save`") from None
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON ({exc})") from None
    baseline_from_summary(doc, str(path))   # validates
    git = Git(root, extra_config=_identity(Git(root)))
    result = save(git, summary=doc, remote=remote, branch=config.data_branch,
                  history_length=config.history_length)
    print(f"covbot: saved the baseline of {doc['commit'][:12]} ({doc['totals']['percent_covered']:.2f}%) "
          f"to {remote} {config.data_branch} (data commit {result.data_commit[:12]}, "
          f"{result.attempts} attempt{'s' if result.attempts != 1 else ''})", file=sys.stderr)
    return result


def _commit_time(git: Git, sha: str) -> str | None:
    """Committer time of ``sha`` in UTC (ISO 8601, ``Z``), comparable as text."""
    out = git.run(["show", "-s", "--format=%ct", sha], check=False).strip()
    if not out.isdigit():
        return None
    return datetime.fromtimestamp(int(out), timezone.utc).isoformat().replace("+00:00", "Z")


def _collect(args, cfg, root: Path, git: Git) -> tuple[CoverageSet, TestOutcomes | None]:
    """Coverage and test outcomes of HEAD, collected exactly as ``covbot report`` does."""
    from bot.stages import triage
    from bot.runs.collect import run_tests, scratch_dir
    from bot.inputs.junit import load_results
    from bot.inputs.coverage import discover, load_coverage

    tracked = git.tracked_files()
    if args.no_run:
        cov_files = [root / p for p in args.coverage_file] or discover(root)
        cov = load_coverage(cov_files, root=root, tracked=tracked)
        junit = [root / p for p in args.junit]
        results = load_results(junit, None) if junit else []
    else:
        work = scratch_dir()
        run = run_tests(cfg.test_command, root=root, out_dir=work / "save-run", timeout=cfg.timeout)
        cov = load_coverage(run.data_files, root=root, tracked=tracked)
        results = load_results(run.junit_files, run.results_file)
        if cfg.rerun_failures and results:   # flaky ids, so a PR can tell "known flaky on the base"
            from bot.runs.rerun import rerun_failed

            rerun_failed(results, command=cfg.test_command, root=root, out_dir=work / "rerun",
                         timeout=cfg.timeout)
    return cov, (triage.outcomes(results) if results else None)


def _identity(git: Git) -> dict[str, str]:
    """A committer for the data commits when git has none configured (fresh CI runners)."""
    if git.run(["config", "user.email"], check=False).strip() or os.environ.get("GIT_COMMITTER_EMAIL"):
        return {}
    if os.environ.get("GITHUB_ACTIONS"):
        return {"user.name": "github-actions[bot]",
                "user.email": "41898282+github-actions[bot]@users.noreply.github.com"}
    return {"user.name": "covbot", "user.email": "covbot@localhost"}


def _looks_like_url(remote: str) -> bool:
    return "://" in remote or remote.startswith(("/", "./", "../", "git@")) or os.path.isdir(remote)


# -- covbot report --baseline auto --------------------------------------------------------

def load_for_report(git: Git, *, merge_base: str | None, config, root: Path, out_dir: Path) -> Baseline:
    """The stored baseline of ``merge_base`` or of its nearest saved first-parent ancestor.

    None found: ``baseline-fallback: rerun`` reruns the tests on the merge-base; otherwise
    the report has no baseline and says so (a warning in the comment, never a silent zero).
    """
    branch = config.data_branch
    remotes = git.remotes()
    remote = "origin" if "origin" in remotes else (remotes[0] if remotes else ".")
    store = DataBranch(git, remote, branch)
    where = f"{branch!r} on {remote}" if remote != "." else f"{branch!r}"
    notes: list[str] = []
    try:
        tip = store.fetch()
    except GitError as exc:
        tip = store.local_tip()
        notes.append(f"could not fetch {where} ({exc.message}); "
                     + ("used the local copy" if tip else "no local copy either"))
    if tip is None and remote != ".":
        tip = git.rev_parse(f"refs/heads/{branch}")   # saved locally with `--remote .`
        if tip:
            where = f"{branch!r} (local branch)"
    history = parse_history(store.read(tip, HISTORY_PATH)) if tip else []

    found = None
    chain: list[str] = []
    if tip and merge_base:
        chain = git.run(["rev-list", "--first-parent", f"--max-count={MAX_WALK}", merge_base]).split()
        have = store.existing(tip, chain)
        for distance, sha in enumerate(chain):
            if sha in have:
                found = (sha, distance)
                break

    if found:
        sha, distance = found
        source = f"{branch}:{summary_path(sha)}"
        raw = store.read(tip, summary_path(sha))
        try:
            doc = json.loads(raw or b"")
        except ValueError as exc:
            raise InputError(f"{source} is not valid JSON ({exc})",
                             "save the baseline again (`covbot baseline save`)") from None
        baseline = baseline_from_summary(doc, source)
        if distance == 0:
            desc = f"stored baseline of the merge-base {sha[:7]}"
        else:
            desc = (f"stored baseline of {sha[:7]}, {distance} commit{'s' if distance != 1 else ''} "
                    f"before the merge-base {merge_base[:7]} (the nearest saved ancestor)")
        baseline.info = {"mode": "auto", "commit": sha, "distance": distance, "description": desc,
                         "data_branch": branch, "merge_base": merge_base,
                         "trend": trend_points(history, chain, config.trend_points)}
        if notes:
            baseline.info["warning"] = "Baseline store: " + "; ".join(notes) + "."
        return baseline

    if not merge_base:
        why = "the merge-base is unknown"
    elif not tip:
        why = f"the data branch {where} does not exist yet"
    else:
        why = (f"no stored baseline on {where} for the merge-base {merge_base[:7]} "
               f"or its {max(len(chain) - 1, 0)} first-parent ancestors")
    why = "; ".join([why] + notes)
    trend = trend_points(history, chain, config.trend_points)
    fallback = getattr(config, "baseline_fallback", "none")
    if fallback == "rerun" and merge_base:
        from bot.baseline.sources import rerun

        baseline = rerun(git, merge_base=merge_base, config=config, root=root, out_dir=out_dir)
        baseline.info.update({"description": f"tests rerun on merge-base {merge_base[:7]} ({why})",
                              "fallback_from": "auto", "trend": trend})
        return baseline
    return Baseline(coverage=None, info={
        "mode": "none", "fallback_from": "auto", "trend": trend,
        "description": f"no baseline: {why}",
        "warning": (f"No baseline: {why}, so coverage deltas are n/a. Save baselines with "
                    "`covbot baseline save` on pushes to the base branch, or set "
                    "`baseline-fallback: rerun`."),
    })


def trend_points(history: list[dict], chain: list[str], count: int) -> list[dict]:
    """The last ``count`` saved totals on the line that leads to the merge-base, oldest first.

    ``chain`` is the merge-base and its first-parent ancestors (newest first). Saved
    commits on it are the trend; when the walk ended before the oldest of them (a
    shallow clone, a long history), entries of the same ref committed before the
    oldest one seen are taken too. Without a chain, the newest entries are used.
    """
    if count <= 0:
        return []
    pos = {sha: i for i, sha in enumerate(chain)}
    on_chain = [e for e in history if e["commit"] in pos]
    if chain and on_chain:
        on_chain.sort(key=lambda e: -pos[e["commit"]])
        picked = on_chain
        if len(picked) < count:
            first = picked[0]
            ref, when = first.get("ref"), first.get("committed") or ""
            older = [e for e in history if e["commit"] not in pos and e.get("ref") == ref
                     and (e.get("committed") or "") < when]
            older.sort(key=lambda e: e.get("committed") or "")
            picked = older + picked
    elif chain:
        return []
    else:
        picked = sorted(history, key=lambda e: e.get("committed") or "")
    return [{"commit": e["commit"], "committed": e.get("committed"), "ref": e.get("ref"),
             "percent_covered": e["percent_covered"]} for e in picked[-count:]]
