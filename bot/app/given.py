"""The files a report is given (``--no-run``), read by a forked child from the start.

One child reads the baseline file, then the JUnit files (they need only the tracked
files), sending each value as soon as it is read, while the report's process runs git and
loads the head coverage (:mod:`bot.runs.prefetch`: same values, same errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.baseline.sources import from_file
from bot.inputs.coverage_json import preload
from bot.inputs.junit import load_results
from bot.inputs.results import pack_results, unpack_results
from bot.runs import prefetch


@dataclass
class Given:
    """Given files: the JUnit files; the jobs reading them and the baseline file."""

    junit: list[Path]
    junit_job: prefetch.Job | None = None
    baseline_job: prefetch.Job | None = None


def read_given(root: Path, junit_files: list[str], baseline: str, tracked: list[str], *, no_run: bool) -> Given:
    """Start reading the given files (only with ``no_run``: a test run writes its own)."""
    given = Given(junit=[root / p for p in junit_files])   # absolute paths stay as they are
    if not no_run:
        return given
    if baseline not in ("none", "rerun", "auto"):
        path = root / baseline
        preload(path)     # msgspec, imported once for both processes
        given.baseline_job = prefetch.Job(lambda: from_file(path, root=root, tracked=tracked))
    if given.junit:
        given.junit_job = prefetch.Job(load_results, (given.junit, None), pack=pack_results, unpack=unpack_results)
    prefetch.start_all([job for job in (given.baseline_job, given.junit_job) if job is not None])
    return given
