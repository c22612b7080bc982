"""What a workflow step hands back to the runner: outputs, the job summary, annotations.

- ``$GITHUB_OUTPUT``: every value written as ``name<<DELIM`` … ``DELIM`` with a random
  delimiter, so a value (a file name, a message) can never end the block early or add
  outputs of its own.
- ``$GITHUB_STEP_SUMMARY``: always written, even when commenting fails (the caller writes
  it in a ``finally``); capped below GitHub's 1 MiB per step, which the runner counts in
  bytes (a summary over it is refused whole): the cut is on a UTF-8 character boundary
  and says where the full report is.
- Annotations: workflow commands on stdout, one ``::warning`` per range of uncovered
  changed lines, the largest ranges first, at most 10 (GitHub shows no more per type and
  step) and a ``::notice`` saying how many more are in the summary. Properties and
  messages are escaped as the runner expects.
- ``::add-mask::`` for the token, and ``redact`` for any text that might carry it.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Iterable, TextIO

from bot.render import escape
from bot.render.format import ranges

MAX_WARNINGS = 10
#: The runner's limit for one step's summary file, in bytes.
SUMMARY_MAX_BYTES = 1024 * 1024
#: What covbot writes at most, leaving room for what it appends after (an error note).
SUMMARY_LIMIT = SUMMARY_MAX_BYTES - 4096


# -- workflow command escaping (as in @actions/core) ---------------------------------------

def escape_data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props) -> str:
    prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items() if v is not None)
    return f"::{name}{' ' + prop_text if prop_text else ''}::{escape_data(message)}"


def mask(secret: str | None, stream: TextIO | None = None) -> None:
    """Ask the runner to hide ``secret`` in every later log line."""
    if secret:
        for line in str(secret).splitlines() or [secret]:
            if line.strip():
                print(f"::add-mask::{escape_data(line)}", file=stream or sys.stdout, flush=True)


def redact(text: str, secrets_: Iterable[str | None]) -> str:
    for s in secrets_:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


# -- $GITHUB_OUTPUT ---------------------------------------------------------------------------

def format_outputs(values: dict[str, object]) -> str:
    chunks = []
    for name, value in values.items():
        text = "" if value is None else str(value)
        delim = f"ghadelimiter_{secrets.token_hex(16)}"
        while delim in text:          # practically never; never wrong
            delim = f"ghadelimiter_{secrets.token_hex(16)}"
        chunks.append(f"{name}<<{delim}\n{text}\n{delim}\n")
    return "".join(chunks)


def set_outputs(values: dict[str, object], path: str | os.PathLike | None = None) -> None:
    path = path or os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(format_outputs(values))


def report_outputs(report, paths: dict[str, Path], *, error: bool = False) -> dict[str, object]:
    """The action's outputs from a report (empty strings for what is n/a)."""
    def num(v):
        return "" if v is None else f"{v:.2f}"

    if report is None:
        return {"coverage": "", "delta": "", "diff-coverage": "", "verdict": "error",
                "report-path": str(paths.get("report", "")), "comment-path": str(paths.get("comment", ""))}
    verdict = "error" if error else ("passed" if report.verdict.passed else "failed")
    return {"coverage": num(report.totals.get("percent_covered")), "delta": num(report.delta),
            "diff-coverage": num(report.diff.percent_covered), "verdict": verdict,
            "report-path": str(paths.get("report", "")), "comment-path": str(paths.get("comment", ""))}


# -- $GITHUB_STEP_SUMMARY ----------------------------------------------------------------------

def write_summary(text: str, path: str | os.PathLike | None = None, *, full: str = "report.json") -> bool:
    """Append ``text`` to the step summary, cut so that the file stays under
    :data:`SUMMARY_LIMIT` bytes (``full``: where the whole report is, for the note)."""
    path = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    data = (text if text.endswith("\n") else text + "\n").encode("utf-8", "replace")
    with open(path, "ab") as fh:
        room = SUMMARY_LIMIT - fh.tell()
        if len(data) > room:
            note = (f"\n\n… (summary truncated at GitHub's 1 MiB limit; {full} has everything)\n"
                    ).encode("utf-8", "replace")
            keep = max(0, room - len(note))
            # errors="ignore" drops the bytes of a character cut in two
            data = data[:keep].decode("utf-8", "ignore").encode("utf-8") + note if keep else b""
        fh.write(data)
    return True


# -- annotations ---------------------------------------------------------------------------------

def uncovered_ranges(report) -> list[tuple[str, int, int]]:
    """(path, start, end) for every run of uncovered changed lines, largest first."""
    out = []
    for path, fd in report.diff.files.items():
        for start, end in ranges(fd.missing_lines):
            out.append((path, start, end))
    out.sort(key=lambda r: (-(r[2] - r[1] + 1), r[0], r[1]))
    return out


def annotation_commands(report, *, limit: int = MAX_WARNINGS, prefix: str = "") -> list[str]:
    rs = uncovered_ranges(report)
    cmds = []
    for path, start, end in rs[:limit]:
        n = end - start + 1
        what = f"Line {start} is" if n == 1 else f"Lines {start}-{end} are"
        cmds.append(command("warning", f"{what} changed in this pull request but not covered by tests.",
                            file=prefix + path, line=str(start), endLine=str(end),
                            title="Changed lines not covered"))
    if len(rs) > limit:
        cmds.append(command("notice", f"{len(rs) - limit} more range(s) of uncovered changed lines "
                                      "are listed in the job summary.", title="covbot"))
    return cmds


def uncovered_section(report) -> str:
    """All uncovered changed-line ranges, for the summary (annotations stop at 10)."""
    rs = uncovered_ranges(report)
    if not rs:
        return ""
    lines = ["", "#### Uncovered changed lines", "", "| File | Lines |", "|---|---|"]
    for path, start, end in rs:
        lines.append(f"| {escape.code_span(path, limit=200)} | {start if start == end else f'{start}-{end}'} |")
    return "\n".join(lines) + "\n"
