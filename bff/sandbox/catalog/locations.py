"""The deterministic store locations of in-store merchants across several US metro areas."""

import hashlib
import random
from dataclasses import dataclass

from bff.sandbox.catalog.offers import Category, Offer, in_store, mongo_id


@dataclass(frozen=True)
class Metro:
    """A metro area locations are spread around."""

    city: str
    state: str
    latitude: float
    longitude: float
    zip_prefix: str
    area_code: str


METROS = (
    Metro("New York", "NY", 40.7128, -74.0060, "100", "212"),
    Metro("Chicago", "IL", 41.8781, -87.6298, "606", "312"),
    Metro("Los Angeles", "CA", 34.0522, -118.2437, "900", "213"),
    Metro("Houston", "TX", 29.7604, -95.3698, "770", "713"),
    Metro("Philadelphia", "PA", 39.9526, -75.1652, "191", "215"),
    Metro("Atlanta", "GA", 33.7490, -84.3880, "303", "404"),
)
STREETS = (
    "Main St",
    "Market St",
    "Oak Ave",
    "Broadway",
    "Elm St",
    "Park Ave",
    "Washington Blvd",
    "Lincoln Ave",
    "Maple Dr",
    "Lake St",
    "Cedar Ln",
    "Highland Ave",
)
# Opening hours templates: (open, close) per Google day index (0 = Sunday).
HOURS = (
    tuple((day, "0900", "2100") for day in range(7)),
    tuple((day, "0700", "2200") for day in range(7)),
    ((0, "1100", "1800"), *((day, "1000", "2000") for day in range(1, 7))),
)
# Offsets in degrees keep stores within roughly 8 miles of the metro centre.
_SPREAD_LAT = 0.11
_SPREAD_LON = 0.14


@dataclass(frozen=True)
class Location:
    """A physical store where some in-store offers can be redeemed."""

    id: str
    name: str
    street: str
    city: str
    state: str
    zip_code: str
    latitude: float
    longitude: float
    phone: str
    hours: tuple[tuple[int, str, str], ...]
    google_place_id: str
    category: Category
    offer_ids: tuple[str, ...]


def build_locations(offers: tuple[Offer, ...]) -> tuple[Location, ...]:
    """Place one to three stores per in-store merchant in every metro."""
    rng = random.Random("kard-sandbox-locations")
    by_merchant: dict[str, list[Offer]] = {}
    for offer in offers:
        if in_store(offer):
            by_merchant.setdefault(offer.merchant_id, []).append(offer)
    locations = []
    for merchant_offers in by_merchant.values():
        first = merchant_offers[0]
        for metro in METROS:
            for number in range(rng.randint(1, 3)):
                location_id = mongo_id("location", first.merchant_id, metro.city, str(number))
                locations.append(
                    Location(
                        id=location_id,
                        name=first.name,
                        street=f"{rng.randint(10, 9899)} {rng.choice(STREETS)}",
                        city=metro.city,
                        state=metro.state,
                        zip_code=f"{metro.zip_prefix}{rng.randint(1, 99):02d}",
                        latitude=round(metro.latitude + rng.uniform(-_SPREAD_LAT, _SPREAD_LAT), 6),
                        longitude=round(
                            metro.longitude + rng.uniform(-_SPREAD_LON, _SPREAD_LON), 6
                        ),
                        phone=f"({metro.area_code}) 555-{rng.randint(0, 9999):04d}",
                        hours=rng.choice(HOURS),
                        google_place_id="ChIJ"
                        + hashlib.sha256(location_id.encode()).hexdigest()[:23],
                        category=first.category,
                        offer_ids=tuple(offer.id for offer in merchant_offers),
                    )
                )
    return tuple(locations)
