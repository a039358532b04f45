"""JSON:API resource objects for catalog entities, rendered for one viewing user."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bff.sandbox.catalog.offers import ASSET_HOST, Category, Offer, mongo_id
from bff.sandbox.documents.components import build_components
from bff.sandbox.state import OfferState


def iso(moment: datetime) -> str:
    """Format a UTC datetime as ISO 8601 with a Z suffix."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def category_resource(category: Category) -> dict[str, Any]:
    """Render a category for `included` and `meta.availableCategories`."""
    return {"type": "category", "id": category.id, "attributes": {"name": category.name}}


def categories_of(categories: Iterable[Category]) -> list[dict[str, Any]]:
    """Render distinct categories sorted by name."""
    unique = {category.id: category for category in categories}
    return [category_resource(c) for c in sorted(unique.values(), key=lambda c: c.name)]


def user_path(organization_id: str, user_id: str) -> str:
    """Return the API-root-relative path of a user."""
    return f"/v2/issuers/{organization_id}/users/{user_id}"


@dataclass(frozen=True)
class Viewer:
    """A user looking at offers, with the components their app asked for."""

    organization_id: str
    user_id: str
    requested: frozenset[str]
    state_of: Callable[[Offer], OfferState]
    now: datetime

    def offer(self, offer: Offer) -> dict[str, Any]:
        """Render a standardOffer resource (with components when any were requested)."""
        attributes: dict[str, Any] = {
            "name": offer.name,
            "userReward": {"type": offer.reward_type, "value": offer.reward_value},
            "purchaseChannel": list(offer.purchase_channel),
            "startDate": iso(offer.start),
            "expirationDate": iso(offer.expiration),
            "terms": _terms(offer),
            "isTargeted": offer.is_targeted,
            "assets": _assets(offer),
            "websiteUrl": offer.website_url,
            "description": f"Earn cash back at {offer.name} when you pay with your linked card.",
        }
        if offer.max_redemptions:
            attributes["maxRedemptions"] = offer.max_redemptions
        if offer.min_transaction_cents:
            attributes["minTransactionAmount"] = _cents(offer.min_transaction_cents)
        if offer.max_transaction_cents:
            attributes["maxTransactionAmount"] = _cents(offer.max_transaction_cents)
        if self.requested:
            attributes["components"] = build_components(
                offer,
                self.state_of(offer),
                self.requested,
                action_base=f"{user_path(self.organization_id, self.user_id)}/offers",
                now=self.now,
            )
        return {
            "type": "standardOffer",
            "id": offer.id,
            "attributes": attributes,
            "relationships": {
                "category": {"data": [{"type": "category", "id": offer.category.id}]}
            },
        }


def _terms(offer: Offer) -> str:
    terms = f"{offer.name} offers are only available within US Locations."
    if offer.min_transaction_cents:
        terms += f" Minimum purchase of ${offer.min_transaction_cents / 100:,.2f} required."
    if offer.max_redemptions:
        terms += f" Can be redeemed up to {offer.max_redemptions} times."
    return terms


def _cents(value: int) -> dict[str, Any]:
    return {"type": "CENTS", "value": value}


def _assets(offer: Offer) -> list[dict[str, str]]:
    # Kard's asset URLs carry an attribution token; a stable fake keeps responses deterministic.
    token = mongo_id("attribution", offer.id)
    return [
        {
            "type": "LOGO_IMAGE",
            "url": f"{ASSET_HOST}/logo/{offer.id}.png?attribution={token}",
            "alt": f"{offer.name} Logo Image",
        },
        {
            "type": "IMG_VIEW",
            "url": f"{ASSET_HOST}/view/{offer.id}.jpg?attribution={token}",
            "alt": f"{offer.name} Offer Image",
        },
    ]
