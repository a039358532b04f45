"""Get Locations By User: geo/text filters, sorting and the paginated document."""

import math
from typing import Any

from bff.kard.vocabulary import CATEGORIES, STATES
from bff.sandbox.catalog import Catalog
from bff.sandbox.catalog.locations import Location
from bff.sandbox.documents.resources import Viewer, categories_of, user_path
from bff.sandbox.errors import bad_parameter
from bff.sandbox.pagination import links, order, paginate
from bff.sandbox.params import QueryArgs

SORT_KEYS = {"locationName": lambda located: located[0].name.casefold()}
DEFAULT_RADIUS_MILES = 10
EARTH_RADIUS_MILES = 3958.8
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

# A location paired with the ids of the offers the viewing user is eligible for there.
Located = tuple[Location, list[str]]


def locations_document(catalog: Catalog, viewer: Viewer, args: QueryArgs) -> dict[str, Any]:
    """Answer Get Locations By User for the viewer."""
    include = args.includes({"offers", "categories"})
    eligible = {offer.id for offer in catalog.offers_for(viewer.user_id)}
    located: list[Located] = [
        (location, [oid for oid in location.offer_ids if oid in eligible])
        for location in catalog.locations
    ]
    located = [(location, offer_ids) for location, offer_ids in located if offer_ids]
    center = _center(args)
    located = _filtered(located, args, by_place=center is None)
    if center is not None:
        radius = args.integer("filter[radius]", minimum=1) or DEFAULT_RADIUS_MILES
        distances = {
            loc.id: haversine_miles(center, (loc.latitude, loc.longitude)) for loc, _ in located
        }
        located = [item for item in located if distances[item[0].id] <= radius]
        # Nearest first is the default order of a geo search; an explicit sort overrides it.
        located.sort(key=lambda item: distances[item[0].id])
    else:
        args.integer("filter[radius]", minimum=1)
    located = order(located, args, SORT_KEYS)
    page = paginate(located, lambda item: item[0].id, args)
    document: dict[str, Any] = {
        "data": [_location_resource(location, offer_ids) for location, offer_ids in page.items],
        "links": links(
            f"{user_path(viewer.organization_id, viewer.user_id)}/locations", args, page
        ),
    }
    if include:
        document["included"] = _included(catalog, viewer, page.items, include)
    return document


def haversine_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance in miles between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def _center(args: QueryArgs) -> tuple[float, float] | None:
    latitude = args.number("filter[latitude]", minimum=-90, maximum=90)
    longitude = args.number("filter[longitude]", minimum=-180, maximum=180)
    if latitude is None and longitude is None:
        return None
    if latitude is None:
        raise bad_parameter(
            "filter[latitude]", "filter[latitude] is required with filter[longitude]"
        )
    if longitude is None:
        raise bad_parameter(
            "filter[longitude]", "filter[longitude] is required with filter[latitude]"
        )
    return latitude, longitude


def _filtered(located: list[Located], args: QueryArgs, *, by_place: bool) -> list[Located]:
    """Filter by name and category, and by city, zip code and state unless `by_place` is false:
    the reference prioritizes latitude and longitude over those three, so a geo search ignores
    them (they are still checked)."""
    name = (args.single("filter[name]") or "").casefold()
    city = (args.single("filter[city]") or "").casefold()
    zip_code = args.single("filter[zipCode]")
    state = args.choice("filter[state]", STATES)
    category = args.choice("filter[category]", CATEGORIES)
    if not by_place:
        city, zip_code, state = "", None, None
    return [
        (location, offer_ids)
        for location, offer_ids in located
        if name in location.name.casefold()
        and city in location.city.casefold()
        and (zip_code is None or location.zip_code == zip_code)
        and (state is None or location.state == state)
        and (category is None or location.category.name == category)
    ]


def _included(
    catalog: Catalog, viewer: Viewer, page: list[Located], include: frozenset[str]
) -> list[dict[str, Any]]:
    offer_ids = list(dict.fromkeys(oid for _, offer_ids in page for oid in offer_ids))
    offers = [catalog.offers_by_id[oid] for oid in offer_ids]
    included = [viewer.offer(offer) for offer in offers] if "offers" in include else []
    if "categories" in include:
        included += categories_of(location.category for location, _ in page)
    return included


def _location_resource(location: Location, offer_ids: list[str]) -> dict[str, Any]:
    return {
        "type": "location",
        "id": location.id,
        "attributes": {
            "name": location.name,
            "address": {
                "street": location.street,
                "city": location.city,
                "state": location.state,
                "zipCode": location.zip_code,
            },
            "coordinates": {"latitude": location.latitude, "longitude": location.longitude},
            "phone": location.phone,
            "operationHours": _hours(location.hours),
            "partnerIds": [{"type": "google", "id": location.google_place_id}],
        },
        "relationships": {
            "offers": {"data": [{"type": "standardOffer", "id": oid} for oid in offer_ids]},
            "category": {"data": [{"type": "category", "id": location.category.id}]},
        },
    }


def _hours(hours: tuple[tuple[int, str, str], ...]) -> dict[str, Any]:
    by_day = {day: (opens, closes) for day, opens, closes in hours}
    # Google lists weekdayText Monday first.
    return {
        "periods": [
            {"open": {"day": day, "time": opens}, "close": {"day": day, "time": closes}}
            for day, opens, closes in hours
        ],
        "weekdayText": [
            f"{_DAYS[day]}: {_clock(by_day[day][0])} \u2013 {_clock(by_day[day][1])}"
            for day in (*range(1, 7), 0)
        ],
    }


def _clock(hhmm: str) -> str:
    hour, minute = int(hhmm[:2]), hhmm[2:]
    return f"{(hour - 1) % 12 + 1}:{minute} {'AM' if hour < 12 else 'PM'}"
