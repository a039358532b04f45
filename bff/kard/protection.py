"""Kard protection: a bound on the Kard calls a process has in flight, and a circuit breaker.

Both guard each send, one HTTP exchange with Kard (an API request or the token request), not each
client call: the client retries a GET up to three times inside one call, and every try passes the
breaker and takes a slot of its own, so a retry never slips past an open breaker, a failed GET
counts once per try (three 503s are three failures), and no slot is held while a retry waits.

The bound (`KARD_MAX_CONCURRENCY`) is a semaphore shared by every thread of the process: a send
that gets no slot within `SLOT_WAIT_SECONDS` is not sent, and raises `KardBusy` (503).

The breaker, closed at first, opens after `failures` consecutive failed sends: an answer of 429
or 5xx, a timeout, a connection or transport error. Any other answer, 4xx included, means Kard is
up and resets the count. While open, a send raises `KardCircuitOpen` (503, Retry-After the
seconds left) at once, sending nothing. The cooldown is `cooldown` seconds, or Kard's Retry-After
when it asks for longer; once it has passed, the breaker is half-open: one send, the probe, goes
through and the others still get 503. The probe's success closes the breaker; its failure opens it
again for twice the previous cooldown. Both are capped at `MAX_COOLDOWN_SECONDS` (or `cooldown`
when longer), so neither a wild Retry-After nor a long outage keeps the BFF off Kard for long
after Kard is back. A send admitted before the breaker last changed state settles nothing.

Written here rather than taken from PyPI: pybreaker holds its lock for the whole guarded call
(every Kard call of the process would go one at a time) and reads the wall clock; circuitbreaker
and purgatory take no lock and let every caller through when half-open; none of them reads
failures from answers rather than exceptions, and none takes a clock a test can move.
"""

import logging
import math
import threading
import time
from collections.abc import Callable

import httpx

from bff.errors import KardBusy, KardCircuitOpen, UpstreamError
from bff.retries import retry_after_seconds

log = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"
MAX_COOLDOWN_SECONDS = 60.0
# How long a send waits for a slot: a call in flight may take all of KARD_TIMEOUT to end, far
# longer than a request should wait for one; then the 503's Retry-After.
SLOT_WAIT_SECONDS = 0.5
BUSY_RETRY_AFTER = "2"
# The Retry-After while a probe is in flight: it settles within KARD_TIMEOUT, often much sooner.
PROBING_RETRY_AFTER = "1"

Ticket = int  # the breaker's epoch when a send was admitted


def is_failure(status: int) -> bool:
    """Whether an answer with `status` says Kard is failing (429 or 5xx), not that it is up."""
    return status == 429 or status >= 500


class CircuitBreaker:
    """Stop sending to Kard while it keeps failing, then probe, one send at a time, until it
    answers again. Thread-safe; `clock` gives seconds (monotonic by default)."""

    def __init__(
        self,
        *,
        failures: int = 5,
        cooldown: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._threshold = failures
        self._base_cooldown = cooldown
        self._max_cooldown = max(cooldown, MAX_COOLDOWN_SECONDS)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._epoch = 0  # bumped on every change of state: earlier tickets settle nothing
        self._failures = 0  # consecutive, while closed
        self._cooldown = cooldown  # the last one: a failed probe doubles it
        self._open_until = 0.0
        self._probing = False

    @property
    def state(self) -> str:
        """`closed`, `open`, or `half-open` (the cooldown is over: one send may probe)."""
        with self._lock:
            return self._current_state()

    def admits(self) -> bool:
        """Whether a send would go through now: closed, or half-open with no probe in flight."""
        with self._lock:
            state = self._current_state()
            return state == CLOSED or (state == HALF_OPEN and not self._probing)

    def admit(self) -> Ticket:
        """Let one send through, or raise `KardCircuitOpen`; the ticket settles it."""
        with self._lock:
            if self._state == OPEN:
                left = self._open_until - self._clock()
                if left > 0:
                    raise KardCircuitOpen(retry_after=str(max(1, math.ceil(left))))
                self._change(HALF_OPEN)
            if self._state == HALF_OPEN:
                if self._probing:
                    raise KardCircuitOpen(retry_after=PROBING_RETRY_AFTER)
                self._probing = True
            return self._epoch

    def succeeded(self, ticket: Ticket) -> None:
        """Kard answered the send (even with a 4xx): it is up."""
        with self._lock:
            if ticket != self._epoch:
                return
            self._failures = 0
            if self._state != HALF_OPEN:
                return
            self._probing = False
            self._cooldown = self._base_cooldown
            self._change(CLOSED)
        log.info("Kard circuit closed: the probe succeeded")

    def failed(self, ticket: Ticket, retry_after: str | None = None) -> None:
        """Kard failed the send: count it, and open the breaker at the threshold or after a
        failed probe, for at least what Kard's Retry-After asks."""
        with self._lock:
            if ticket != self._epoch:  # admitted before the last change of state
                return
            if self._state == HALF_OPEN:
                self._probing = False
                cooldown = self._cooldown * 2
                why = "the probe failed"
            else:
                self._failures += 1
                if self._failures < self._threshold:
                    return
                cooldown = self._base_cooldown
                why = f"{self._failures} consecutive failures"
            asked = retry_after_seconds(retry_after) if retry_after else None
            self._cooldown = min(self._max_cooldown, max(cooldown, asked or 0.0))
            self._open_until = self._clock() + self._cooldown
            self._failures = 0
            self._change(OPEN)
            cooldown = self._cooldown
        log.warning("Kard circuit open for %g s: %s", cooldown, why)

    def abandoned(self, ticket: Ticket) -> None:
        """The send ended without an answer that tells anything (nothing was sent, or the code
        around it failed): free the probe for the next send."""
        with self._lock:
            if ticket == self._epoch and self._state == HALF_OPEN:
                self._probing = False

    def _current_state(self) -> str:
        if self._state == OPEN and self._clock() >= self._open_until:
            return HALF_OPEN
        return self._state

    def _change(self, state: str) -> None:
        self._state = state
        self._epoch += 1


class Protection:
    """The bound and the breaker around each send to Kard."""

    def __init__(self, *, max_concurrency: int = 64, breaker: CircuitBreaker | None = None):
        self.breaker = breaker or CircuitBreaker()
        self._slots = threading.BoundedSemaphore(max_concurrency)

    def send(self, exchange: Callable[[], httpx.Response]) -> httpx.Response:
        """Run `exchange` (one request to Kard, its transport errors already translated) if the
        breaker admits it and a slot frees in time, and tell the breaker how it went."""
        ticket = self.breaker.admit()
        if not self._slots.acquire(timeout=SLOT_WAIT_SECONDS):
            self.breaker.abandoned(ticket)
            raise KardBusy(retry_after=BUSY_RETRY_AFTER)
        try:
            response = exchange()
        except UpstreamError:  # a timeout, a refused connection, a broken answer
            self.breaker.failed(ticket)
            raise
        except BaseException:
            self.breaker.abandoned(ticket)
            raise
        finally:
            self._slots.release()
        if is_failure(response.status_code):
            self.breaker.failed(ticket, response.headers.get("Retry-After"))
        else:
            self.breaker.succeeded(ticket)
        return response
