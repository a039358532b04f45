"""Which offer a purchase earns on, and how much, as Kard matches a card-linked purchase.

The guide maps an offer's `attributes.name` to the transaction's `description` (or its
merchant's `name`). The offer must be one the user is eligible for, live on the purchase date,
activated first when it needs activation, within its transaction bounds and redemption limit; a
boosted offer earns its boosted rate. When several match, the best reward wins.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bff.sandbox.catalog.offers import Offer
from bff.sandbox.state import OfferState

ISSUER_SHARE = 0.3  # the issuer's part of the commission, next to the user's cash back


@dataclass(frozen=True)
class Earning:
    """What a matched purchase earns."""

    offer: Offer
    rate: float  # the offer's reward value that applied: its boosted one, when boosted
    user_cents: int
    issuer_cents: int


def merchant_names(attributes: dict[str, Any]) -> set[str]:
    """The names a transaction gives its merchant, folded for comparison."""
    merchant = attributes.get("merchant")
    names = {
        attributes["description"],
        merchant.get("name") if isinstance(merchant, dict) else None,
    }
    return {name.strip().casefold() for name in names if isinstance(name, str)}


def refusal(
    offer: Offer, user_id: str, amount: int, when: datetime, state: OfferState
) -> str | None:
    """Why the purchase earns nothing on the offer, or None when it earns."""
    if not offer.visible_to(user_id):
        return "The user is not eligible for this offer"
    if not offer.start <= when <= offer.expiration:
        return "The offer was not live on the purchase date"
    if offer.requires_activation and not state.activated:
        return "The offer was not activated before the purchase"
    if offer.min_transaction_cents is not None and amount < offer.min_transaction_cents:
        return "The purchase is below the offer's minimum"
    if offer.max_transaction_cents is not None and amount > offer.max_transaction_cents:
        return "The purchase is above the offer's maximum"
    if offer.max_redemptions is not None and state.redemptions >= offer.max_redemptions:
        return "The offer's redemption limit was reached"
    return None


def earning(offer: Offer, amount: int, state: OfferState) -> Earning:
    """The user's cash back (at the boosted rate when boosted) and the issuer's share."""
    rate = offer.boosted_value if state.boosted and offer.boosted_value else offer.reward_value
    percent = offer.reward_type == "PERCENT"
    user_cents = round(amount * rate / 100) if percent else round(rate * 100)
    return Earning(offer, rate, user_cents, max(1, round(user_cents * ISSUER_SHARE)))


def best_match(
    offers: list[Offer],
    attributes: dict[str, Any],
    when: datetime,
    state_of: Callable[[Offer], OfferState],
) -> Earning | None:
    """The best earning among the offers the purchase matches, if any (a credit, money back to
    the card, earns nothing)."""
    if attributes.get("direction") == "CREDIT":
        return None
    names = merchant_names(attributes)
    amount = attributes["amount"]
    user_id = attributes["userId"]
    earnings = []
    for offer in offers:
        if offer.name.casefold() in names:
            state = state_of(offer)
            if refusal(offer, user_id, amount, when, state) is None:
                earnings.append(earning(offer, amount, state))
    return max(earnings, key=lambda found: found.user_cents, default=None)
