"""Get Earned Rewards: the paginated document of a user's rewards, filtered by range and payout.

Only rewards whose transaction settled are listed, as the reference says ("Returns only SETTLED
transactions within the last 12 months"); a pending reward shows once its transaction settles.
"""

from datetime import datetime
from typing import Any

from bff.sandbox.documents.resources import iso, user_path
from bff.sandbox.lifecycle.ledger import Reward
from bff.sandbox.pagination import links, paginate
from bff.sandbox.params import QueryArgs

_RANGE_MONTHS = {"12M": 12, "6M": 6, "3M": 3}


def rewards_document(
    rewards: list[Reward], organization_id: str, user_id: str, args: QueryArgs, now: datetime
) -> dict[str, Any]:
    """Answer Get Earned Rewards from the user's full reward list, as of `now`."""
    include = args.includes({"merchant", "offer"})
    args.choice("filter[status]", ("SETTLED",))
    paid_only = args.boolean("filter[paidInFullOnly]")
    since = _range_start(args.choice("filter[range]", (*_RANGE_MONTHS, "YTD")) or "12M", now)
    rewards = [reward for reward in rewards if reward.settled_at is not None]
    selected = [r for r in rewards if r.purchased_at >= since and (not paid_only or r.paid_at)]
    page = paginate(selected, lambda reward: reward.id, args)
    document: dict[str, Any] = {
        "data": [_resource(reward, user_id) for reward in page.items],
        "links": links(f"{user_path(organization_id, user_id)}/earned-rewards", args, page),
        "meta": {"lifetimeRewardsInCents": sum(reward.user_cents for reward in rewards)},
    }
    if include:
        document["included"] = _included(page.items, include)
    return document


def purchase_document(transaction: dict[str, Any], reward: Reward | None) -> dict[str, Any]:
    """The answer to a test purchase: the transaction reported, and the reward it earned (null
    when it earned none)."""
    earned = None
    if reward is not None:
        earned = {
            "id": reward.id,
            "offerId": reward.offer.id,
            "userCents": reward.user_cents,
            "settledAt": iso(reward.settled_at) if reward.settled_at else None,
            "paidAt": iso(reward.paid_at) if reward.paid_at else None,
        }
    return {"data": transaction, "meta": {"reward": earned}}


def _range_start(name: str, anchor: datetime) -> datetime:
    if name == "YTD":
        return anchor.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    months = _RANGE_MONTHS[name]
    year, month = divmod(anchor.year * 12 + anchor.month - 1 - months, 12)
    # Clamp the day so e.g. 31 May minus 3 months lands on 28/29 February.
    day = min(anchor.day, 28)
    return anchor.replace(year=year, month=month + 1, day=day)


def _resource(reward: Reward, user_id: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "status": "SETTLED",
        "transactionId": reward.transaction_id,
        "transactionAmountInCents": reward.amount_cents,
        "transactionTimestamp": iso(reward.purchased_at),
        "paidToIssuer": "PAID_IN_FULL" if reward.paid_at else "UNPAID",
        "commissionEarned": {
            "issuer": {"type": "cents", "value": reward.issuer_cents},
            "user": {"type": "cents", "value": reward.user_cents},
        },
    }
    if reward.paid_at:
        attributes["payoutTimestamp"] = iso(reward.paid_at)
    return {
        "type": "rewardedTransaction",
        "id": reward.id,
        "attributes": attributes,
        "relationships": {
            "user": {"data": {"type": "user", "id": user_id}},
            "merchant": {"data": {"type": "merchant", "id": reward.offer.merchant_id}},
            "offer": {"data": {"type": "offer", "id": reward.offer.id}},
        },
    }


def _included(rewards: list[Reward], include: frozenset[str]) -> list[dict[str, Any]]:
    included: dict[tuple[str, str], dict[str, Any]] = {}
    for reward in rewards:
        offer = reward.offer
        if "merchant" in include:
            included[("merchant", offer.merchant_id)] = {
                "type": "merchant",
                "id": offer.merchant_id,
                "attributes": {"name": offer.name},
            }
        if "offer" in include:
            included[("offer", offer.id)] = {
                "type": "offer",
                "id": offer.id,
                "attributes": {"purchaseChannel": list(offer.purchase_channel)},
            }
    return list(included.values())
