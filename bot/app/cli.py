"""Command line: ``covbot report``, ``covbot baseline save``, ``covbot publish``, ``covbot dashboard``,
``covbot tests-for``.

Thin on purpose: parse arguments, build options, call the pipeline, print, exit.
Exit statuses: 0 gate passed, 1 gate failed, 2 usage or input error, 3 the report was
written but publishing it failed.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import threading
from pathlib import Path

from bot import __version__
from bot.model.errors import EXIT_INPUT_ERROR, CovbotError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2 with one line, like every other input error
        self.print_usage(sys.stderr)
        print(f"covbot: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT_ERROR)


def _collection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-run", action="store_true",
                   help="do not run the tests; read --coverage-file / --junit files (or find them)")
    p.add_argument("--coverage-file", action="append", default=[], metavar="FILE",
                   help="coverage data (.coverage, .coverage.*), coverage.json or coverage.xml; repeatable, combined")
    p.add_argument("--junit", action="append", default=[], metavar="FILE",
                   help="JUnit XML test results; repeatable, combined")
    p.add_argument("--test-command", help="command that runs the tests (default: pytest)")
    p.add_argument("--timeout", type=float, help="seconds before a test run is killed")
    p.add_argument("--config", help="settings file (default: .covbot.yml at the repository root)")
    p.add_argument("-C", "--repo", default=".", help="the git checkout to analyse (default: current directory)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="covbot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"covbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    rep = sub.add_parser("report", help="analyse a checkout and print the PR comment")
    _collection_args(rep)
    rep.add_argument("--base", help="base branch (default: the remote's default branch, else main/master)")
    rep.add_argument("--baseline", help="rerun | auto | none | FILE (report.json or coverage.json); default rerun")
    rep.add_argument("--format", choices=("markdown", "text", "json"), default="markdown",
                     help="what to print (default markdown: the comment)")
    rep.add_argument("--output-dir", default=".covbot", help="where report.json and comment.md go (default .covbot/)")
    rep.add_argument("--fail-on", help="gate rules, comma separated (diff,total-drop,new-failures,pass-rate,"
                                       "tier-regression) or 'none'")
    rep.add_argument("--diff-threshold", type=float, help="minimum diff coverage %% (gate rule diff)")
    rep.add_argument("--min-lines", type=int, help="the diff rule applies from this many changed executable lines")
    rep.add_argument("--comment-id", help="id of the sticky comment (several per PR need different ids)")
    rep.add_argument("--contexts", action=argparse.BooleanOptionalAction, default=None,
                     help="record and read which tests ran each changed line (default on; `contexts:` in .covbot.yml)")
    rep.add_argument("--settings", choices=("auto", "base", "checkout"), default="auto",
                     help="whose settings file applies: the merge-base's (a pull request may not change its own "
                          "gate) or the checkout's; default auto: the merge-base's when GitHub Actions runs "
                          "covbot for a pull request, else the checkout's")
    rep.add_argument("--head-sha", help="the PR's head commit when HEAD is a synthetic merge commit")
    rep.add_argument("--repository", help="owner/name, for links (default $GITHUB_REPOSITORY)")

    base = sub.add_parser("baseline", help="manage stored baselines")
    base_sub = base.add_subparsers(dest="baseline_command", metavar="ACTION", parser_class=_Parser)
    save = base_sub.add_parser("save", help="store the coverage summary of HEAD on the data branch")
    _collection_args(save)
    save.add_argument("--remote", default="origin", help="git remote holding the data branch (default origin)")
    save.add_argument("--data-branch", help="data branch name (default covbot-data)")
    save.add_argument("--output-dir", default=".covbot")

    dash = sub.add_parser("dashboard", help="write the coverage programme's dashboard, read from the data branch")
    dash.add_argument("--output-dir", required=True, help="folder for index.html and coverage.py's report (html/)")
    dash.add_argument("--remote", default="origin", help="git remote holding the data branch (default origin)")
    dash.add_argument("--data-branch", help="data branch name (default covbot-data)")
    dash.add_argument("--window-days", type=int, help="days of saves the pace is fitted over (default 56)")
    dash.add_argument("--repository", help="owner/name, for links (default $GITHUB_REPOSITORY)")
    dash.add_argument("--config", help="settings file (default: .covbot.yml at the repository root)")
    dash.add_argument("-C", "--repo", default=".", help="the git checkout (default: current directory)")

    pub = sub.add_parser("publish", help="post an already rendered report (the privileged half of the fork-safe setup)")
    pub.add_argument("--report-dir", default=".covbot", help="folder with report.json and comment.md")
    pub.add_argument("--repository", help="owner/name (default $GITHUB_REPOSITORY)")
    pub.add_argument("--pr", type=int, help="pull request number (default: found from the report and the run)")
    pub.add_argument("--head-sha", help="head SHA of the triggering run; the PR must have it")
    pub.add_argument("--comment-id", help="id of the sticky comment")
    tf = sub.add_parser("tests-for", help="the tests that ran a changed file or line in the last report")
    tf.add_argument("target", metavar="PATH[:LINE]", help="a changed file of the last report, with a line or not")
    tf.add_argument("--report-dir", default=".covbot", help="folder with report.json (default .covbot/)")
    tf.add_argument("-C", "--repo", default=".", help="the git checkout (default: current directory)")
    return parser


def cmd_report(args) -> int:
    # start-up time: each command imports only what it runs (--help and --version nothing)
    from bot.app.pipeline import Options, print_errors, run_report
    from bot.app.settings import checkout_root, config_from_args
    import json

    from bot.render.text import render_error_text, render_text

    root = checkout_root(args)
    args.repo = str(root)
    cfg = config_from_args(args)
    out_dir = Path(args.output_dir)
    if not out_dir.is_absolute():
        out_dir = root / out_dir
    links = {"server_url": os.environ.get("GITHUB_SERVER_URL", "https://github.com"),
             "repository": args.repository or os.environ.get("GITHUB_REPOSITORY")}
    opts = Options(config=cfg, root=root, output_dir=out_dir, no_run=args.no_run,
                   coverage_files=args.coverage_file, junit_files=args.junit,
                   head_sha=args.head_sha, links=links)
    outcome = run_report(opts)
    if _kept is not None:
        _kept.append(outcome)
    if args.format == "json":
        print(outcome.paths["report"].read_text(encoding="utf-8"), end="")
    elif args.format == "text" and outcome.report is not None:
        print(render_text(outcome.report), end="")
    elif args.format == "text":
        doc = json.loads(outcome.paths["report"].read_text(encoding="utf-8"))
        print(render_error_text(outcome.errors, doc.get("tests")), end="")
    else:
        print(outcome.comment, end="")
    print_errors(outcome.errors)
    print(f"covbot: wrote {outcome.paths['report']} and {outcome.paths['comment']}", file=sys.stderr)
    return outcome.exit_code


def cmd_baseline(args) -> int:
    if args.baseline_command != "save":
        raise UsageError("usage: covbot baseline save [options]")
    from bot.app.baseline_command import save_baseline   # start-up time: see cmd_report

    return save_baseline(args)


def cmd_publish(args) -> int:
    from bot.app.publish_command import cmd_publish as publish   # start-up time: see cmd_report

    return publish(args)


def cmd_dashboard(args) -> int:
    from bot.app.dashboard_command import cmd_dashboard as dashboard   # start-up time: see cmd_report

    return dashboard(args)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled job, ``docker stop``), raised where Ctrl-C would be: the
    test command's process group is ended and covbot's scratch folders are removed."""


