"""The earned rewards of every organization, keyed by the issuer's transaction ID, bounded.

A reward is pending while its transaction is only approved; it is listed by Get Earned Rewards
once the transaction settles (`settled_at`, paid to the issuer: UNPAID); it is paid, and the
reward settled, when the merchant's commission arrives `COMMISSION_DAYS` later on the simulated
clock (`paid_at`, PAID_IN_FULL).
"""

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bff.sandbox.catalog.offers import Offer

COMMISSION_DAYS = 30  # merchants pay their commission net 30; Kard then pays the issuer
MAX_REWARDS = 100_000  # per organization: past it a matching purchase earns nothing
MAX_EVENTS = 1_000_000  # event IDs remembered per organization, to refuse one sent twice

Key = tuple[str, str]  # (organization ID, the issuer's transaction ID)


@dataclass
class Reward:
    """A purchase that earned cash back."""

    id: str
    organization_id: str
    user_id: str
    transaction_id: str
    offer: Offer
    rate: float  # the reward value that applied (the offer's, or its boosted one)
    amount_cents: int
    user_cents: int
    issuer_cents: int
    purchased_at: datetime
    card_product_id: str | None = None
    settled_at: datetime | None = None  # the transaction settled: listed, not yet paid
    paid_at: datetime | None = None  # the commission was paid: the reward is settled

    @property
    def due_at(self) -> datetime | None:
        """When the commission is paid, once the transaction has settled."""
        return self.settled_at + timedelta(days=COMMISSION_DAYS) if self.settled_at else None


class Ledger:
    """Thread-safe rewards and the event IDs received, per organization."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rewards: dict[Key, Reward] = {}
        self._by_user: dict[Key, dict[str, Reward]] = {}  # (org, user) -> transaction -> reward
        self._held: dict[str, int] = {}  # rewards per organization
        self._events: dict[str, set[str]] = {}
        self._senders: dict[Key, str] = {}  # transaction -> the user it was sent for
        self._flagged: set[Key] = set()  # transactions flagged as fraudulent

    def claim_event(
        self, organization_id: str, event_id: str, transaction_id: str, user_id: str
    ) -> bool:
        """Remember an event of a user's transaction; False when the event ID was received
        before (or the sandbox holds MAX_EVENTS)."""
        with self._lock:
            seen = self._events.setdefault(organization_id, set())
            if event_id in seen or len(seen) >= MAX_EVENTS:
                return False
            seen.add(event_id)
            self._senders.setdefault((organization_id, transaction_id), user_id)
            return True

    def sender(self, organization_id: str, transaction_id: str) -> str | None:
        """Return the user a transaction was sent for, if it was."""
        with self._lock:
            return self._senders.get((organization_id, transaction_id))

    def flag(self, organization_id: str, transaction_id: str) -> None:
        """Mark a transaction fraudulent: it earns nothing from now on."""
        with self._lock:
            self._flagged.add((organization_id, transaction_id))

    def is_flagged(self, organization_id: str, transaction_id: str) -> bool:
        """Return whether the transaction was flagged as fraudulent."""
        with self._lock:
            return (organization_id, transaction_id) in self._flagged

    def get(self, organization_id: str, transaction_id: str) -> Reward | None:
        """Return the reward of a transaction, if it earned one."""
        with self._lock:
            return self._rewards.get((organization_id, transaction_id))

    def add(self, reward: Reward) -> bool:
        """Keep a new reward; False when the organization already holds MAX_REWARDS."""
        with self._lock:
            held = self._held.get(reward.organization_id, 0)
            if held >= MAX_REWARDS:
                return False
            self._rewards[(reward.organization_id, reward.transaction_id)] = reward
            user = self._by_user.setdefault((reward.organization_id, reward.user_id), {})
            user[reward.transaction_id] = reward
            self._held[reward.organization_id] = held + 1
            return True

    def remove(self, reward: Reward) -> None:
        """Drop a reward (its transaction failed, or was returned)."""
        with self._lock:
            if self._rewards.pop((reward.organization_id, reward.transaction_id), None):
                self._held[reward.organization_id] -= 1
                del self._by_user[(reward.organization_id, reward.user_id)][reward.transaction_id]

    def rewards(self, organization_id: str, user_id: str | None = None) -> list[Reward]:
        """Return the organization's rewards (the user's, when named), newest first."""
        with self._lock:
            if user_id is not None:
                found = list(self._by_user.get((organization_id, user_id), {}).values())
            else:
                found = [r for (org, _), r in self._rewards.items() if org == organization_id]
        return sorted(found, key=lambda reward: (reward.purchased_at, reward.id), reverse=True)

    def redemptions(self, organization_id: str, user_id: str) -> Counter[str]:
        """Return how many rewards the user holds on each offer."""
        with self._lock:
            held = self._by_user.get((organization_id, user_id), {}).values()
            return Counter(reward.offer.id for reward in held)

    def pay_due(self, now: datetime) -> list[Reward]:
        """Mark paid every settled reward whose commission is due by `now`; return them."""
        with self._lock:
            due = [
                reward
                for reward in self._rewards.values()
                if reward.paid_at is None and reward.due_at is not None and reward.due_at <= now
            ]
            for reward in due:
                reward.paid_at = reward.due_at
        return sorted(due, key=lambda reward: reward.due_at or now)

    def clear(self) -> None:
        """Forget every reward and event."""
        with self._lock:
            self._rewards.clear()
            self._by_user.clear()
            self._held.clear()
            self._events.clear()
            self._senders.clear()
            self._flagged.clear()
