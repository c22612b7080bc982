"""Failure signatures: what groups failures with one cause — the exception type, the
first message line with numbers, addresses and temporary paths normalised, and the
innermost project frame (left out for import errors, whose cause is the imported name,
not the importing line)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.inputs.results import TestResult
from bot.stages.frames import Frame, innermost_project


_TEMP = re.compile(r"(?:/tmp|/var/folders|/private/var|/private/tmp|[A-Za-z]:[\\/]Users[\\/][^\\/\s]+[\\/]AppData"
                   r"[\\/]Local[\\/]Temp)[^\s'\")\]]*")


_HEX = re.compile(r"0x[0-9a-fA-F]+")


_NUM = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")


def normalise(message: str, root: Path | None = None) -> str:
    """First line of a message with temporary paths, addresses and numbers replaced."""
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    if root:
        line = line.replace(str(root).rstrip("/") + "/", "")
    line = _TEMP.sub("<tmp>", line)
    line = _HEX.sub("\0", line)
    line = _NUM.sub("N", line)
    return line.replace("\0", "0x…")[:200]


def normalise_keep_numbers(message: str, limit: int = 160) -> str:
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def signature(r: TestResult, frames: list[Frame], root: Path | None) -> str:
    exc = r.exc_type or {"collect": "collection error", "setup": "fixture error",
                         "teardown": "fixture error"}.get(r.when, r.outcome)
    msg = normalise(strip_type(r.message, r.exc_type), root)
    sig = f"{exc}: {msg}" if msg else exc
    inner = innermost_project(frames)
    if inner is not None and exc not in _IMPORT_ERRORS:
        sig += f" @ {inner.path}:{inner.line}"
    return sig


def strip_type(message: str, exc_type: str | None) -> str:
    if exc_type and message.startswith(exc_type + ":"):
        return message[len(exc_type) + 1:].strip()
    m = re.match(r"^[\w.]+\." + re.escape(exc_type or "\0") + r":\s*", message or "")
    return message[m.end():] if m else (message or "")
