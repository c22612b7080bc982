"""Plumbing of the report's data flow: the input errors in the order of the flow, a
value computed late (by a forked child, or by git in the background) whose error
still lands at its place, and text made safe to write as UTF-8."""

from __future__ import annotations

from bot.model.errors import CovbotError


class ErrorLog:
    """Input errors in the order of the data flow. A value computed late (by a child, or
    by git in the background) reserves its place when it is started."""

    def __init__(self):
        self._entries: list = []

    def add(self, exc: CovbotError) -> None:
        self._entries.append(exc)

    def reserve(self) -> int:
        self._entries.append(None)
        return len(self._entries) - 1

    def fill(self, slot: int, exc: CovbotError) -> None:
        self._entries[slot] = exc

    def list(self) -> list[CovbotError]:
        return [e for e in self._entries if e is not None]


class Later:
    """A value that is computed now, or started now and collected when needed; an error
    it raises is logged at the place reserved when it was started, and gives ``default``."""

    def __init__(self, get, log: ErrorLog | None = None, default=None):
        self._get, self._log, self._default = get, log, default
        self._slot = log.reserve() if log is not None else None
        self._done, self._value = False, default

    @classmethod
    def of(cls, value) -> "Later":
        later = cls(None)
        later._done, later._value = True, value
        return later

    def get(self):
        if not self._done:
            self._done = True
            try:
                self._value = self._get()
            except CovbotError as exc:
                if self._log is None:
                    raise
                self._log.fill(self._slot, exc)
                self._value = self._default
        return self._value


def scrub(value):
    """Replace undecodable bytes (lone surrogates from non-UTF-8 names) with U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value
