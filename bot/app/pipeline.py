"""The main job, ``covbot report``: collect → load → diff → baseline → analyze → gate → render.

This is the imperative shell: it runs git and the tests, reads files, and hands plain
data to the pure stages. :func:`run_report` reads as the data flow, one call a stage.
A stage that fails on bad input does not lose the others' work: its error is logged at
its place in the flow, everything that could be computed is still written
(report.json, comment.md), and the exit status says an input was bad.

Given files (``--no-run``) are read on both cores: one forked child (:mod:`bot.app.given`) reads the baseline
file and the JUnit files (:mod:`bot.runs.prefetch`) and ``git diff`` runs while this
process loads the head coverage and makes baseline.json's rows; each value the child
hands back is the one it would have computed here, and its error lands where it would
have been raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.app.flow import ErrorLog, Later, scrub
from bot.app.given import Given, read_given
from bot.app.html_report import PendingPage, start_html_report
from bot.baseline.sources import from_file, rerun
from bot.baseline.summary import coverage_part, write_baseline_file
from bot.inputs.coverage import discover, load_coverage
from bot.runs.changes import DiffJob, changed_lines
from bot.inputs.junit import load_results
from bot.inputs.results_log import mark_unfinished, not_run
from bot.inputs.pytest_config import suite_files
from bot.inputs.sources import source_reader
from bot.model.config import Config
from bot.model.coverage import Baseline, CoverageSet
from bot.model.diff import Diff
from bot.model.errors import EXIT_GATE_FAILED, EXIT_INPUT_ERROR, EXIT_PASSED, CovbotError, GitError
from bot.model.report import Report, json_text
from bot.render.error import error_comment
from bot.render.markdown import render_comment
from bot.runs import prefetch
from bot.runs.collect import LOCAL, remove_scratch, run_tests, scratch_dir
from bot.runs.git import Git
from bot.runs.joblog import JobLog
from bot.runs.outfiles import check_folder, write_files
from bot.stages import analyze, gate, tiers, triage, who_tests


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
    #: Where the commands' output and covbot's messages go (fenced from the runner in the Action).
    log: JobLog = LOCAL
    #: Keep covbot's scratch folder (its test runs' data files) for the caller, which
    #: removes it (``Outcome.work``): the Action's push makes coverage.py's HTML from them.
    keep_work: bool = False


@dataclass
class Outcome:
    """What ``covbot report`` produced: the report, the comment, errors, exit status, files."""

    report: Report | None            # when coverage could be computed
    comment: str
    errors: list[CovbotError]
    exit_code: int
    paths: dict[str, Path] = field(default_factory=dict)
    #: The report's large inputs (coverage, test results, the diff), for a caller that
    #: exits right away and would rather not free them one by one.
    inputs: tuple = ()
    work: Path | None = None          # the scratch folder, when the caller keeps it


@dataclass
class Run:
    """One ``covbot report`` run: its options, the checkout, and what is known so far."""

    opts: Options
    git: Git
    tracked: list[str]
    head: dict
    errors: ErrorLog = field(default_factory=ErrorLog)
    base: dict = field(default_factory=lambda: {"ref": None, "sha": None, "merge_base": None})
    work: Path | None = None        # where covbot's own test runs write
    notes: list[str] = field(default_factory=list)   # warnings for the comment and stderr
    given: Given | None = None      # the given files, being read since the start
    not_run: int | None = None      # collected tests a run cut short never reached
    page: PendingPage | None = None   # the PR's HTML page, its file sections being rendered

    @property
    def cfg(self) -> Config:
        return self.opts.config

    @property
    def root(self) -> Path:
        return self.opts.root

    @property
    def merge_base(self) -> str | None:
        return self.base["merge_base"]


@dataclass
class Head:
    """The head's measurements: coverage, the test results (perhaps still being read)."""

    coverage: CoverageSet | None = None
    results: Later = field(default_factory=lambda: Later.of([]))
    summary: Later | None = None     # baseline.json's coverage rows, made beside the report


