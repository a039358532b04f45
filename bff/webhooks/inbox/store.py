"""What an inbox is: a pending notification, a dead letter, and what every store of them does."""

from dataclasses import dataclass
from typing import Any, Protocol

RETENTION_SECONDS = 30 * 24 * 3600
PRUNE_EVERY_SECONDS = 60  # forgetting old IDs is a write of its own: not on every notification


@dataclass(frozen=True)
class Pending:
    """A stored notification not yet handed on."""

    id: str
    type: str
    body: bytes
    received_at: float
    attempts: int
    traceparent: str | None = None  # the trace Kard's request was part of, when traced


@dataclass(frozen=True)
class Handoffs:
    """How many notifications wait to be handed on, and how many were given up: cheap to read
    on every scrape of the metrics."""

    pending: int
    oldest_age_seconds: float  # of the oldest pending notification; 0 when none is
    dead_letters: int


@dataclass(frozen=True)
class DeadLetter:
    """A notification given up on: no longer tried, kept until it is replayed or purged."""

    id: str
    type: str
    received_at: float
    died_at: float
    attempts: int
    last_error: str


class Inbox(Protocol):
    """What the webhook endpoint, the dispatcher and the CLI need from an inbox."""

    def add(
        self,
        notification_id: str,
        kind: str,
        body: bytes,
        *,
        now: float,
        pending: bool,
        traceparent: str | None = None,
    ) -> bool:
        """Store a notification (to hand on if `pending`, in the trace `traceparent` names);
        False if its ID was seen before."""

    def lease(self, owner: str, *, now: float, seconds: float) -> Pending | None:
        """Lease the most overdue pending notification no one holds, or None."""

    def handled(self, notification_id: str, *, now: float) -> None:
        """Mark a notification handed on."""

    def retry_later(self, notification_id: str, *, at: float, error: str) -> None:
        """Release a notification that could not be handed on; it is due again at `at`."""

    def dead(self, notification_id: str, *, now: float, error: str) -> None:
        """Release a pending notification as a dead letter: kept, never leased or retried."""

    def dead_letters(self, *, limit: int) -> list[DeadLetter]:
        """The first `limit` dead letters, oldest death first."""

    def replay(self, ids: list[str] | None, *, now: float) -> int:
        """Make dead letters (`ids`, or all) pending again, due `now`, their attempts back to 0;
        return how many there were."""

    def purge(self, ids: list[str] | None) -> int:
        """Remove dead letters (`ids`, or all; never a pending one) and return how many; their
        IDs stay seen, so Kard's retry of one is still a duplicate."""

    def release(self, notification_id: str, owner: str, *, now: float) -> None:
        """Hand back a notification `owner` leased and did not hand on (its process stops): due
        by `now`, the attempt not counted. Nothing happens unless `owner` holds the lease."""

    def handoffs(self, *, now: float) -> Handoffs:
        """How many notifications are pending, the oldest's age, and how many are dead
        letters."""

    def status(self, *, now: float) -> dict[str, Any]:
        """Pending count, oldest pending age, last error, dead letter count."""
