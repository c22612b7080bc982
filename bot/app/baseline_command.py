"""``covbot baseline save``: record HEAD's coverage summary on the data branch, as the
baseline that later pull requests on top of it compare with (``--baseline auto``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.app.dashboard_command import site_for
from bot.app.settings import checkout_root, config_from_args
from bot.baseline.data_branch import identity, looks_like_url, save
from bot.baseline.summary import BASELINE_FILE, commit_time, dump_summary, summarize, utc_now
from bot.inputs.coverage import discover, load_coverage
from bot.inputs.junit import load_results
from bot.model.coverage import CoverageSet, TestOutcomes
from bot.model.errors import UsageError
from bot.runs.collect import run_tests, scratch
from bot.runs.git import Git
from bot.runs.outfiles import write_files
from bot.runs.rerun import rerun_failed
from bot.stages import triage


def save_baseline(args) -> int:
    """Measure HEAD (or read the given files) and store its summary on the data branch."""
    root = checkout_root(args)
    args.repo = str(root)
    cfg = config_from_args(args)
    branch = args.data_branch or cfg.data_branch
    git = Git(root, extra_config=identity(Git(root)))
    remote = args.remote
    if remote not in git.remotes() and remote != "." and not looks_like_url(remote):
        known = ", ".join(git.remotes()) or "none"
        raise UsageError(f"--remote {remote}: no such git remote (remotes: {known})",
                         "add one with `git remote add`, pass a URL or path, or `--remote .` "
                         "to keep the data branch in this repository")
    sha = git.head_sha()
    cov, tests = _collect(args, cfg, root, git)
    committed = commit_time(git, sha)
    ref = os.environ.get("GITHUB_REF_NAME") or git.current_branch()
    summary = summarize(cov, tests, commit=sha, ref=ref, committed=committed, saved=utc_now())
    out_dir = Path(args.output_dir)
    if not out_dir.is_absolute():
        out_dir = root / out_dir
    write_files(out_dir, {BASELINE_FILE: dump_summary(summary)}, root=root)   # no link followed in the checkout
    site = site_for(git, summary, cfg, root=root, coverage_files=cov.sources, env=os.environ,
                    token=os.environ.get("GITHUB_TOKEN"))   # the dashboard: index.html, html/
    result = save(git, summary=summary, remote=remote, branch=branch, history_length=cfg.history_length,
                  site=site)
    tries = "1 attempt" if result.attempts == 1 else f"{result.attempts} attempts"
    print(f"covbot: saved the baseline of {sha[:12]} ({summary['totals']['percent_covered']:.2f}%, "
          f"{len(summary['files'])} files) to {remote} {branch} as {result.path} "
          f"(data commit {result.data_commit[:12]}, {tries}, history {result.history_length} entries)",
          file=sys.stderr)
    return 0


def _collect(args, cfg, root: Path, git: Git) -> tuple[CoverageSet, TestOutcomes | None]:
    """Coverage and test outcomes of HEAD, collected exactly as ``covbot report`` does."""
    tracked = git.tracked_files()
    if args.no_run:
        cov_files = [root / p for p in args.coverage_file] or discover(root)
        cov = load_coverage(cov_files, root=root, tracked=tracked, timeout=cfg.timeout)
        junit = [root / p for p in args.junit]
        results = load_results(junit, None) if junit else []
    else:
        with scratch() as work:
            run = run_tests(cfg.test_command, root=root, out_dir=work / "save-run", timeout=cfg.timeout)
            cov = load_coverage(run.data_files, root=root, tracked=tracked, timeout=cfg.timeout)
            results = load_results(run.junit_files, run.results_file)
            if cfg.rerun_failures and results:   # flaky ids, so a PR can tell "known flaky on the base"
                rerun_failed(results, command=cfg.test_command, root=root, out_dir=work / "rerun",
                             timeout=cfg.timeout)
    return cov, (triage.outcomes(results) if results else None)
