"""When to try again: full-jitter exponential backoff, and what a Retry-After asks for.

The Kard client retries inside an app's request, in tenths of a second (`bff.kard.client`); the
background workers (the attribution outbox, the webhook inbox) retry until the item goes through,
from a second doubling to five minutes (`retry_at`). Both draw their waits from `backoff` and read
Retry-After with `retry_after_seconds`, as delay-seconds or as an HTTP date.
"""

import email.utils
import random
import time

WORKER_BASE_SECONDS = 1.0
WORKER_CAP_SECONDS = 300.0


def backoff(attempt: int, *, base: float, cap: float) -> float:
    """Wait a random time up to `base * 2**attempt` seconds, at most `cap` (full jitter)."""
    return random.uniform(0, min(cap, base * 2**attempt))


def retry_after_seconds(header: str, now: float | None = None) -> float | None:
    """Read a Retry-After as the seconds it asks to wait: delay-seconds, or an HTTP date (0 once
    past, counted from `now`, the wall clock by default); None when it is neither."""
    if header.strip().isdigit():
        return float(header.strip())
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_at(attempts: int, *, now: float, retry_after: str | None = None) -> float:
    """Give when a background item is due again after `attempts` failed tries: a worker's
    backoff from `now`, and never before what a Retry-After (seconds or an HTTP date) asks."""
    delay = backoff(attempts, base=WORKER_BASE_SECONDS, cap=WORKER_CAP_SECONDS)
    asked = retry_after_seconds(retry_after, now) if retry_after else None
    return now + max(delay, asked or 0.0)
