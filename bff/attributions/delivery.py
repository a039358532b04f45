"""Getting attribution events to Kard without losing any: now when Kard takes them, else later.

`send` splits a user's events into chunks of at most 100 (Kard's limit) and sends them at once, a
few at a time. A chunk Kard cannot take now (5xx, 429, timeout, connection error, credentials) is
written to the outbox before the app hears 202; a chunk Kard refuses (400/404/409) is not retried.
A worker thread in every process then leases due chunks and sends them, backing off exponentially
with full jitter (and at least Kard's Retry-After) until Kard takes them, or until a chunk has
been tried `BFF_OUTBOX_MAX_ATTEMPTS` times or was stored `BFF_OUTBOX_MAX_AGE` seconds ago: then it
is a dead letter, kept in the outbox until an operator replays or purges it (`kard-bff outbox`).
When the process stops, the thread finishes the chunk it is sending and hands back any other it
still holds.

While the Kard client's circuit breaker is open (`bff.kard.protection`), the worker leases
nothing: it looks again at its next poll, and once the cooldown is over its next send may be the
probe. A chunk the client did not send at all (the breaker opened, or no slot freed) is handed
back as it was, its attempt not counted; in the app's request such a chunk is queued like any
other.

Before sending anything, `send` checks that the outbox could hold every event of the batch (the
user's bound and the total bound): past either, the batch is refused with 503, so a chunk once
accepted is always stored. Concurrent batches can overshoot a bound by at most what they carry.
"""

import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from bff.attributions.outbox.store import Chunk, Outbox
from bff.background import Worker
from bff.errors import KardBusy, KardCircuitOpen, Unavailable, UpstreamError, UpstreamRejected
from bff.kard import KardClient
from bff.kard.vocabulary import MAX_ATTRIBUTION_EVENTS
from bff.retries import retry_at

log = logging.getLogger(__name__)

SEND_CONCURRENCY = 4

IndexedEvents = list[tuple[int, dict[str, Any]]]


class DeliveryObserver(Protocol):
    """What counts what became of each queued chunk tried: delivered, retried, rejected, dead."""

    def attribution_chunk(self, outcome: str) -> None: ...


@dataclass
class Outcome:
    """What became of a user's events: sent, queued, or refused by Kard (by batch index)."""

    forwarded: int = 0
    queued: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"index", "errors"}