def _terminate(signum, frame):
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_INPUT_ERROR
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "report":
            return cmd_report(args)
        if args.command == "baseline":
            return cmd_baseline(args)
        if args.command == "publish":
            return cmd_publish(args)
        if args.command == "dashboard":
            return cmd_dashboard(args)
        if args.command == "tests-for":
            from bot.app.tests_for_command import cmd_tests_for   # start-up time: see cmd_report

            return cmd_tests_for(args)
    except CovbotError as exc:
        print(f"covbot: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print("covbot: interrupted", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except Exception as exc:  # noqa: BLE001 - the user sees one line, not a traceback
        if os.environ.get("COVBOT_DEBUG"):
            raise
        print(f"covbot: internal error: {type(exc).__name__}: {exc}\n"
              "  hint: this is a covbot bug; rerun with COVBOT_DEBUG=1 for the traceback and report it",
              file=sys.stderr)
        return EXIT_INPUT_ERROR
    return EXIT_INPUT_ERROR


#: Set by :func:`run`: the process leaves with os._exit, so a report's large inputs are
#: kept to the end instead of being freed one by one when the report returns.
_kept: list | None = None


def run() -> None:
    """The ``covbot`` console script: :func:`main`, then a quick exit.

    When covbot is done, everything it writes is written and closed. Tearing the
    interpreter down would then free a large report's objects one by one, which costs
    more than writing the report: the exit handlers run, the output is flushed, and the
    process leaves at once (unless another thread still works, when it exits normally).
    """
    global _kept
    _kept = []
    code = main()

    if threading.active_count() != 1 or not hasattr(atexit, "_run_exitfuncs"):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed pipe (covbot report | head): nothing to lose
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
