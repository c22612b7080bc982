"""The PR run's HTML report, ``<output-dir>/html/index.html`` (:mod:`bot.render.pr_html`):
the changed files' sources read from the checkout, their lines' coverage from the head's
measurements, and a note in ``report.links`` for the comment's footer."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from bot.model.coverage import CoverageSet, FileCoverage
from bot.model.diff import Diff
from bot.model.errors import CovbotError
from bot.model.report import Report
from bot.render.markup import href
from bot.render.pr_html import FileLines, pr_report_parts
from bot.runs import prefetch
from bot.runs.outfiles import write_files

HTML_DIR = "html"
#: A changed file larger than this is listed without its source.
MAX_SOURCE_BYTES = 2_000_000
#: Changed lines shown in all, so a huge PR's page stays a few megabytes; the files
#: after that are listed with their figures only.
MAX_SHOWN_LINES = 20_000


def _source(root: Path, real_root: str, path: str) -> list[str] | None:
    """The file's lines, when it is a regular file inside the checkout (never a link out;
    ``real_root``: the checkout's real path, worked out once)."""
    full = root / path
    try:
        if full.is_symlink() or not full.is_file() or full.stat().st_size > MAX_SOURCE_BYTES:
            return None
        if os.path.commonpath([os.path.realpath(full), real_root]) != real_root:
            return None
        return source_lines(full.read_bytes().decode("utf-8", "replace"))
    except (OSError, ValueError):
        return None


def source_lines(text: str) -> list[str]:
    """``text``'s lines as Python (and so coverage.py) numbers them: broken at ``\n``,
    ``\r\n`` and ``\r`` only; ``str.splitlines`` also breaks at a form feed and other
    characters Python reads as whitespace, which would shift every later line."""
    lines = text.splitlines()
    if len(lines) == text.count("\n") + (not text.endswith("\n")) - (not text):
        return lines    # no break but newlines (the common case: one pass in C)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def file_lines(report: Report, coverage: CoverageSet, diff: Diff, root: Path) -> list[FileLines]:
    """The changed measured files, most missing changed lines first (as in the comment)."""
    def key(row):
        fd = report.diff.files.get(row.path)
        return (-(len(fd.missing_lines) if fd else 0), row.path)

    out, shown, real_root = [], 0, os.path.realpath(root)
    for row in sorted(report.changed_files, key=key):
        fc = coverage.files.get(row.path)
        changed = diff.files[row.path].added_lines if row.path in diff.files else set()
        shown += len(changed)
        if shown > MAX_SHOWN_LINES:
            out.append(FileLines(path=row.path, source=None, omitted=f"Not shown: the page shows the first "
                                 f"{MAX_SHOWN_LINES} changed lines; report.json has this file's figures."))
            continue
        f = FileLines(path=row.path, source=None, changed=set(changed),
                      reader=partial(_source, root, real_root, row.path))
        if isinstance(fc, FileCoverage):   # read only, never changed: the file's own sets
            f.statements, f.missing, f.partial = fc.statements, fc.missing, set(fc.partial_lines())
        out.append(f)
    return out


class PendingPage:
    """The page being written (by a forked child when one can be: its 50 to 100 ms on a
    large PR overlap the comment and report.json). The report already names the page,
    as the comment must; :meth:`finish` takes the name back, with a warning, if it was
    not written."""

    def __init__(self, job: prefetch.Job, report: Report, path: Path):
        self._job, self._report, self.path = job, report, path

    def finish(self) -> Path | None:
        error = self._job.result()      # the child's answer, or the page written here
        if error is None:
            return self.path
        self._report.links.pop("html_report", None)
        self._report.warnings.append(f"the HTML report was not written: {error}")
        return None


def start_html_report(out_dir: Path, report: Report, coverage: CoverageSet | None, diff: Diff,
                      root: Path) -> PendingPage | None:
    """Check the page's URL input, name the page in the report and start writing it;
    None when there is no coverage to show."""
    url = report.links.get("html_report_url")
    if url and not (href(url) or "").startswith(("https://", "http://")):
        report.warnings.append(f"input html-report-url {url!r} is not an http(s) URL; the comment points to "
                               "the run instead")
        report.links.pop("html_report_url")
    if coverage is None:
        return None
    target = out_dir / HTML_DIR
    job = prefetch.start(_write_page, target, report, coverage, diff, root)
    try:
        report.links["html_report"] = (target / "index.html").relative_to(root).as_posix()
    except ValueError:
        report.links["html_report"] = f"{HTML_DIR}/index.html"
    return PendingPage(job, report, target / "index.html")


def _write_page(target: Path, report: Report, coverage: CoverageSet, diff: Diff, root: Path) -> str | None:
    """Write ``target/index.html``; the error that stopped it, else None."""
    try:
        head = (report.head or {}).get("sha") or ""
        parts = pr_report_parts(report, file_lines(report, coverage, diff, root),
                                title=f"Coverage of {head[:12]}" if head else "Coverage of this change")
        pages = (part.encode("utf-8", "replace") for part in parts)   # one changed file at a time
        write_files(target, {"index.html": pages}, root=root)   # no link followed
    except (OSError, CovbotError) as exc:
        return str(exc)
    return None
