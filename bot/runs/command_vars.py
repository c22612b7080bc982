"""Variables a test command sets itself, kept working with covbot's hooks.

covbot hands its hooks to the test command through the environment: its folder first
on ``PYTHONPATH`` (``sitecustomize`` and the results plugin) and its options in
``PYTEST_ADDOPTS``. A command that assigns one of them (``PYTHONPATH=src pytest``,
``export PYTEST_ADDOPTS=-x; pytest``, ``env PYTHONPATH=. python -m pytest``) would
replace covbot's value with its own: the plugin would not import and nothing would be
measured. :func:`keep_hooks` finds such assignments where the shell reads them (at the
start of a simple command, after ``env`` or ``export``) and puts covbot's value in
front of the command's own, through a variable the shell expands (``"${COVBOT_PYTHONPATH}"``),
so no text of covbot's is quoted into the command.
"""

from __future__ import annotations

import re

#: The variables covbot sets, and the one holding covbot's part of each.
HOOKED = {"PYTHONPATH": ("COVBOT_PYTHONPATH", ":"), "PYTEST_ADDOPTS": ("COVBOT_PYTEST_ADDOPTS", " ")}
_OPERATORS = ("&&", "||", ";;", "|&", ";", "&", "|", "(", ")", "\n")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
#: Words after which the shell (or the program) still reads assignments.
_ASSIGNING_PROGRAMS = {"env", "export", "declare", "typeset", "local", "readonly"}
_KEYWORDS = {"then", "do", "else", "elif", "if", "while", "until", "!", "{", "time", "exec", "command"}


def _words(command: str):
    """``(start, end)`` of each word of ``command``, and ``None`` for each operator
    (quotes and backslashes respected; a comment ends at the end of its line)."""
    i, n = 0, len(command)
    while i < n:
        c = command[i]
        if c in " \t":
            i += 1
            continue
        if c == "#":
            while i < n and command[i] != "\n":
                i += 1
            continue
        op = next((o for o in _OPERATORS if command.startswith(o, i)), None)
        if op is not None:
            yield None
            i += len(op)
            continue
        start = i
        while i < n and command[i] not in " \t" and not any(command.startswith(o, i) for o in _OPERATORS):
            if command[i] == "\\":
                i += 2
            elif command[i] in "'\"":
                quote, i = command[i], i + 1
                while i < n and command[i] != quote:
                    i += 2 if (quote == '"' and command[i] == "\\") else 1
                i += 1
            else:
                i += 1
        yield start, min(i, n)


def keep_hooks(command: str) -> str:
    """``command`` with covbot's part put in front of every value it assigns to
    :data:`HOOKED` variables; unchanged when it assigns none."""
    inserts: list[tuple[int, str]] = []
    expect_command = True      # the next word starts a simple command
    after_program = False      # the words after ``env`` / ``export``: assignments too
    skip = False               # the argument of ``env -u NAME``
    for span in _words(command):
        if span is None:
            expect_command, after_program, skip = True, False, False
            continue
        start, end = span
        word = command[start:end]
        if skip:
            skip = False
            continue
        m = _ASSIGNMENT.match(word)
        if m and (expect_command or after_program):
            name = m.group(0)[:-1]
            if name in HOOKED:
                holder, sep = HOOKED[name]
                value_empty = end == start + len(m.group(0))
                inserts.append((start + len(m.group(0)), f'"${{{holder}}}"' + ("" if value_empty else f'"{sep}"')))
            continue
        if expect_command and word in _KEYWORDS:
            continue
        if expect_command and word in _ASSIGNING_PROGRAMS:
            expect_command, after_program = False, True
            continue
        if after_program and word.startswith("-"):
            skip = word in ("-u", "--unset", "-C", "--chdir", "-S", "--split-string")
            continue   # env -u NAME, export -n
        expect_command, after_program = False, False
    for at, text in reversed(inserts):
        command = command[:at] + text + command[at:]
    return command
