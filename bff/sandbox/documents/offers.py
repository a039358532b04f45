"""Get Offers By User: filtering, sorting and the paginated document; Activate and Boost Offer."""

import uuid
from typing import Any

from bff.kard.vocabulary import CATEGORIES
from bff.sandbox.catalog import Catalog
from bff.sandbox.catalog.merchants import INSTORE, ONLINE
from bff.sandbox.catalog.offers import Offer
from bff.sandbox.documents.resources import Viewer, categories_of, iso, user_path
from bff.sandbox.errors import KardError
from bff.sandbox.pagination import links, order, paginate
from bff.sandbox.params import QueryArgs
from bff.sandbox.simulator import Simulator

SORT_KEYS = {
    "startDate": lambda offer: offer.start,
    "expirationDate": lambda offer: offer.expiration,
    "name": lambda offer: offer.name.casefold(),
}


def offers_document(catalog: Catalog, viewer: Viewer, args: QueryArgs) -> dict[str, Any]:
    """Answer Get Offers By User for the viewer."""
    include = args.includes({"categories"})
    offers = order(_filtered(catalog.offers_for(viewer.user_id), args), args, SORT_KEYS)
    page = paginate(offers, lambda offer: offer.id, args)
    document: dict[str, Any] = {
        "data": [viewer.offer(offer) for offer in page.items],
        "links": links(f"{user_path(viewer.organization_id, viewer.user_id)}/offers", args, page),
    }
    if "categories" in include:
        document["included"] = categories_of(offer.category for offer in page.items)
    document["meta"] = {"availableCategories": categories_of(offer.category for offer in offers)}
    return document


def _filtered(offers: list[Offer], args: QueryArgs) -> list[Offer]:
    search = (args.single("filter[search]") or "").casefold()
    channels = set(args.choices("filter[purchaseChannel]", (INSTORE, ONLINE)))
    category = args.choice("filter[category]", CATEGORIES)
    targeted = args.boolean("filter[isTargeted]")
    return [
        offer
        for offer in offers
        if (search in offer.name.casefold() or search in offer.category.name.casefold())
        and (not channels or channels & set(offer.purchase_channel))
        and (category is None or offer.category.name == category)
        and (targeted is None or offer.is_targeted == targeted)
    ]


def offer_action_document(
    sim: Simulator,
    organization_id: str,
    user_id: str,
    offer_id: str,
    action: str,
    *,
    include: bool,
    components: frozenset[str],
) -> dict[str, Any]:
    """Record the user's CTA event for an offer; the attribution (and the updated offer)."""
    offer = sim.catalog.offers_by_id.get(offer_id)
    if offer is None or not offer.visible_to(user_id):
        # Activate and Boost list 201, 400, 401 and 500: an unknown offer is a bad request.
        raise KardError(400, f"Offer {offer_id} is not available to this user")
    attributes = {
        "entityId": offer_id,
        "eventCode": action.upper(),
        "medium": "CTA",
        "eventDate": iso(sim.now()),
    }
    sim.users.record_events(user_id, [{"type": "offerAttribution", "attributes": attributes}])
    document: dict[str, Any] = {
        "data": {"type": "offerAttribution", "id": str(uuid.uuid4()), "attributes": attributes}
    }
    if include:
        document["included"] = [sim.viewer(organization_id, user_id, components).offer(offer)]
    return document
