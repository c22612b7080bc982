"""The PR run's HTML report, ``<output-dir>/html/index.html`` (:mod:`bot.render.pr_html`):
the changed files' sources read from the checkout, their lines' coverage from the head's
measurements, and a note in ``report.links`` for the comment's footer."""

from __future__ import annotations

import os
import stat
from functools import partial
from pathlib import Path

from bot.model.coverage import CoverageSet, FileCoverage
from bot.model.diff import Diff
from bot.model.errors import CovbotError
from bot.model.report import Report
from bot.render.markup import href
from bot.render.pr_html import FileLines, file_sections, pr_report_parts
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
        st = full.lstat()   # a link is not followed, and is no regular file
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SOURCE_BYTES:
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


def file_lines(report: Report, diff: Diff, root: Path) -> list[FileLines]:
    """The changed measured files, most missing changed lines first (as in the comment),
    their lines' states still to be set (:func:`_fill`)."""
    def key(row):
        fd = report.diff.files.get(row.path)
        return (-(len(fd.missing_lines) if fd else 0), row.path)

    out, shown, real_root = [], 0, os.path.realpath(root)
    for row in sorted(report.changed_files, key=key):
        changed = diff.files[row.path].added_lines if row.path in diff.files else set()
        shown += len(changed)
        if shown > MAX_SHOWN_LINES:
            out.append(FileLines(path=row.path, omitted=f"Not shown: the page shows the first "
                                 f"{MAX_SHOWN_LINES} changed lines; report.json has this file's figures."))
            continue
        out.append(FileLines(path=row.path, changed=set(changed), reader=partial(_source, root, real_root, row.path)))
    return out


def _fill(files: list[FileLines], coverage: CoverageSet) -> None:
    """Each listed file's statements, missing and partly covered lines (read only, never
    changed: the file's own sets)."""
    for f in files:
        fc = coverage.files.get(f.path)
        if f.omitted is None and isinstance(fc, FileCoverage):
            f.statements, f.missing, f.partial = fc.statements, fc.missing, set(fc.partial_lines())


class PendingPage:
    """The PR's page, its changed files' sections being rendered by a forked child when
    one can be (reading their sources and writing their listings: 50 to 100 ms on a large
    PR) while the triage, tiers and gate run; :meth:`finish` adds the header, which needs
    the gate's verdict, and writes the page."""

    def __init__(self, job: prefetch.Job, report: Report, files: list[FileLines], target: Path, root: Path):
        self._job, self._report, self._files = job, report, files
        self._target, self._root = target, root

    def finish(self) -> Path | None:
        """Write ``html/index.html`` and name it in the report's links; a failure is a
        warning of the report, never a lost report."""
        report, target = self._report, self._target
        try:
            sections = self._job.result()   # the child's, or rendered here
            head = (report.head or {}).get("sha") or ""
            parts = [p.encode("utf-8", "replace") for p in pr_report_parts(
                report, self._files, title=f"Coverage of {head[:12]}" if head else "Coverage of this change",
                sections=())]
            # no link followed; the sections go before the document's end
            write_files(target, {"index.html": [*parts[:-1], sections, parts[-1]]}, root=self._root)
        except (OSError, CovbotError) as exc:
            report.warnings.append(f"the HTML report was not written: {exc}")
            return None
        try:
            report.links["html_report"] = (target / "index.html").relative_to(self._root).as_posix()
        except ValueError:
            report.links["html_report"] = f"{HTML_DIR}/index.html"
        return target / "index.html"


def start_html_report(out_dir: Path, report: Report, coverage: CoverageSet | None, diff: Diff,
                      root: Path) -> PendingPage | None:
    """Check the page's URL input and start rendering the changed files' sections (once
    the analysis made the report's diff, changed files and links); None when there is no
    coverage to show."""
    url = report.links.get("html_report_url")
    if url and not (href(url) or "").startswith(("https://", "http://")):
        report.warnings.append(f"input html-report-url {url!r} is not an http(s) URL; the comment points to "
                               "the run instead")
        report.links.pop("html_report_url")
    if coverage is None:
        return None
    files = file_lines(report, diff, root)
    job = prefetch.start(_sections, report, files, coverage)
    return PendingPage(job, report, files, out_dir / HTML_DIR, root)


def _sections(report: Report, files: list[FileLines], coverage: CoverageSet) -> bytes:
    _fill(files, coverage)
    return "".join(file_sections(report, files)).encode("utf-8", "replace")
