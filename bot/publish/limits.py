"""How long GitHub asks a client to wait, from an answer's status, headers and message.

GitHub's rules for the REST API ("Rate limits for the REST API", exceeding the limit):

- a 403 or 429 with ``retry-after``: wait that many seconds;
- a 403 or 429 with ``x-ratelimit-remaining: 0`` (the primary limit is used up): do not
  retry before ``x-ratelimit-reset`` (UTC epoch seconds);
- otherwise a secondary rate limit (its message says so): wait at least one minute, and
  longer on each further refusal;
- retrying sooner can get an integration banned.

Pure functions, no HTTP: :mod:`bot.publish.github` applies them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

#: The shortest wait after a secondary rate limit without ``retry-after``.
SECONDARY_MIN_WAIT = 60.0


@dataclass(frozen=True)
class RateLimit:
    kind: str            # primary | secondary
    wait: float          # seconds before the request may be made again
    why: str             # for the message: what GitHub said


def rate_limit(status: int, headers: dict[str, str], message: str, *, now: float,
               refusals: int = 1) -> RateLimit | None:
    """The rate limit an answer reports, or None (``headers`` lower-cased; ``refusals``:
    how many times in a row this request was refused by a secondary limit)."""
    if status not in (403, 429):
        return None
    text = message.lower()
    retry_after = _seconds(headers.get("retry-after"))
    exhausted = headers.get("x-ratelimit-remaining", "").strip() == "0"
    secondary = "secondary rate limit" in text or "abuse" in text
    if retry_after is not None:
        kind = "primary" if exhausted and not secondary else "secondary"
        return RateLimit(kind, retry_after, f"Retry-After: {retry_after:.0f}s")
    if exhausted:
        reset = _seconds(headers.get("x-ratelimit-reset"))
        if reset is None:
            return RateLimit("primary", SECONDARY_MIN_WAIT, "x-ratelimit-remaining: 0 without a reset time")
        wait = max(0.0, reset - now) + 1.0      # the reset second itself is still limited
        when = time.strftime("%H:%M:%S UTC", time.gmtime(reset))
        return RateLimit("primary", wait, f"x-ratelimit-remaining: 0, the limit resets at {when}")
    if secondary or status == 429 or "rate limit" in text:
        wait = SECONDARY_MIN_WAIT * 2 ** max(0, refusals - 1)
        return RateLimit("secondary", wait, "a secondary rate limit without Retry-After")
    return None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