def run_report(opts: Options) -> Outcome:
    run = start(opts)
    kept = False
    try:
        diff = locate_base(run)
        if run.errors.list() and not opts.no_run:   # a missing base: said in seconds, no test run
            return write_outputs(run, None, Head(), diff.get())
        given = run.given
        head = collect_head(run, given, diff)
        baseline = find_baseline(run, head, given)
        meanwhile(run, head)
        report = build_report(run, head, baseline, diff.get())
        outcome = write_outputs(run, report, head, diff.get())
        if opts.keep_work:
            outcome.work, kept = run.work, True
    finally:
        if not kept:
            remove_scratch(run.work)   # covbot's own runs' files: gone after a failure or Ctrl-C too
    outcome.inputs = (head.coverage, baseline, head.results.get(), diff.get(), run.tracked)
    return outcome


# -- the stages ---------------------------------------------------------------------------

def start(opts: Options) -> Run:
    """The checkout: tracked files and the head commit (the PR head when HEAD is a merge)."""
    check_folder(opts.output_dir, root=opts.root)   # a linked output folder is refused before any work
    git = Git(opts.root)
    tracked = git.tracked_files()
    given = read_given(opts.root, opts.junit_files, opts.config.baseline, tracked, no_run=opts.no_run)
    checkout_sha = git.head_sha()
    head = {"sha": opts.head_sha or checkout_sha, "ref": opts.head_ref or git.current_branch(),
            "checkout_sha": checkout_sha}
    run = Run(opts=opts, git=git, tracked=tracked, head=head, given=given)
    # covbot's own test runs write to a scratch folder (a report of given files makes none)
    if not (opts.no_run and opts.config.baseline not in ("rerun", "auto")):
        run.work = scratch_dir()
    return run


def locate_base(run: Run) -> Later:
    """Base, merge-base and the changed lines. First: it is cheap, and a missing base must
    be reported before a long test run. With given files git computes the diff while the
    coverage loads (a test run would change the tree)."""
    try:
        ref, sha = run.git.resolve_base(run.cfg.base or run.git.default_branch())
        merge_base = run.git.merge_base(sha, "HEAD")
        run.base = {"ref": ref, "sha": sha, "merge_base": merge_base}
        _check_base_is_not_head(run, ref, sha)
        if run.opts.no_run:
            return Later(DiffJob(run.git, merge_base).result, run.errors, default=Diff())
        return Later.of(changed_lines(run.git, merge_base))
    except GitError as exc:
        run.errors.add(exc)
        return Later.of(Diff())


def _check_base_is_not_head(run: Run, ref: str, sha: str) -> None:
    """A base that is HEAD's own commit or branch makes every PR look empty: say so."""
    branch = run.head.get("ref")
    same_branch = branch and ref.removeprefix("origin/") == branch
    if sha != run.head.get("checkout_sha") and not same_branch:
        return
    what = f"branch {branch!r}" if same_branch else f"commit {sha[:7]}"
    note = (f"the base {ref!r} resolves to HEAD's own {what}, so the PR shows no changes; "
            "pass the branch the PR targets with --base (or `base:` in the Action)")
    run.notes.append(note)
    run.opts.log.message(f"covbot: warning: {note}")


def collect_head(run: Run, given: Given, diff: Later) -> Head:
    """The head's coverage and test results: run the tests, or read the given files.
    Coverage and results are loaded separately: a bad JUnit file must not cost the
    coverage report, nor a bad coverage file the test results. A run that crashed or
    timed out still hands over whatever it wrote."""
    head = Head()
    junit, results_file, cut_short, complete = given.junit, None, None, False
    if run.opts.no_run:
        head.coverage = _load(run, lambda: [run.root / p for p in run.opts.coverage_files] or discover(run.root))
    else:
        test_run, cut_short = _run_tests(run, who_tests.files_to_record(diff.get(), run.root, run.cfg.contexts))
        complete = test_run is not None and cut_short is None
        if test_run is not None:
            junit, results_file = test_run.junit_files, test_run.results_file
            if test_run.data_files:
                head.coverage = _load(run, lambda: test_run.data_files)
    if given.junit_job is not None:
        head.results = Later(given.junit_job.result, run.errors, default=[])
    elif junit or results_file is not None:
        head.results = Later.of(_read_results(run, junit, results_file, cut_short=cut_short, complete=complete))
    if head.coverage is not None:
        cov, git, sha = head.coverage, run.git, run.head["sha"]
        part = Later(lambda: coverage_part(cov, git=git, sha=sha))
        # baseline.json's costly part, needed last: made by :func:`meanwhile`, or after a
        # test run by a child at a lower priority while the results are read and rerun.
        head.summary = part if run.opts.no_run else Later(prefetch.start(part.get, nice=10).result)
    return head


