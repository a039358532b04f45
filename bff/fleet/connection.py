"""The connection to `REDIS_URL`, and what the service does while Redis cannot be reached.

Every Redis client of the BFF is made by `redis_client`, with short timeouts, so a Redis that
stops answering holds a request for about a second, not forever. The parts that can do without
Redis for a while (the Kard token, WebView tokens, rate limits) read it through `SharedRedis`:
after a failure they skip it for `OUTAGE_SECONDS` and use their local fallback, then try again,
so the service recovers by itself when Redis does. The stores that must not do without it (the
attribution outbox, the webhook inbox) let Redis's error through, and the app answers 503.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from bff.redact import redact_url

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1.0
OUTAGE_SECONDS = 2.0  # how long to use the local fallback before asking Redis again
HEALTH_CHECK_SECONDS = 30  # a pooled connection idle this long is checked before use

T = TypeVar("T")


class SharedStateUnavailable(Exception):
    """Redis could not be used just now; the caller falls back to its local state."""


def redis_client(url: str, *, decode_responses: bool = False) -> redis.Redis:
    """A client of `url` with the service's timeouts."""
    return redis.Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        health_check_interval=HEALTH_CHECK_SECONDS,
    )


class SharedRedis:
    """Redis for the parts that have a local fallback, with a note of its last outage."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.monotonic):
        self.url = url
        self.client = redis_client(url)
        self._clock = clock
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    def run(self, operation: Callable[[redis.Redis], T]) -> T:
        """`operation(client)`, or `SharedStateUnavailable` if Redis fails or failed lately."""
        if self._down and self._clock() < self._down_until:
            raise SharedStateUnavailable
        try:
            result = operation(self.client)
        except redis.RedisError as error:
            self._failed(error)
            raise SharedStateUnavailable from error
        if self._down:
            self._recovered()
        return result

    def ping(self) -> bool:
        """Whether Redis answers now (tried even during an outage: readiness must see it)."""
        try:
            self.client.ping()
        except redis.RedisError:
            return False
        return True

    def _failed(self, error: redis.RedisError) -> None:
        with self._lock:
            self._down_until = self._clock() + OUTAGE_SECONDS
            if self._down:
                return
            self._down = True
        log.warning(
            "Redis at %s cannot be used (%s); using local state until it answers",
            redact_url(self.url),
            type(error).__name__,
        )

    def _recovered(self) -> None:
        with self._lock:
            if not self._down:
                return
            self._down = False
        log.info("Redis at %s answers again; shared state in use", redact_url(self.url))
