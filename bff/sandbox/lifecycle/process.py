"""The reward lifecycle: each accepted transaction event moves its reward on, and says so.

    APPROVED that matches          -> pending reward              earnedRewardApproved
    SETTLED (after APPROVED)       -> listed, UNPAID              validTransaction
    SETTLED alone (single message,
      core, or pre-matched)        -> listed, UNPAID              earnedRewardApproved,
                                                                  validTransaction
    the clock passes settled + 30d -> PAID_IN_FULL                earnedRewardSettled
    DECLINED / REVERSED (pending)  -> dropped                     failedTransaction
    RETURNED / REVERSED (settled)  -> dropped                     clawback
    a pre-matched offer that does
      not hold                     -> nothing                     failedTransaction
    flagged as fraudulent          -> dropped, and never again    failedTransaction, or
                                                                  clawback once settled

A purchase that matches no offer earns nothing and sends nothing.
"""

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bff.sandbox.catalog import Catalog
from bff.sandbox.catalog.offers import Offer, mongo_id
from bff.sandbox.lifecycle import notifications
from bff.sandbox.lifecycle.incoming import MATCHED, event_date, purchase_date, status_of
from bff.sandbox.lifecycle.ledger import Ledger, Reward
from bff.sandbox.lifecycle.matching import Earning, best_match, earning, refusal
from bff.sandbox.state import OfferState, UserStore

# A notification to send: (the organization it is for, its payload).
Notification = tuple[str, dict[str, Any]]


class Lifecycle:
    """Applies transaction events to the ledger; each step returns the notifications Kard
    would send for it, in order."""

    def __init__(self, catalog: Catalog, users: UserStore, ledger: Ledger):
        self._catalog = catalog
        self._users = users
        self._ledger = ledger
        self._lock = threading.Lock()  # one event at a time: a reward moves one step at once
        self._outbox: list[Notification] = []

    def apply(self, organization_id: str, item: dict[str, Any]) -> list[Notification]:
        """Apply one validated, first-seen transaction event."""
        with self._lock:
            self._apply(organization_id, item)
            return self._sent()

    def pay_due(self, now: datetime) -> list[Notification]:
        """Pay every reward whose commission is due by `now`: each reward settles."""
        with self._lock:
            for reward in self._ledger.pay_due(now):
                self._send(reward, notifications.earned_reward_settled(reward))
            return self._sent()

    def flag_fraud(self, organization_id: str, transaction_id: str) -> list[Notification]:
        """Never reward the transaction: a pending reward fails, a settled one is clawed back."""
        with self._lock:
            self._ledger.flag(organization_id, transaction_id)
            reward = self._ledger.get(organization_id, transaction_id)
            if reward is not None:
                self._drop(reward, "The transaction was flagged as fraudulent")
            return self._sent()

    def _apply(self, organization_id: str, item: dict[str, Any]) -> None:
        attributes = item["attributes"]
        reward = self._ledger.get(organization_id, attributes["transactionId"])
        status = status_of(item)
        if status == "APPROVED":
            if reward is None:
                self._earn(organization_id, item)
        elif status == "SETTLED":
            reward = reward or self._earn(organization_id, item)
            if reward is not None and reward.settled_at is None:
                reward.settled_at = event_date(item)
                self._send(reward, notifications.valid_transaction(reward))
        elif reward is not None:  # DECLINED, REVERSED or RETURNED
            self._drop(reward, f"The transaction was {status.lower()}")

    def _drop(self, reward: Reward, reason: str) -> None:
        """Take the reward back: failedTransaction before settlement, clawback after."""
        self._ledger.remove(reward)
        settled = reward.settled_at is not None
        self._send(reward, notifications.failed_transaction(reward, reason, clawback=settled))

    def _earn(self, organization_id: str, item: dict[str, Any]) -> Reward | None:
        """Match the purchase; keep and announce its reward, if it earns one."""
        attributes = item["attributes"]
        if self._ledger.is_flagged(organization_id, attributes["transactionId"]):
            return None
        when = purchase_date(item)
        found = self._earning(organization_id, item, when)
        if isinstance(found, str):  # a pre-matched offer that does not hold
            offer = self._catalog.offers_by_id.get(attributes["matchedOfferId"])
            if offer is not None:
                failed = self._reward(organization_id, item, Earning(offer, 0, 0, 0), when)
                self._send(failed, notifications.failed_transaction(failed, found))
            return None
        if found is None:
            return None
        reward = self._reward(organization_id, item, found, when)
        if not self._ledger.add(reward):
            return None
        self._send(reward, notifications.earned_reward_approved(reward))
        return reward

    def _earning(
        self, organization_id: str, item: dict[str, Any], when: datetime
    ) -> Earning | str | None:
        """The purchase's earning, None if it matches nothing, or (pre-matched) the reason the
        match it names does not hold."""
        attributes = item["attributes"]
        user_id = attributes["userId"]
        state_of = self.state_of(organization_id, user_id)
        if item["type"] != MATCHED:
            return best_match(self._catalog.offers, attributes, when, state_of)
        offer_id = attributes.get("matchedOfferId")
        if offer_id is None:  # the reference: "considered unmatched to any Kard offer"
            return None
        offer = self._catalog.offers_by_id.get(offer_id)
        if offer is None:
            return f"Offer {offer_id} does not exist"
        state = state_of(offer)
        reason = refusal(offer, user_id, attributes["amount"], when, state)
        return reason or earning(offer, attributes["amount"], state)

    def state_of(self, organization_id: str, user_id: str) -> Callable[[Offer], OfferState]:
        """What the user has done with each offer: activations, boosts, rewards held."""
        redemptions = self._ledger.redemptions(organization_id, user_id)

        def state_of(offer: Offer) -> OfferState:
            return self._users.offer_state(user_id, offer.id, redemptions[offer.id])

        return state_of

    def _reward(
        self, organization_id: str, item: dict[str, Any], found: Earning, when: datetime
    ) -> Reward:
        attributes = item["attributes"]
        transaction_id = attributes["transactionId"]
        return Reward(
            id=mongo_id("reward", organization_id, transaction_id),
            organization_id=organization_id,
            user_id=attributes["userId"],
            transaction_id=transaction_id,
            offer=found.offer,
            rate=found.rate,
            amount_cents=attributes["amount"],
            user_cents=found.user_cents,
            issuer_cents=found.issuer_cents,
            purchased_at=when,
            card_product_id=attributes.get("cardProductId"),
        )

    def _send(self, reward: Reward, payload: dict[str, Any]) -> None:
        self._outbox.append((reward.organization_id, payload))

    def _sent(self) -> list[Notification]:
        sent, self._outbox = self._outbox, []
        return sent
