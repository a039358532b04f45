"""The whole sandbox catalog (categories, offers, locations) with lookups by id."""

from dataclasses import dataclass, field
from datetime import date

from bff.sandbox.catalog.locations import Location, build_locations
from bff.sandbox.catalog.offers import Category, Offer, build_categories, build_offers


@dataclass(frozen=True)
class Catalog:
    """Immutable catalog data shared by every user."""

    categories: tuple[Category, ...]
    offers: tuple[Offer, ...]
    locations: tuple[Location, ...]
    offers_by_id: dict[str, Offer] = field(init=False, repr=False, compare=False)
    categories_by_name: dict[str, Category] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen dataclass: the lookup tables are derived once, here.
        object.__setattr__(self, "offers_by_id", {offer.id: offer for offer in self.offers})
        object.__setattr__(self, "categories_by_name", {c.name: c for c in self.categories})

    @classmethod
    def build(cls, today: date) -> "Catalog":
        """Build the deterministic catalog with offers live around `today` (UTC)."""
        categories = build_categories()
        offers = build_offers(today, categories)
        return cls(tuple(categories.values()), offers, build_locations(offers))

    def offers_for(self, user_id: str) -> list[Offer]:
        """Return the offers the user is eligible for, in catalog order."""
        return [offer for offer in self.offers if offer.visible_to(user_id)]
