"""The sandbox's fixed merchant roster: name, category and purchase channels of each."""

from dataclasses import dataclass

INSTORE = "INSTORE"
ONLINE = "ONLINE"
BOTH = (INSTORE, ONLINE)


@dataclass(frozen=True)
class Merchant:
    """A merchant the sandbox has offers for."""

    name: str
    category: str
    channels: tuple[str, ...]

    @property
    def slug(self) -> str:
        """Return a URL-friendly form of the name."""
        return "".join(ch if ch.isalnum() else "-" for ch in self.name.lower()).strip("-")


def _roster(rows: list[tuple[str, str, tuple[str, ...]]]) -> tuple[Merchant, ...]:
    return tuple(Merchant(name, category, channels) for name, category, channels in rows)


# Three merchants per category, mixing in-store, online and both so every filter has matches.
MERCHANTS = _roster(
    [
        ("Starlight Cinemas", "Arts & Entertainment", (INSTORE,)),
        ("Gallery Row Tickets", "Arts & Entertainment", (ONLINE,)),
        ("Bowl & Brew Lanes", "Arts & Entertainment", BOTH),
        ("Little Sprouts Toys", "Baby, Kids & Toys", BOTH),
        ("Cradle & Co", "Baby, Kids & Toys", (ONLINE,)),
        ("Playtime Depot", "Baby, Kids & Toys", (INSTORE,)),
        ("Chapter House Books", "Books & Digital Media", (INSTORE,)),
        ("Pageturn Digital", "Books & Digital Media", (ONLINE,)),
        ("Vinyl Loft", "Books & Digital Media", BOTH),
        ("Threadline Apparel", "Clothing, Shoes & Accessories", BOTH),
        ("Stride Shoe Co", "Clothing, Shoes & Accessories", (INSTORE,)),
        ("Urban Satchel", "Clothing, Shoes & Accessories", (ONLINE,)),
        ("Circuit Central", "Computers, Electronics & Software", BOTH),
        ("ByteSoft Store", "Computers, Electronics & Software", (ONLINE,)),
        ("Gadget Garage", "Computers, Electronics & Software", (INSTORE,)),
        ("QuickStop Market", "Convenience", (INSTORE,)),
        ("Corner Pantry", "Convenience", (INSTORE,)),
        ("DashCart", "Convenience", (ONLINE,)),
        ("FuelWay", "Gas", (INSTORE,)),
        ("Highway Petro", "Gas", (INSTORE,)),
        ("GreenCharge Stations", "Gas", BOTH),
        ("Maple & Main Department Store", "Department Stores", BOTH),
        ("Brightline Outlet", "Department Stores", (INSTORE,)),
        ("Everyday Emporium", "Department Stores", (ONLINE,)),
        ("Worlds Greatest Chicken", "Food & Beverage", (INSTORE,)),
        ("Bean Street Coffee", "Food & Beverage", BOTH),
        ("Taco Trail", "Food & Beverage", (INSTORE,)),
        ("Glow Beauty Bar", "Health & Beauty", BOTH),
        ("Wellspring Pharmacy", "Health & Beauty", (INSTORE,)),
        ("Pure Skin Lab", "Health & Beauty", (ONLINE,)),
        ("Hearth & Home", "Home & Garden", BOTH),
        ("Greenthumb Nursery", "Home & Garden", (INSTORE,)),
        ("Nestwell Furniture", "Home & Garden", (ONLINE,)),
        ("Odds & Ends Co", "Miscellaneous", (INSTORE,)),
        ("Everything Box", "Miscellaneous", (ONLINE,)),
        ("Keys & Copies", "Miscellaneous", BOTH),
        ("Petal Pushers Florist", "Occasions & Gifts", BOTH),
        ("Giftwrap Gallery", "Occasions & Gifts", (ONLINE,)),
        ("Party Palace", "Occasions & Gifts", (INSTORE,)),
        ("Pawsome Pets", "Pets", BOTH),
        ("Kibble Club", "Pets", (ONLINE,)),
        ("Fetch Grooming", "Pets", (INSTORE,)),
        ("Summit Outfitters", "Sports & Outdoors", BOTH),
        ("Fairway Golf Supply", "Sports & Outdoors", (INSTORE,)),
        ("Trailhead Gear", "Sports & Outdoors", (ONLINE,)),
        ("SparkClean Laundry", "Supplies & Services", (INSTORE,)),
        ("PrintPoint", "Supplies & Services", BOTH),
        ("OfficeNest Supplies", "Supplies & Services", (ONLINE,)),
        ("Skyway Airlines", "Travel", (ONLINE,)),
        ("Harbor Inn Hotels", "Travel", BOTH),
        ("Roadtrip Rentals", "Travel", (INSTORE,)),
    ]
)
