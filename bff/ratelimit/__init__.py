"""Rate limits, counted with the `limits` library: in Redis for the whole fleet with `REDIS_URL`,
else in this process. Pure: no Flask (the app's side is `bff.ratelimit.extension`).

Windows are fixed and aligned to the clock (a per-minute limit counts from :00 to :59), so one
counter increment, `limits`' INCR-with-expiry, tells everything the `RateLimit-*` headers say;
the concurrent increments of a process share a round trip (`bff.ratelimit.group`). `limits`' own
FixedWindowRateLimiter starts each window at its first hit, and needs a second round trip (a
TTL) to tell when it resets.

While Redis cannot be used, this process counts on its own (`limits`' MemoryStorage), so a
rate limit never fails a request; it goes back to Redis by itself (`bff.fleet.connection`).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage

from bff.fleet.connection import SharedRedis, SharedStateUnavailable
from bff.ratelimit.group import GroupedIncrements

KEY_PREFIX = "kard-bff:rate"


@dataclass(frozen=True)
class Verdict:
    """What one request's count says: whether it may go on, and its `RateLimit-*` headers."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        """`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`."""
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    """Count requests per identity against one limit (`"300/minute"`)."""

    def __init__(
        self,
        limit: str,
        *,
        namespace: str,
        shared: SharedRedis | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._limit: RateLimitItem = parse(limit)
        self._key_prefix = self._limit.key_for(namespace)  # names the limit too
        self._clock = clock
        self._local = MemoryStorage()
        self._redis = (
            GroupedIncrements(
                RedisStorage(
                    shared.url,
                    connection_pool=shared.client.connection_pool,
                    key_prefix=KEY_PREFIX,
                ),
                shared,
            )
            if shared
            else None
        )

    def hit(self, identity: str) -> Verdict:
        """Count one request of `identity` (an opaque name: it becomes part of a Redis key)."""
        period = self._limit.get_expiry()
        now = self._clock()
        window = int(now // period)
        reset = max(1, math.ceil((window + 1) * period - now))
        key = f"{self._key_prefix}/{identity}/{window}"
        count = self._count(key, expiry=reset + 1)
        amount = self._limit.amount
        return Verdict(count <= amount, amount, max(0, amount - count), reset)

    def _count(self, key: str, *, expiry: int) -> int:
        if self._redis is not None:
            try:
                return self._redis.incr(key, expiry)
            except SharedStateUnavailable:
                pass  # counted here until Redis answers again
        return self._local.incr(key, expiry)
