"""The deterministic offer catalog: categories and offers, dated relative to the current UTC day."""

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bff.kard.vocabulary import CATEGORIES
from bff.sandbox.catalog.merchants import INSTORE, MERCHANTS, Merchant

NEW_CUSTOMER = "new-customer"
LAPSED_CUSTOMER = "lapsed-customer"
# Targeted at every user (not a persona): shows a targeted offer to ordinary users too.
EVERYONE = "everyone"
ASSET_HOST = "https://assets.sandbox.kard.local"


def mongo_id(*parts: str) -> str:
    """Derive a stable 24-hex-char Mongo-style id from `parts`."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:24]


def persona(user_id: str) -> str | None:
    """Return the sandbox persona a user id names (`sandbox-{issuer}-new-customer`...), if any."""
    if user_id.startswith("sandbox-"):
        for name in (NEW_CUSTOMER, LAPSED_CUSTOMER):
            if user_id.endswith(f"-{name}"):
                return name
    return None


@dataclass(frozen=True)
class Category:
    """A Kard merchant category."""

    id: str
    name: str


@dataclass(frozen=True)
class Offer:
    """A catalog offer with what its components and filters need."""

    id: str
    merchant_id: str
    name: str
    category: Category
    purchase_channel: tuple[str, ...]
    reward_type: str
    reward_value: float
    start: datetime
    expiration: datetime
    audience: str | None
    requires_activation: bool
    boosted_value: float | None
    max_redemptions: int | None
    min_transaction_cents: int | None
    max_transaction_cents: int | None
    website_url: str

    @property
    def is_targeted(self) -> bool:
        """Return whether the offer is targeted at an audience."""
        return self.audience is not None

    @property
    def boostable(self) -> bool:
        """Return whether a user can boost the offer."""
        return self.boosted_value is not None

    def visible_to(self, user_id: str) -> bool:
        """Return whether the user is eligible for the offer (personas get their own targets)."""
        return self.audience in (None, EVERYONE) or self.audience == persona(user_id)


def build_offers(today: date, categories: dict[str, Category]) -> tuple[Offer, ...]:
    """Build one base offer per merchant plus targeted offers for some of them."""
    rng = random.Random("kard-sandbox-offers")
    offers = [
        _offer(rng, today, categories, merchant, index, None)
        for index, merchant in enumerate(MERCHANTS)
    ]
    # Persona targets cycle through the roster so the two personas see different merchants.
    for index, merchant in enumerate(MERCHANTS[::3]):
        audience = (NEW_CUSTOMER, LAPSED_CUSTOMER, EVERYONE)[index % 3]
        offers.append(_offer(rng, today, categories, merchant, index, audience))
    return tuple(offers)


def _offer(
    rng: random.Random,
    today: date,
    categories: dict[str, Category],
    merchant: Merchant,
    index: int,
    audience: str | None,
) -> Offer:
    """Vary the offer's features by its position so every combination occurs in the catalog."""
    flat = index % 3 == 0
    value = (
        float(rng.choice([5, 10, 15, 20, 25])) if flat else rng.choice([1.5, 2, 3, 4.5, 5, 5.7, 8])
    )
    if audience is not None:
        value = value + 10 if flat else value * 2
    requires_activation = index % 4 == 1
    boostable = index % 5 == 2 and not requires_activation
    start_days = 2 if index % 10 == 4 else rng.randint(10, 120)
    end_days = 4 if index % 10 == 7 else rng.randint(20, 200)
    day_start = datetime.combine(today, time(5), tzinfo=UTC)
    return Offer(
        id=mongo_id("offer", merchant.slug, audience or "base"),
        merchant_id=mongo_id("merchant", merchant.slug),
        name=merchant.name,
        category=categories[merchant.category],
        purchase_channel=merchant.channels,
        reward_type="FLAT" if flat else "PERCENT",
        reward_value=value,
        start=day_start - timedelta(days=start_days),
        expiration=day_start + timedelta(days=end_days),
        audience=audience,
        requires_activation=requires_activation,
        boosted_value=(value + 10 if flat else value * 2) if boostable else None,
        max_redemptions=rng.choice([3, 5]) if index % 6 == 3 else None,
        min_transaction_cents=2500 if index % 7 == 0 else None,
        max_transaction_cents=50000 if index % 9 == 0 else None,
        website_url=f"https://www.{merchant.slug.replace('-', '')}.example.com",
    )


def build_categories() -> dict[str, Category]:
    """Build the 17 categories keyed by name."""
    return {name: Category(mongo_id("category", name), name) for name in CATEGORIES}


def in_store(offer: Offer) -> bool:
    """Return whether the offer can be redeemed at physical locations."""
    return INSTORE in offer.purchase_channel