def meanwhile(run: Run, head: Head) -> None:
    """With given files, baseline.json's rows, made while git's diff and the child finish
    (an error is raised again where they are used)."""
    if run.opts.no_run and head.summary is not None:
        try:
            head.summary.get()
        except (CovbotError, OSError):
            head.summary = None


def _load(run: Run, files) -> CoverageSet | None:
    try:
        return load_coverage(files(), root=run.root, tracked=run.tracked, timeout=run.cfg.timeout,
                             contexts=run.cfg.contexts)
    except CovbotError as exc:
        run.errors.add(exc)
        return None


def _run_tests(run: Run, contexts: list[Path] | None):
    """The test command under coverage, ``contexts`` (files) recorded per test: ``(the run
    or None, the error that cut it short)``."""
    try:
        return run_tests(run.cfg.test_command, root=run.root, out_dir=run.work / "head-run",
                         timeout=run.cfg.timeout, contexts=contexts, log=run.opts.log), None
    except CovbotError as exc:
        run.errors.add(exc)
        test_run = getattr(exc, "run", None)   # a run that crashed or timed out: what it wrote
        return test_run, (exc if test_run is not None else None)


def _read_results(run: Run, junit: list[Path], results_file: Path | None, *,
                  cut_short: CovbotError | None, complete: bool) -> list:
    """The test results; after a killed run the unfinished tests are errors, after a
    complete one the failures are rerun to tell flaky from failing."""
    results = []
    try:
        results = load_results(junit, results_file)
        if cut_short is not None and results_file is not None:
            mark_unfinished(results, results_file, cut_short.message)
            run.not_run = not_run(results, results_file)
        if complete and run.cfg.rerun_failures and results:
            from bot.runs.rerun import rerun_failed   # start-up time: only after a test run

            rerun_failed(results, command=run.cfg.test_command, root=run.root, out_dir=run.work / "rerun",
                         timeout=run.cfg.timeout, log=run.opts.log)
    except CovbotError as exc:
        run.errors.add(exc)
    return results


def find_baseline(run: Run, head: Head, given: Given) -> Baseline:
    """The base's numbers, by ``baseline`` mode: none, a rerun on the merge-base, the
    data branch's stored summary, or a file."""
    mode, merge_base = run.cfg.baseline, run.merge_base
    if head.coverage is None:
        return Baseline(coverage=None, info={"mode": "none", "description": "none"})
    try:
        if mode == "none":
            return Baseline(coverage=None, info={"mode": "none", "description": "none (deltas are n/a)"})
        if mode == "rerun":
            if merge_base is None:
                return Baseline(coverage=None, info={"mode": "none", "description": "none: the merge-base is unknown"})
            return rerun(run.git, merge_base=merge_base, config=run.cfg, root=run.root, out_dir=run.work,
                         log=run.opts.log)
        if mode == "auto":
            from bot.baseline import stored   # start-up time: only this mode reads the data branch

            return stored.load_for_report(run.git, merge_base=merge_base, config=run.cfg, root=run.root,
                                          out_dir=run.work, log=run.opts.log)
        if given.baseline_job is not None:
            return given.baseline_job.result()
        return from_file(run.root / mode, root=run.root, tracked=run.tracked)
    except CovbotError as exc:
        run.errors.add(exc)
        return Baseline(coverage=None, info={"mode": "none", "description": f"none: {exc.message}"})


