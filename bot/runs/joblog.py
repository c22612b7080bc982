"""The job log: what covbot prints where the Actions runner looks for workflow commands.

The runner executes a line that starts (after white space) with ``::name ...::`` and a
``##[name ...]`` anywhere in a line, on stdout and stderr alike, through one parser with
one stop state for both streams, and it reads the two streams in no fixed order. So in
the Action (:class:`JobLog` with ``fenced=True``):

- untrusted text (the comment, what the test and install commands print) goes to stdout
  between ``::stop-commands::<token>`` and ``::<token>::``, a fresh random token for each
  fence: the runner ignores every command in between. The commands' output is relayed
  through a pipe while the fence is open; a process that outlives its command (a daemon
  that left the process group) finds the pipe closed, never the log unfenced;
- nothing is fenced on stderr (a fence there could overlap one on stdout): covbot's
  messages, which may quote file names and test ids, are made inert (:func:`inert`);
- covbot's own commands (masks, annotations) are printed outside the fences.

Outside the Action (``covbot report``, ``fenced=False``) the commands' output goes to
stderr as it is, and nothing is changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from typing import Iterator

#: Line breaks as the runner splits lines (.NET's ReadLine).
_BREAK = re.compile(r"(\r\n|\r|\n)")
#: How long the relay keeps reading after a command ended, for output still in the pipe.
LINGER = 0.5


def new_token() -> str:
    """An unguessable stop token (not a command name, not empty, not ``pause-logging``)."""
    return f"covbot-{os.urandom(20).hex()}"   # as secrets.token_hex, without importing hashlib


def inert(text: str) -> str:
    """``text`` with no workflow command left in it, looking the same: a zero-width space
    after the first ``:`` of a line that starts with ``::`` and inside every ``##[``."""
    parts = _BREAK.split(str(text))
    for i in range(0, len(parts), 2):
        line = parts[i].replace("##[", "##\u200b[")
        stripped = line.lstrip()
        if stripped.startswith("::"):
            at = len(line) - len(stripped)
            line = line[:at] + ":\u200b" + line[at + 1:]
        parts[i] = line
    return "".join(parts)


class JobLog:
    """Where covbot's output goes, and how untrusted text is kept from the runner."""

    def __init__(self, *, fenced: bool):
        self.fenced = fenced
        self.tokens: list[str] = []     # every fence's token, for the tests

    # -- covbot's own lines -----------------------------------------------------------
    def untrusted(self, text: str) -> None:
        """Text that may carry anything (the comment): stdout, fenced in the Action."""
        if not self.fenced:
            print(text, flush=True)
            return
        with self._fence() as write:
            write(str(text).encode("utf-8", "replace"))

    def message(self, text: str) -> None:
        """A covbot message for stderr, which may quote untrusted names: inert in the Action."""
        print(inert(text) if self.fenced else text, file=sys.stderr, flush=True)

    # -- a child's output ---------------------------------------------------------------
    @contextlib.contextmanager
    def child_output(self) -> Iterator[int]:
        """The file descriptor a command's stdout and stderr go to while it runs: stderr,
        or in the Action a pipe relayed to stdout inside a fence (closed on exit)."""
        if not self.fenced:
            sys.stderr.flush()
            yield sys.stderr.fileno()
            return
        with self._fence() as write:
            read_fd, write_fd = os.pipe()
            relay = _Relay(read_fd, write)
            relay.start()
            try:
                yield write_fd
            finally:
                os.close(write_fd)
                relay.finish()

    # -- fences -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _fence(self):
        token = new_token()
        self.tokens.append(token)
        sys.stdout.flush()
        sys.stderr.flush()
        out = sys.stdout.fileno()
        _write_all(out, f"::stop-commands::{token}\n".encode())
        try:
            yield lambda data: _write_all(out, data.replace(token.encode(), b"covbot-token"))
        finally:
            _write_all(out, f"\n::{token}::\n".encode())


class _Relay(threading.Thread):
    """Copies a pipe to the log until the pipe is closed, or :data:`LINGER` s after
    :meth:`finish` when something still holds it open."""

    def __init__(self, fd: int, write):
        super().__init__(daemon=True)
        self._fd, self._write = fd, write
        self._stop_at: float | None = None

    def run(self) -> None:
        import select

        try:
            while True:
                wait = 0.1 if self._stop_at is None else max(0.0, self._stop_at - time.monotonic())
                ready, _, _ = select.select([self._fd], [], [], wait)
                if ready:
                    data = os.read(self._fd, 65536)
                    if not data:
                        return
                    self._write(data)
                elif self._stop_at is not None and time.monotonic() >= self._stop_at:
                    return
        except OSError:
            return

    def finish(self) -> None:
        self._stop_at = time.monotonic() + LINGER
        self.join()
        os.close(self._fd)   # a writer left behind gets EPIPE, never the log


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
