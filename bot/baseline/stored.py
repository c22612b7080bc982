"""Stored baselines in use: ``covbot report --baseline auto`` reads the summary of the
merge-base (or of its nearest saved first-parent ancestor) from the data branch, and a
push job stores the ``baseline.json`` its report wrote."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.baseline.data_branch import DataBranch, SaveResult, identity, save, summary_path
from bot.baseline.history import HISTORY_PATH, parse_history, trend_points
from bot.baseline.sources import rerun
from bot.baseline.summary import BASELINE_FILE, baseline_from_summary
from bot.model.coverage import Baseline
from bot.model.errors import GitError, InputError
from bot.runs.collect import LOCAL
from bot.runs.git import Git

#: How many first-parent ancestors of the merge-base ``--baseline auto`` looks at.
MAX_WALK = 100


def load_for_report(git: Git, *, merge_base: str | None, config, root: Path, out_dir: Path,
                    log=LOCAL) -> Baseline:
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
        baseline = rerun(git, merge_base=merge_base, config=config, root=root, out_dir=out_dir, log=log)
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


def save_from_report(*, root: Path, config, report_path: Path, remote: str = "origin", site=None) -> SaveResult:
    """Store the ``baseline.json`` that ``covbot report`` wrote next to ``report_path``;
    ``site(git, summary)`` makes the dashboard's part of the save."""
    path = Path(report_path).parent / BASELINE_FILE
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: the report could not measure coverage",
                         "fix the report's errors, or run `covbot baseline save`") from None
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON ({exc})") from None
    baseline_from_summary(doc, str(path))   # validates
    git = Git(root, extra_config=identity(Git(root)))
    result = save(git, summary=doc, remote=remote, branch=config.data_branch,
                  history_length=config.history_length, site=site(git, doc) if site else None)
    print(f"covbot: saved the baseline of {doc['commit'][:12]} ({doc['totals']['percent_covered']:.2f}%) "
          f"to {remote} {config.data_branch} (data commit {result.data_commit[:12]}, "
          f"{result.attempts} attempt{'s' if result.attempts != 1 else ''})", file=sys.stderr)
    return result
