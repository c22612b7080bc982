"""The main job, ``covbot report``: collect → load → diff → baseline → analyze → gate → render.

This is the imperative shell: it runs git and the tests, reads files, and hands plain
data to the pure stages. A stage that fails on bad input does not lose the others'
work: the error is recorded, everything that could be computed is still written
(report.json, comment.md), and the exit status says an input was bad.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.model.config import Config
from bot.model.errors import EXIT_GATE_FAILED, EXIT_INPUT_ERROR, EXIT_PASSED, CovbotError, GitError
from bot.runs.git import Git


@dataclass
class Options:
    """Everything ``covbot report`` needs, already parsed (from flags or action inputs)."""

    config: Config
    root: Path
    output_dir: Path
    no_run: bool = False
    coverage_files: list[str] = field(default_factory=list)
    junit_files: list[str] = field(default_factory=list)
    head_sha: str | None = None        # the PR head when HEAD is a synthetic merge commit
    head_ref: str | None = None
    links: dict = field(default_factory=dict)
    pr_number: int | None = None


@dataclass
class Outcome:
    """What ``covbot report`` produced: the report, the comment, errors, exit status, files."""

    report: object | None            # bot.model.report.Report, when coverage could be computed
    comment: str
    errors: list[CovbotError]
    exit_code: int
    paths: dict[str, Path] = field(default_factory=dict)
    #: The report's large inputs (coverage, test results, the diff), for a caller that
    #: exits right away and would rather not free them one by one.
    inputs: tuple = ()


def run_report(opts: Options) -> Outcome:
    cfg = opts.config
    root = opts.root
    errors: list[CovbotError] = []
    git = Git(root)
    tracked = git.tracked_files()
    junit: list[Path] = [root / p for p in opts.junit_files]   # absolute paths stay as they are
    checkout_sha = git.head_sha()
    head_sha = opts.head_sha or checkout_sha
    head_info = {"sha": head_sha, "ref": opts.head_ref or git.current_branch(),
                 "checkout_sha": checkout_sha}
    base_info: dict = {"ref": None, "sha": None, "merge_base": None}

    # -- diff (first: cheap, and a missing base should be reported before a long test run)
    from bot.inputs.diff import Diff, DiffJob, changed_lines

    diff = Diff()
    diff_job = None
    merge_base = None
    try:
        base_name = cfg.base or git.default_branch()
        ref_used, base_sha = git.resolve_base(base_name)
        merge_base = git.merge_base(base_sha, "HEAD")
        base_info = {"ref": ref_used, "sha": base_sha, "merge_base": merge_base}
        if opts.no_run:   # git computes the diff while coverage loads (tests would change the tree)
            diff_job, diff_slot = DiffJob(git, merge_base), len(errors)
        else:
            diff = changed_lines(git, merge_base)
    except GitError as exc:
        errors.append(exc)

    # Given inputs: forked children read the JUnit files and the baseline file while git
    # computes the diff and this process loads the head coverage (bot.runs.prefetch; same
    # values, same errors). They start early, before the imports they do not need.
    from bot.baseline.sources import from_file, rerun
    from bot.inputs.junit import load_results

    junit_job = base_job = None
    if opts.no_run:
        from bot.runs import prefetch

        if junit:
            from bot.inputs.junit import pack_results, unpack_results

            junit_job = prefetch.start(load_results, junit, None, pack=pack_results, unpack=unpack_results)
        if cfg.baseline not in ("none", "rerun", "auto"):
            from bot.inputs.coverage import prepare

            prepare([root / cfg.baseline])
            base_job = prefetch.start(lambda: from_file(root / cfg.baseline, root=root, tracked=tracked))

    from bot.stages import analyze, gate, triage
    from bot.runs.collect import run_tests, scratch_dir
    from bot.inputs.coverage import discover, load_coverage
    from bot.model.coverage import Baseline

    # -- collect and load head coverage
    # Where covbot's own test runs write (made only when tests run: a report of given files
    # leaves nothing behind in the temporary folder).
    work = None if opts.no_run and cfg.baseline not in ("rerun", "auto") else scratch_dir()
    head_cov = None
    results = []
    # Coverage and test results are loaded separately: a bad JUnit file must not cost the
    # coverage report, nor a bad coverage file the test results. A run that crashed or
    # timed out still hands over whatever it wrote (exc.run).
    data_files: list[Path] = []
    results_file = None
    complete_run = False
    cut_short = None   # the error that ended the test run early (a timeout, a signal)
    if opts.no_run:
        try:
            data_files = [root / p for p in opts.coverage_files] or discover(root)
            head_cov = load_coverage(data_files, root=root, tracked=tracked)
        except CovbotError as exc:
            errors.append(exc)
    else:
        run = None
        try:
            run = run_tests(cfg.test_command, root=root, out_dir=work / "head-run", timeout=cfg.timeout)
            complete_run = True
        except CovbotError as exc:
            errors.append(exc)
            run = getattr(exc, "run", None)
            cut_short = exc if run is not None else None
        if run is not None:
            junit, results_file = run.junit_files, run.results_file
            if run.data_files:
                try:
                    head_cov = load_coverage(run.data_files, root=root, tracked=tracked)
                except CovbotError as exc:
                    errors.append(exc)
    if (junit or results_file is not None) and junit_job is None:
        try:
            results = load_results(junit, results_file)
            if cut_short is not None and results_file is not None:
                _mark_unfinished(results, results_file, cut_short.message)
            if complete_run and cfg.rerun_failures and results:
                from bot.runs.rerun import rerun_failed

                rerun_failed(results, command=cfg.test_command, root=root, out_dir=work / "rerun",
                             timeout=cfg.timeout)
        except CovbotError as exc:
            errors.append(exc)
    junit_slot = len(errors)   # where an error of the JUnit files goes, as if read here
    summary_job = None
    if head_cov is not None:
        # baseline.json's costly part, the coverage rows, is made by a forked child while
        # the report is made (bot.runs.prefetch); the file is written at the end.
        from bot.runs import prefetch
        from bot.baseline.store import coverage_part

        # It is needed last: at a lower priority, it yields the core to the readers and git.
        summary_job = prefetch.start(lambda: coverage_part(head_cov, git=git, sha=head_sha), nice=10)

    # -- baseline
    baseline = Baseline(coverage=None, info={"mode": "none", "description": "none"})
    mode = cfg.baseline
    if head_cov is not None:
        try:
            if mode == "none":
                baseline.info = {"mode": "none", "description": "none (deltas are n/a)"}
            elif mode == "rerun":
                if merge_base is None:
                    baseline.info = {"mode": "none", "description": "none: the merge-base is unknown"}
                else:
                    baseline = rerun(git, merge_base=merge_base, config=cfg, root=root, out_dir=work)
            elif mode == "auto":
                from bot.baseline import store

                baseline = store.load_for_report(git, merge_base=merge_base, config=cfg, root=root,
                                                 out_dir=work)
            else:
                baseline = base_job.result() if base_job else from_file(root / mode, root=root, tracked=tracked)
        except CovbotError as exc:
            errors.append(exc)
            baseline = Baseline(coverage=None, info={"mode": "none",
                                                     "description": f"none: {exc.message}"})

    def collect_junit():   # late, so that both cores stay busy; its error keeps its place
        try:
            return junit_job.result()
        except CovbotError as exc:
            errors.insert(junit_slot, exc)
            return []

    if diff_job is not None:   # late: git ran while the coverage files were read
        try:
            diff = diff_job.result()
        except GitError as exc:
            errors.insert(diff_slot, exc)
            junit_slot += 1

    report = None
    if head_cov is not None:
        report = analyze.build_report(head=head_cov, base=baseline.coverage, diff=diff, config=cfg,
                                      head_info=head_info, base_info=base_info,
                                      baseline_info=baseline.info)
        if junit_job is not None:
            results = collect_junit()
        report.links = dict(opts.links, head_sha=head_sha)
        if opts.pr_number:
            report.links["pr_number"] = opts.pr_number
        if results:
            report.tests = triage.build_tests(results, base=baseline.tests,
                                              measured=set(head_cov.files), root=root, config=cfg,
                                              changed={p: f.added_lines for p, f in diff.files.items()},
                                              known=set(tracked))
        _extend(report, head_cov, baseline, cfg, git)
        for exc in errors:
            report.warnings.append(exc.message)
        report.settings = {"gate": list(cfg.gate), "diff_threshold": cfg.diff_threshold,
                           "min_lines": cfg.min_lines, "total_drop": cfg.total_drop,
                           "pass_rate": cfg.pass_rate, "goal": cfg.goal, "config": cfg.source}
        report.input_errors = [exc.message for exc in errors]
        report.verdict = gate.evaluate(report, cfg)
        try:   # the summary a baseline save stores: a push job saves it without rerunning the tests
            from bot.baseline.store import write_baseline_file

            write_baseline_file(opts.output_dir, head_cov, results, git=git, sha=head_sha,
                                ref=head_info.get("ref"), part=summary_job.result())
        except (CovbotError, OSError) as exc:
            report.warnings.append(f"baseline.json not written: {exc}")

    partial = None
    if report is None and junit_job is not None:
        results = collect_junit()
    if report is None:   # no coverage: keep what was computed all the same
        partial = {"head": head_info, "base": base_info,
                   "diff": {"changed_files": sorted(diff.files), "deleted_files": sorted(diff.deleted),
                            "num_changed_lines": diff.num_changed_lines},
                   "tests": None}
        if results:
            try:
                partial["tests"] = triage.build_tests(results, base=None, measured=set(), root=root,
                                                      config=cfg)
            except CovbotError as exc:
                errors.append(exc)
    outcome = _write(opts, report, errors, partial)
    outcome.inputs = (head_cov, baseline, results, diff, tracked)
    return outcome


def _extend(report, head_cov, baseline, cfg, git) -> None:
    """Stages that add to the report: tiers and goal, the coverage trend."""
    try:
        from bot.stages import tiers
    except ImportError:
        tiers = None
    if tiers is not None:
        tiers.apply(report, head=head_cov, base=baseline.coverage, config=cfg)
    trend = baseline.info.get("trend") if baseline.info else None
    if trend:
        report.trend = trend
    warning = baseline.info.get("warning") if baseline.info else None
    if warning:
        report.warnings.append(warning)   # e.g. no stored baseline: said in the comment, never a silent zero


def _write(opts: Options, report, errors: list[CovbotError], partial: dict | None = None) -> Outcome:
    from bot.render.markdown import render_comment
    from bot.model.report import json_text

    out = opts.output_dir
    out.mkdir(parents=True, exist_ok=True)
    paths = {"report": out / "report.json", "comment": out / "comment.md"}
    if report is not None:
        comment = render_comment(report, comment_id=opts.config.comment_id,
                                 max_files=opts.config.max_comment_files)
        doc = report.to_dict()
        doc["errors"] = [{"message": e.message, "hint": e.hint} for e in errors]
    else:
        comment = error_comment(errors, opts.config.comment_id, tests=(partial or {}).get("tests"))
        doc = {"schema_version": 1, "error": True, **(partial or {}),
               "errors": [{"message": e.message, "hint": e.hint} for e in errors]}
    try:
        data = json_text(doc).encode("utf-8")
    except UnicodeEncodeError:   # a non-UTF-8 file name from git or the file system
        data = json_text(_scrub(doc)).encode("utf-8")
    paths["report"].write_bytes(data)
    paths["comment"].write_text(_scrub(comment), encoding="utf-8")
    if errors:
        code = max(EXIT_INPUT_ERROR, max(e.exit_code for e in errors))
    elif report is not None and not report.verdict.passed:
        code = EXIT_GATE_FAILED
    else:
        code = EXIT_PASSED
    return Outcome(report=report, comment=comment, errors=errors, exit_code=code, paths=paths)


def error_comment(errors: list[CovbotError], comment_id: str, tests: dict | None = None) -> str:
    from bot.render import escape
    from bot.render.markdown import marker

    lines = [marker(comment_id), "### ⚠️ covbot could not compute coverage", ""]
    for e in errors:
        lines.append(f"- {escape.inline(e.message, limit=2000)}")
        if e.hint:
            lines.append(f"  - what to do: {escape.inline(e.hint, limit=1000)}")
    if tests and tests.get("total"):
        lines += ["", f"Tests: {tests['total']} run, {tests['passed']} passed, {tests['failed']} failed, "
                      f"{tests['errors']} errors, {tests['skipped']} skipped (details in report.json)."]
        failures = tests.get("failures") or []
        for f in failures[:10]:
            lines.append(f"- {escape.code_span(f['id'], limit=150)}: {escape.inline(f.get('message') or '', limit=200)}")
        if len(failures) > 10:
            lines.append(f"- … {len(failures) - 10} more in report.json")
    return "\n".join(lines) + "\n"


def _mark_unfinished(results: list, results_file: Path, why: str) -> None:
    """Tests that started but never finished (setup logged, no teardown) when the run was
    killed did not pass: they are the ones that hung or crashed."""
    started: set[str] = set()
    finished: set[str] = set()
    for line in results_file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict):
            continue
        (finished if rec.get("when") == "teardown" else started).add(rec.get("nodeid"))
    for r in results:
        if r.id in started - finished and r.outcome in ("passed", "skipped"):
            r.outcome = "error"
            r.attempts = (r.attempts or ["error"])[:-1] + ["error"]
            r.when = "call"
            r.exc_type = "Timeout" if "did not finish" in why else "Crash"
            r.message = f"{r.exc_type}: the test did not finish: {why}"
            r.text = r.message


def _scrub(value):
    """Replace undecodable bytes (lone surrogates from non-UTF-8 names) with U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def print_errors(errors: list[CovbotError]) -> None:
    for e in errors:
        print(f"covbot: error: {e}", file=sys.stderr)
