"""Each user's earned rewards: deterministic rewarded transactions on the offers they can see."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from bff.sandbox.catalog import Catalog
from bff.sandbox.catalog.offers import Offer, mongo_id, persona

PERSONA_REWARDS = 3
MAX_REWARDS = 25
# Kard pays issuers monthly; rewards older than this are shown as paid in full.
_PAID_AFTER_DAYS = 45


@dataclass(frozen=True)
class Reward:
    """A settled transaction that earned cash back."""

    id: str
    transaction_id: str
    offer: Offer
    timestamp: datetime
    amount_cents: int
    user_cents: int
    issuer_cents: int
    paid_at: datetime | None


def earned_rewards(catalog: Catalog, user_id: str, anchor: datetime) -> list[Reward]:
    """Return the user's rewards within the 12 months before `anchor`, newest first."""
    digest = _hash(user_id)
    count = PERSONA_REWARDS if persona(user_id) else digest % (MAX_REWARDS + 1)
    offers = catalog.offers_for(user_id)
    rewards = [_reward(offers, user_id, index, anchor) for index in range(count)]
    return sorted(rewards, key=lambda reward: (reward.timestamp, reward.id), reverse=True)


def _reward(offers: list[Offer], user_id: str, index: int, anchor: datetime) -> Reward:
    digest = _hash(f"{user_id}/{index}")
    offer = offers[digest % len(offers)]
    timestamp = anchor - timedelta(days=1 + (digest >> 8) % 360, seconds=(digest >> 20) % 86400)
    amount = 1000 + (digest >> 40) % 20000
    if offer.reward_type == "PERCENT":
        user_cents = round(amount * offer.reward_value / 100)
    else:
        user_cents = round(offer.reward_value * 100)
    paid = (anchor - timestamp).days > _PAID_AFTER_DAYS
    payout_month = (timestamp.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0
    )
    return Reward(
        id=mongo_id("reward", user_id, str(index)),
        transaction_id=f"txn-{mongo_id('transaction', user_id, str(index))[:16]}",
        offer=offer,
        timestamp=timestamp,
        amount_cents=amount,
        user_cents=user_cents,
        issuer_cents=max(1, round(user_cents * 0.3)),
        paid_at=payout_month if paid else None,
    )


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
