"""The payloads of Kard's notification webhook (Notification Webhook, version 2024-10-01) for the
reward lifecycle and audits, worded as the getting-started guide's examples are."""

import uuid
from datetime import datetime
from typing import Any

from bff.sandbox.documents.resources import iso
from bff.sandbox.lifecycle.ledger import Reward
from bff.sandbox.uploads.webhooks import ISSUER_NAME

EARNED_REWARD_APPROVED = "earnedRewardApproved"
EARNED_REWARD_SETTLED = "earnedRewardSettled"
VALID_TRANSACTION = "validTransaction"
FAILED_TRANSACTION = "failedTransaction"
CLAWBACK = "clawback"
AUDIT_UPDATE = "auditUpdate"
ATTRIBUTION_HOST = "https://attribution.sandbox.kard.local"


def _related(kind: str, resource_id: str) -> dict[str, Any]:
    return {"data": {"type": kind, "id": resource_id}}


def _notification(
    kind: str, organization_id: str, attributes: dict[str, Any], relationships: dict
) -> dict[str, Any]:
    data = {
        "type": kind,
        "id": str(uuid.uuid4()),
        "attributes": attributes,
        "relationships": relationships,
    }
    return {"data": data, "meta": {"issuerId": organization_id, "issuerName": ISSUER_NAME}}


def _cents(value: int) -> dict[str, Any]:
    return {"type": "cents", "value": value}


def _about(reward: Reward, message: str) -> dict[str, Any]:
    """The attributes and relationships every reward notification shares: the reference's,
    and the transaction and reward details the official SDK's models also require."""
    offer = reward.offer
    attributes: dict[str, Any] = {
        "message": message,
        "name": offer.name,
        "attributionUrl": f"{ATTRIBUTION_HOST}/notifications/{reward.id}",
        "transactionId": reward.transaction_id,
        "transactionAmountInCents": reward.amount_cents,
        "transactionTimestamp": iso(reward.purchased_at),
        "categoryName": offer.category.name,
        "userReward": {"type": offer.reward_type, "value": reward.rate},
        "purchaseChannel": list(offer.purchase_channel),
    }
    if reward.card_product_id is not None:
        attributes["cardProductId"] = reward.card_product_id
    relationships = {
        "user": _related("user", reward.user_id),
        "offer": _related("offer", offer.id),
        "transaction": _related("transaction", reward.transaction_id),
    }
    return {
        "organization_id": reward.organization_id,
        "attributes": attributes,
        "relationships": relationships,
    }


def earned_reward_approved(reward: Reward) -> dict[str, Any]:
    """A purchase qualified for a reward, still pending."""
    message = f"Congrats! You have earned a pending reward on your purchase at {reward.offer.name}!"
    about = _about(reward, message)
    return _notification(EARNED_REWARD_APPROVED, **about)


def earned_reward_settled(reward: Reward) -> dict[str, Any]:
    """The reward was paid: the user's cash back is final."""
    dollars = f"${reward.user_cents / 100:,.2f}"
    message = (
        f"Congrats! You have earned a {dollars} reward on your purchase at {reward.offer.name}!"
    )
    about = _about(reward, message)
    attributes = {**about["attributes"], "commissionEarned": _cents(reward.user_cents)}
    return _notification(EARNED_REWARD_SETTLED, **{**about, "attributes": attributes})


def valid_transaction(reward: Reward) -> dict[str, Any]:
    """The rewarded transaction settled and was validated."""
    message = f"Your purchase at {reward.offer.name} was validated for its reward."
    about = _about(reward, message)
    commission = {"issuer": _cents(reward.issuer_cents), "user": _cents(reward.user_cents)}
    attributes = {**about["attributes"], "commissionEarned": commission}
    return _notification(VALID_TRANSACTION, **{**about, "attributes": attributes})


def failed_transaction(reward: Reward, reason: str, *, clawback: bool = False) -> dict[str, Any]:
    """A rewarded transaction failed (declined, reversed, or a match refused), or, settled,
    was returned: the reward is clawed back."""
    if clawback:
        message = f"The reward on your purchase at {reward.offer.name} was reversed."
    else:
        message = f"Your purchase at {reward.offer.name} did not qualify for a reward."
    about = _about(reward, message)
    attributes = {**about["attributes"], "reason": reason}
    del attributes["attributionUrl"]  # the failure types carry none
    kind = CLAWBACK if clawback else FAILED_TRANSACTION
    return _notification(kind, **{**about, "attributes": attributes})


def audit_update(audit: dict[str, Any], resolved_at: datetime | None) -> dict[str, Any]:
    """An audit changed status; a closed one carries its resolution."""
    attributes = {
        key: audit[key]
        for key in (
            "status",
            "auditCode",
            "merchantName",
            "auditDescription",
            "transactionId",
            "resolutionCode",
            "resolutionDescription",
        )
        if key in audit
    }
    if resolved_at is not None:
        attributes["resolutionTimeStamp"] = iso(resolved_at)
    relationships = {
        "user": _related("user", audit["userId"]),
        "audit": _related("audit", audit["id"]),
    }
    return _notification(AUDIT_UPDATE, audit["organizationId"], attributes, relationships)
