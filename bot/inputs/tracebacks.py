"""What a failure's text says: the traceback's entries (file, line, message), the
message, and the exception type, from pytest's long representation or a plain
Python traceback."""

from __future__ import annotations

import re

#: How much of a failure's message is kept, in characters: what report.json keeps of it.
MESSAGE_LIMIT = 2_000

#: How much of a failure's traceback text is kept, in characters: its beginning and end,
#: where the test's own frame and the innermost frames with the error are.
TEXT_LIMIT = 65_536


_FRAME = re.compile(r"^(\S[^\n]*?):(\d+): (.*)$")


_FIXTURE_FILE = re.compile(r"^file (\S.*), line (\d+)$")


E_FILE = re.compile(r'^E\s+File "([^"]+)", line (\d+)', re.M)


_NATIVE_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (.*)$')


_E_LINE = re.compile(r"^E\s+(.*)$")


def text_entries(text: str) -> list[list]:
    """Traceback frames of a failure printed as text (JUnit, collection errors):
    pytest's ``path:line: in func`` / ``path:line: ExcType`` lines, or Python's native
    ``File "path", line N, in func``. Innermost last.

    Most lines are source or error lines that no pattern can match; each pattern is
    tried only on lines with what it starts with or contains."""
    out: list[list] = []
    for line in (text or "").splitlines():
        head = line[:1]
        m = (E_FILE.match(line) if head == "E" else
             _FIXTURE_FILE.match(line) if head == "f" else None)
        if m:       # a SyntaxError's location in the error lines; a fixture lookup's test
            out.append([m.group(1), int(m.group(2)), "SyntaxError" if head == "E" else ""])
            continue
        native = 'File "' in line
        if not native and (head == " " or head == ">" or line.startswith("E ")):
            continue
        m = _FRAME.match(line) if ":" in line and head not in (" ", ">") and not line.startswith("E ") else None
        if m:
            out.append([m.group(1), int(m.group(2)), m.group(3)[:200]])
            continue
        m = _NATIVE_FRAME.match(line) if native else None
        if m:
            out.append([m.group(1), int(m.group(2)), "in " + m.group(3)[:200]])
    return out


def text_message(text: str) -> str:
    """The ``E   ...`` lines of pytest's failure text: the error itself."""
    lines = [m.group(1) for m in map(_E_LINE.match, (text or "").splitlines()) if m]
    return lead_with_exception("\n".join(lines).strip())


_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failed|Failure)\b:?")


def lead_with_exception(message: str) -> str:
    """Put the ``SomeError: ...`` line first when the message starts with something else
    (a SyntaxError's ``File "x.py", line 3`` block)."""
    lines = (message or "").splitlines()
    if not lines or exc_type_of(lines[0]):
        return message
    for i, line in enumerate(lines):
        if _EXC_LINE.match(line.strip()):
            return "\n".join([line.strip()] + lines[:i] + lines[i + 1:])
    return message


def entry_exc_type(entries: list, message: str) -> str | None:
    """pytest's crash message of a rewritten assert is ``assert 3 == 3.6`` without a type;
    its innermost traceback entry names the exception class instead."""
    if entries and len(entries[-1]) > 2:
        name = str(entries[-1][2]).strip()
        if name.isidentifier() and name[:1].isupper():
            return name
    if (message or "").lstrip().startswith("assert "):
        return "AssertionError"
    return None


def exc_type_of(message: str) -> str | None:
    """``ValueError`` from ``ValueError: bad``; pytest's ``Failed: Timeout`` gives ``Failed``."""
    head = (message or "").split(":", 1)[0].strip()
    if ":" in (message or "") and head and " " not in head and (head[0].isupper() or "." in head):
        return head.rsplit(".", 1)[-1]
    return None


def cut(text: str, limit: int) -> str:
    """``text`` when it has at most ``limit`` characters; otherwise, in at most ``limit``,
    its beginning and end (three quarters and one, at line ends where there are any) with
    a line between that says how much was cut. Untrusted test output of 10 MB stays a
    few KB."""
    if len(text) <= limit:
        return text
    room = limit - 48    # the marker line
    head, tail = text[:room * 3 // 4], text[len(text) - room // 4:]
    if "\n" in head:
        head = head[:head.rindex("\n")]
    if "\n" in tail:
        tail = tail[tail.index("\n") + 1:]
    return f"{head}\n[… {len(text) - len(head) - len(tail):,} characters cut …]\n{tail}"
