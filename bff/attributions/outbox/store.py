"""What an outbox is: its chunks, its bounds, and what every store of them does."""

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

    events: int
    oldest_age_seconds: float  # 0 when nothing waits


@dataclass(frozen=True)
class Chunk:
    """Up to 100 attribution events for one user, waiting to be sent to Kard."""

    id: str
    user_id: str
    events: list[dict[str, Any]]
    created_at: float
    attempts: int


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

    def release(self, chunk_id: str, owner: str, *, now: float) -> None:
        """Hand back a chunk `owner` leased and did not send (its process stops): due by `now`,
        the attempt not counted. Nothing happens unless `owner` holds the lease."""

    def queued_events(self, user_id: str) -> tuple[int, int]:
        """How many events wait for Kard: this user's, and everyone's."""

    def next_due(self) -> float | None:
        """When the earliest queued chunk is due, or None when none is queued."""

    def backlog(self, *, now: float) -> Backlog:
        """How many events wait for Kard, and how long the oldest has waited."""

    def status(self, *, now: float) -> dict[str, Any]:
        """Depth, events, oldest age, attempts, last error, rejected count, and the bounds."""


def bounds_status(bounds: Bounds) -> dict[str, int]:
    """The bounds as `outbox status` shows them."""
    return {
        "maxUserEvents": bounds.user_events,
        "maxEvents": bounds.events,
        "maxRejectedChunks": bounds.rejected_chunks,
    }
