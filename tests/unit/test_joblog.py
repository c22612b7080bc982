"""What covbot prints to stderr in the Action is inert for the runner's command parser."""

from __future__ import annotations

import pytest

from bot.runs.joblog import inert
from support.runner_log import replay

HOSTILE = [
    "::error::x",
    "   ::stop-commands::x",
    "\t::add-mask::covbot",
    "covbot: error: tests/a\n::error file=a.py::pwned",
    "name\r::set-output name=verdict::passed",
    "crlf\r\n  ::warning::w",
    "anywhere ##[add-mask]covbot and ##[error]x",
    "\u3000::notice::ideographic space",
    "::STOP-COMMANDS::upper",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_inert_text_holds_no_command_and_reads_the_same(text):
    assert replay(text).executed, "the sample must be a command as it is"
    safe = inert(text)
    assert replay(safe).executed == []
    assert safe.replace("\u200b", "") == text