def build_report(run: Run, head: Head, baseline: Baseline, diff: Diff) -> Report | None:
    """Analyze, triage, tiers, gate: the pure stages over what was collected."""
    if head.coverage is None:
        return None
    cfg, opts = run.cfg, run.opts
    report = analyze.build_report(head=head.coverage, base=baseline.coverage, diff=diff, config=cfg,
                                  head_info=run.head, base_info=run.base, baseline_info=baseline.info)
    read_source = source_reader(run.root)   # one reader: a file the stages both look into is read once
    ran = who_tests.apply(report, head=head.coverage, diff=diff, read_source=read_source)
    results = head.results.get()
    report.links = dict(opts.links, head_sha=run.head["sha"])
    if opts.pr_number:
        report.links["pr_number"] = opts.pr_number
    # The HTML page's file sections need only the analysis: rendered beside the stages below.
    run.page = start_html_report(opts.output_dir, report, head.coverage, diff, run.root)
    if results:
        report.tests = triage.build_tests(results, base=baseline.tests, measured=set(head.coverage.files),
                                          root=run.root, config=cfg,
                                          changed={p: f.added_lines for p, f in diff.files.items()},
                                          known=set(run.tracked), read_source=read_source, ran=ran)
        if run.not_run is not None:
            report.tests["not_run"] = run.not_run
    tiers.apply(report, head=head.coverage, base=baseline.coverage, config=cfg,
                is_test=suite_files(run.root).__contains__)
    info = baseline.info or {}
    if info.get("trend"):
        report.trend = info["trend"]
    if info.get("warning"):
        report.warnings.append(info["warning"])   # e.g. no stored baseline: said, never a silent zero
    report.warnings.extend(cfg.notes)   # e.g. a PR that changes the gate: effective once merged
    report.warnings.extend(run.notes)   # e.g. a base that is HEAD itself
    errors = run.errors.list()
    report.warnings.extend(exc.message for exc in errors)
    report.settings = {"gate": list(cfg.gate), "diff_threshold": cfg.diff_threshold,
                       "min_lines": cfg.min_lines, "total_drop": cfg.total_drop,
                       "pass_rate": cfg.pass_rate, "goal": cfg.goal, "config": cfg.source}
    report.input_errors = [exc.message for exc in errors]
    report.verdict = gate.evaluate(report, cfg)
    return report


def write_outputs(run: Run, report: Report | None, head: Head, diff: Diff) -> Outcome:
    """report.json, comment.md and baseline.json (the summary a push job stores without
    rerunning the tests); without coverage, whatever could still be computed."""
    opts, cfg = run.opts, run.cfg
    if report is not None:
        try:
            part = head.summary.get() if head.summary is not None else None
            write_baseline_file(opts.output_dir, head.coverage, head.results.get(), git=run.git,
                                sha=run.head["sha"], ref=run.head.get("ref"), part=part, root=run.root)
        except (CovbotError, OSError) as exc:
            report.warnings.append(f"baseline.json not written: {exc}")
        if run.page is not None:
            run.page.finish()   # html/index.html, named in the links, or a warning: before the comment
        comment = render_comment(report, comment_id=cfg.comment_id, max_files=cfg.max_comment_files)
        doc = report.to_dict()
    else:
        partial = _partial(run, head, diff)
        comment = error_comment(run.errors.list(), cfg.comment_id, tests=partial["tests"])
        doc = {"schema_version": 1, "error": True, **partial}
    errors = run.errors.list()
    doc["errors"] = [{"message": e.message, "hint": e.hint} for e in errors]
    paths = _write_files(opts.output_dir, doc, comment, root=run.root)
    if errors:
        code = max(EXIT_INPUT_ERROR, max(e.exit_code for e in errors))
    elif report is not None and not report.verdict.passed:
        code = EXIT_GATE_FAILED
    else:
        code = EXIT_PASSED
    # A non-UTF-8 file name (a lone surrogate) is printed and posted as U+FFFD, as comment.md has it.
    return Outcome(report=report, comment=scrub(comment), errors=errors, exit_code=code, paths=paths)


def _partial(run: Run, head: Head, diff: Diff) -> dict:
    """What a run without coverage still knows: head, base, the diff, the test results."""
    partial = {"head": run.head, "base": run.base,
               "diff": {"changed_files": sorted(diff.files), "deleted_files": sorted(diff.deleted),
                        "num_changed_lines": diff.num_changed_lines},
               "tests": None}
    results = head.results.get()
    if results:
        try:
            partial["tests"] = triage.build_tests(results, base=None, measured=set(), root=run.root,
                                                  config=run.cfg, read_source=source_reader(run.root))
        except CovbotError as exc:
            run.errors.add(exc)
    return partial


def _write_files(out: Path, doc: dict, comment: str, *, root: Path) -> dict[str, Path]:
    """report.json and comment.md, written without following links (:mod:`bot.runs.outfiles`)."""
    try:
        data = json_text(doc).encode("utf-8")
    except UnicodeEncodeError:   # a non-UTF-8 file name from git or the file system
        data = json_text(scrub(doc)).encode("utf-8")
    written = write_files(out, {"report.json": data, "comment.md": scrub(comment).encode("utf-8")}, root=root)
    return {"report": written["report.json"], "comment": written["comment.md"]}


def print_errors(errors: list[CovbotError], log: JobLog = LOCAL) -> None:
    for e in errors:
        log.message(f"covbot: error: {e}")