class Delivery:
    """Send attribution chunks for users, through the outbox when Kard cannot take them now."""

    def __init__(
        self,
        kard: KardClient,
        outbox: Outbox,
        *,
        lease_seconds: float,
        max_attempts: int,
        max_age: float,
        clock: Callable[[], float] = time.time,
        observer: DeliveryObserver | None = None,
    ):
        self.outbox = outbox
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts
        self._max_age = max_age
        self._observer = observer
        self._kard = kard
        self._clock = clock
        self._name = uuid.uuid4().hex
        self._held: set[str] = set()  # IDs of the chunks this process leased and has not settled
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._worker = Worker("outbox", lambda: self.deliver_due(limit=100))
        self._lock = threading.Lock()

    def send(self, user_id: str, events: IndexedEvents) -> Outcome:
        """Send the events in chunks, concurrently; queue what Kard cannot take now. Refuse them
        all (503) when the outbox might not hold them."""
        self._check_room(user_id, len(events))
        chunks = [
            events[start : start + MAX_ATTRIBUTION_EVENTS]
            for start in range(0, len(events), MAX_ATTRIBUTION_EVENTS)
        ]
        outcome = Outcome()
        results = self._executor().map(lambda chunk: self._send_chunk(user_id, chunk), chunks)
        for chunk, (state, errors) in zip(chunks, results, strict=True):
            if state == "forwarded":
                outcome.forwarded += len(chunk)
            elif state == "queued":
                outcome.queued += len(chunk)
            else:
                outcome.rejected += [{"index": index, "errors": errors} for index, _ in chunk]
        return outcome

    def deliver_due(self, *, limit: int | None = None, everything: bool = False) -> int:
        """Lease and send due chunks until none is due, `limit` were tried or the thread is told
        to stop; return how many. With `everything`, chunks waiting out their backoff are tried
        too (`outbox drain`)."""
        tried = 0
        breaker = self._kard.protection.breaker
        while (limit is None or tried < limit) and not self._worker.stopping and breaker.admits():
            now = self._clock()
            due_by = float("inf") if everything else now
            chunk = self.outbox.lease(
                self._owner, now=now, due_by=due_by, seconds=self._lease_seconds
            )
            if chunk is None:
                break
            tried += 1
            self._held.add(chunk.id)
            self._retry(chunk)
            self._held.discard(chunk.id)  # kept when settling it failed: handed back at stop
        return tried

    def ensure_worker(self) -> None:
        """Start this process's delivery thread, once (again after a fork)."""
        self._worker.ensure_started()

    def stop_worker(self) -> None:
        """Stop this process's delivery thread, letting it settle the chunk it is sending, then
        hand back what this process still holds: due again at once, for any worker."""
        # A send ends within a lease (see extension.delivery); past that, the lease is over too.
        if self._worker.stop(timeout=self._lease_seconds):
            for chunk_id in list(self._held):
                self.outbox.release(chunk_id, self._owner, now=self._clock())
                self._held.discard(chunk_id)

    @property
    def _owner(self) -> str:
        """This process's name on its leases; a forked child gets its own."""
        return f"{self._name}-{os.getpid()}"

    def _check_room(self, user_id: str, count: int) -> None:
        user_events, events = self.outbox.queued_events(user_id)
        bounds = self.outbox.bounds
        if user_events + count > bounds.user_events:
            full = (
                "This user's queue of undelivered attribution events is full"
                f" ({user_events:,} of at most {bounds.user_events:,} wait for Kard,"
                f" and this batch has {count:,})"
            )
        elif events + count > bounds.events:
            full = "The service's queue of undelivered attribution events is full"
        else:
            return
        raise Unavailable(f"{full}; try again later.", retry_after=self._retry_after())

    def _retry_after(self) -> str:
        """Seconds until the outbox next tries to deliver, when its queue may shrink."""
        due = self.outbox.next_due()
        return str(max(1, math.ceil((due or 0) - self._clock())))

    def _send_chunk(self, user_id: str, chunk: IndexedEvents) -> tuple[str, list]:
        events = [event for _, event in chunk]
        try:
            self._kard.create_attributions(user_id, events)
        except UpstreamRejected as refused:
            return "rejected", refused.errors
        except UpstreamError as error:
            self.outbox.put(user_id, events, now=self._clock(), error=_describe(error))
            log.warning("queued %d attribution events: %s", len(events), _describe(error))
            return "queued", []
        return "forwarded", []

    def _retry(self, chunk: Chunk) -> None:
        try:
            self._kard.create_attributions(chunk.user_id, chunk.events)
        except UpstreamRejected as refused:
            self.outbox.reject(chunk.id, now=self._clock(), error=_describe(refused))
            log.warning("Kard refused a queued chunk of %d events", len(chunk.events))
            self._count("rejected")
        except (KardCircuitOpen, KardBusy):  # nothing was sent: not an attempt
            self.outbox.release(chunk.id, self._owner, now=self._clock())
        except UpstreamError as error:
            self._failed(chunk, error)
        else:
            self.outbox.delivered(chunk.id)
            log.info("delivered a queued chunk of %d events", len(chunk.events))
            self._count("delivered")

    def _failed(self, chunk: Chunk, error: UpstreamError) -> None:
        """Decide what becomes of a chunk Kard could not take: tried again later, or, once it has
        had its attempts or its time, a dead letter."""
        now, reason = self._clock(), _describe(error)
        if chunk.attempts < self._max_attempts and now - chunk.created_at < self._max_age:
            retry_after = error.headers.get("Retry-After")
            at = retry_at(chunk.attempts, now=now, retry_after=retry_after)
            self.outbox.retry_later(chunk.id, at=at, error=reason)
            self._count("retried")
            return
        self.outbox.dead(chunk.id, now=now, error=reason)
        self._count("dead")
        log.warning(
            "attribution chunk %s of %d events is a dead letter after %d attempts: %s",
            chunk.id,
            len(chunk.events),
            chunk.attempts,
            reason,
        )

    def _count(self, outcome: str) -> None:
        if self._observer is not None:
            self._observer.attribution_chunk(outcome)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():  # threads do not cross forks
                self._pool = ThreadPoolExecutor(SEND_CONCURRENCY, thread_name_prefix="attribution")
                self._pool_pid = os.getpid()
            return self._pool


def _describe(error: UpstreamError) -> str:
    first = error.errors[0]
    return f"{first['status']} {first['title']}: {first['detail']}"
