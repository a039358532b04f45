"""Build an offer's Extended API `components` from the user's state and the requested types."""

from datetime import datetime
from typing import Any

from bff.sandbox.catalog.offers import Offer
from bff.sandbox.state import OfferState

# Requesting none of these means the issuer cannot render actions: a VIEW then acts as the action.
_INTERACTIVE = frozenset({"cta", "tags", "detailTags"})
_RECENT_DAYS = 7
_EXPIRING_DAYS = 7


def format_reward(reward_type: str, value: float) -> str:
    """Format a reward for display: "5.7% cash back" or "$20.00 cash back"."""
    if reward_type == "PERCENT":
        return f"{value:g}% cash back"
    return f"${value:,.2f} cash back"


def build_components(
    offer: Offer,
    state: OfferState,
    requested: frozenset[str],
    *,
    action_base: str,
    now: datetime,
) -> dict[str, Any]:
    """Return the requested components that apply to `offer` for this user.

    `action_base` is the API-root-relative path of the user's offers
    ("/v2/issuers/{org}/users/{user}/offers").
    """
    description_only = not requested & _INTERACTIVE
    activated = state.activated or (description_only and state.viewed)
    boosted = state.boosted or (description_only and state.viewed)
    candidates: dict[str, Any] = {
        "shortDescription": _short_description(offer, activated, boosted, description_only),
        "longDescription": _long_description(offer, activated, boosted, description_only),
        "baseReward": format_reward(offer.reward_type, offer.reward_value),
        "boostedReward": format_reward(offer.reward_type, offer.boosted_value)
        if offer.boosted_value is not None
        else None,
        "cta": _cta(offer, activated, boosted, action_base),
        "tags": _tags(offer, now),
        "detailTags": _detail_tags(offer, activated, boosted),
        "logoFlare": _logo_flare(offer, boosted),
        "progressBar": _progress_bar(offer, state.redemptions),
    }
    return {
        name: value for name, value in candidates.items() if name in requested and value is not None
    }


def _pending_action(offer: Offer, activated: bool, boosted: bool) -> str | None:
    """Return the action the user still has to take on the offer ("activate"/"boost"), if any."""
    if offer.requires_activation and not activated:
        return "activate"
    if offer.boostable and not boosted:
        return "boost"
    return None


def _state_description(offer: Offer, activated: bool, boosted: bool, *, long: bool) -> str | None:
    """The wording a description-only app shows for the offer's action state, if it has one."""
    pending = _pending_action(offer, activated, boosted)
    if pending:
        if long:
            return f"Tap to {pending}: open this offer to {pending} it, then pay with your card."
        return f"Tap to {pending}"
    if offer.requires_activation:
        return "Activated"
    if offer.boostable:
        return "Boosted"
    return None


def _short_description(offer: Offer, activated: bool, boosted: bool, description_only: bool) -> str:
    if description_only and (text := _state_description(offer, activated, boosted, long=False)):
        return text
    return "Multi-use" if offer.max_redemptions else "Single use"


def _long_description(offer: Offer, activated: bool, boosted: bool, description_only: bool) -> str:
    if description_only and (text := _state_description(offer, activated, boosted, long=True)):
        return text
    if offer.max_redemptions:
        return "Use your linked card on qualifying purchases to redeem multiple times."
    return "Use your linked card on a qualifying purchase to earn cash back once."


def _cta(offer: Offer, activated: bool, boosted: bool, action_base: str) -> dict[str, Any] | None:
    pending = _pending_action(offer, activated, boosted)
    if pending is None:
        return None
    return {
        "buttonText": f"Tap to {pending}",
        "buttonStyle": "PRIMARY",
        "action": {"url": f"{action_base}/{offer.id}/{pending}", "method": "POST"},
    }


def _tags(offer: Offer, now: datetime) -> list[str]:
    days_left = (offer.expiration - now).days
    if days_left < _EXPIRING_DAYS:
        return [f"{max(days_left, 0) + 1} days left"]
    if (now - offer.start).days < _RECENT_DAYS:
        return ["New"]
    return []


def _detail_tags(offer: Offer, activated: bool, boosted: bool) -> list[str]:
    if offer.requires_activation and activated:
        return ["Activated"]
    if offer.boostable and boosted:
        return ["Boosted"]
    return []


def _logo_flare(offer: Offer, boosted: bool) -> dict[str, Any] | None:
    if not (offer.is_targeted or (offer.boostable and boosted)):
        return None
    icon = "BOLT" if boosted else "STAR"
    return {"borderColor": "PRIMARY", "badge": {"icon": icon, "position": "TOP_RIGHT"}}


def _progress_bar(offer: Offer, redemptions: int) -> dict[str, Any] | None:
    total = offer.max_redemptions
    if not total:
        return None
    done = min(redemptions, total)
    label = f"{done} of {total} purchases"
    return {
        "total": total,
        "currentProgress": done,
        "label": label,
        "segmented": True,
        # The SDK requires one fill entry per segment node, index-aligned with the nodes.
        "segments": {
            "default": {"position": "LEFT"},
            "progress": [{"completed": int(node < done), "total": 1} for node in range(total)],
        },
        "labels": {"default": {"left": label, "right": f"{total - done} left"}},
    }
