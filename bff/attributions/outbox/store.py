"""What an outbox is: its chunks, its bounds, its dead letters, and what every store of them
does."""

from dataclasses import dataclass
from typing import Any, Protocol

LEASE_SECONDS = 60.0  # the default; the BFF leases for 3 x KARD_TIMEOUT (at least 5 s)
REJECTED_CHUNKS_KEPT = 1_000


@dataclass(frozen=True)
class Bounds:
    """How much the outbox holds at most: queued events per user and in all, rejected chunks."""

    user_events: int
    events: int
    rejected_chunks: int = REJECTED_CHUNKS_KEPT


@dataclass(frozen=True)
class Backlog:
    """What waits for Kard, as the metrics read it: cheap to read on every scrape."""

    events: int  # in the chunks still to be tried
    oldest_age_seconds: float  # of the oldest of those; 0 when none is
    dead_letters: int  # chunks given up on


@dataclass(frozen=True)
class Chunk:
    """Up to 100 attribution events for one user, waiting to be sent to Kard."""

    id: str
    user_id: str
    events: list[dict[str, Any]]
    created_at: float
    attempts: int


@dataclass(frozen=True)
class DeadLetter:
    """A chunk given up on: no longer tried, its events kept until it is replayed or purged."""

    id: str
    events: int
    created_at: float
    died_at: float
    attempts: int
    last_error: str


class Outbox(Protocol):
    """What the delivery worker and the CLI need from an outbox."""

    bounds: Bounds

    def put(self, user_id: str, events: list[dict[str, Any]], *, now: float, error: str) -> str:
        """Store a chunk durably (due now); return its ID."""

    def lease(
        self, owner: str, *, now: float, due_by: float, seconds: float = LEASE_SECONDS
    ) -> Chunk | None:
        """Lease the most overdue chunk due by `due_by` that no one holds, or None."""

    def delivered(self, chunk_id: str) -> None:
        """Forget a chunk Kard took."""

    def retry_later(self, chunk_id: str, *, at: float, error: str) -> None:
        """Release a chunk Kard could not take now; it is due again at `at`."""

    def reject(self, chunk_id: str, *, now: float, error: str) -> None:
        """Move a chunk Kard refused (4xx) to the rejected record; it is not retried."""

    def dead(self, chunk_id: str, *, now: float, error: str) -> None:
        """Release a queued chunk as a dead letter: kept with its events, never leased or
        retried, still counted against the bounds."""

    def dead_letters(self, *, limit: int) -> list[DeadLetter]:
        """The first `limit` dead letters, oldest death first."""

    def replay(self, ids: list[str] | None, *, now: float) -> int:
        """Queue dead letters (`ids`, or all) again, due `now`, their attempts back to 0; return
        how many there were."""

    def purge(self, ids: list[str] | None) -> int:
        """Remove dead letters (`ids`, or all; never a queued chunk) with their events, off the
        bounds' counts; return how many."""

    def release(self, chunk_id: str, owner: str, *, now: float) -> None:
        """Hand back a chunk `owner` leased and did not send (its process stops): due by `now`,
        the attempt not counted. Nothing happens unless `owner` holds the lease."""

    def queued_events(self, user_id: str) -> tuple[int, int]:
        """How many events the outbox holds against its bounds, dead letters' included: this
        user's, and everyone's."""

    def next_due(self) -> float | None:
        """When the earliest queued chunk (not a dead letter) is due, or None when none is."""

    def backlog(self, *, now: float) -> Backlog:
        """How many events wait to be tried, how long the oldest has waited, and how many chunks
        are dead letters."""

    def status(self, *, now: float) -> dict[str, Any]:
        """Of the chunks still to be tried: depth, events, oldest age, attempts, last error; then
        the rejected and dead letter counts, and the bounds."""


def bounds_status(bounds: Bounds) -> dict[str, int]:
    """The bounds as `outbox status` shows them."""
    return {
        "maxUserEvents": bounds.user_events,
        "maxEvents": bounds.events,
        "maxRejectedChunks": bounds.rejected_chunks,
    }
