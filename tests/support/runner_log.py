"""The Actions runner's workflow-command parser, as actions/runner implements it, to
replay what a step printed and see which commands the runner would have executed.

From actions/runner: ``OutputManager`` hands on every line holding ``::`` or ``##[``;
``ActionCommandManager.TryProcessCommand`` parses it as ``::name props::data`` (after
leading white space) or else as ``##[name props]data`` anywhere in the line, for
registered command names only (case-insensitive); ``stop-commands`` registers its data
as the resume token, and while stopped only ``::<token>::`` (or ``##[<token>]``) is
processed. Lines are split as .NET reads them (``\\r\\n``, ``\\r`` or ``\\n``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: The runner's command extensions (plus stop-commands).
REGISTERED = ("add-mask", "add-matcher", "remove-matcher", "add-path", "set-env", "set-output", "save-state",
              "debug", "notice", "warning", "error", "group", "endgroup", "echo", "stop-commands")


@dataclass
class Command:
    name: str
    data: str
    properties: dict = field(default_factory=dict)
    line: str = ""


def lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def _parse_v2(line: str, registered: set[str]) -> Command | None:
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    name, _, props = info.partition(" ")
    if name.lower() not in registered:
        return None
    properties = {}
    for pair in filter(None, props.strip().split(",")):
        k, eq, v = pair.partition("=")
        if eq and k and v:
            properties[k] = v
    return Command(name, message[end + 2:], properties, line)


def _parse_v1(line: str, registered: set[str]) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    end = line.find("]", start)
    if end < 0:
        return None
    name, _, props = line[start + 3:end].partition(" ")
    if name.lower() not in registered:
        return None
    properties = {}
    for pair in filter(None, props.split(";")):
        k, eq, v = pair.partition("=")
        if eq and k and v:
            properties[k] = v
    return Command(name, line[end + 1:], properties, line)


@dataclass
class Replay:
    executed: list[Command]      # what the runner would run (stop-commands and resumes included)
    stopped_at_end: bool


def replay(text: str) -> Replay:
    """The commands the runner executes from one stream's text, in order."""
    registered = {n.lower() for n in REGISTERED}
    stop_token: str | None = None
    executed = []
    for line in lines(text):
        if "::" not in line and "##[" not in line:
            continue
        cmd = _parse_v2(line, registered) or _parse_v1(line, registered)
        if cmd is None:
            continue
        if stop_token is not None:
            if cmd.name.lower() == stop_token.lower():
                registered.discard(stop_token.lower())
                stop_token = None
                executed.append(Command("(resume)", cmd.name, {}, line))
            continue
        if cmd.name.lower() == "stop-commands":
            stop_token = cmd.data
            registered.add(stop_token.lower())
        executed.append(cmd)
    return Replay(executed, stop_token is not None)
