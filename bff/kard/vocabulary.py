"""Kard's vocabulary, from its API reference (version 2024-10-01): the enums of the endpoints the
BFF uses. The settings, the BFF's validation and the sandbox simulator all read them from here."""

# ComponentType: the UI components `supportedComponents` may ask for.
COMPONENTS = (
    "shortDescription",
    "longDescription",
    "baseReward",
    "boostedReward",
    "cta",
    "tags",
    "detailTags",
    "logoFlare",
    "progressBar",
)

# CategoryOption: `filter[category]`.
CATEGORIES = (
    "Arts & Entertainment",
    "Baby, Kids & Toys",
    "Books & Digital Media",
    "Clothing, Shoes & Accessories",
    "Computers, Electronics & Software",
    "Convenience",
    "Gas",
    "Department Stores",
    "Food & Beverage",
    "Health & Beauty",
    "Home & Garden",
    "Miscellaneous",
    "Occasions & Gifts",
    "Pets",
    "Sports & Outdoors",
    "Supplies & Services",
    "Travel",
)

# PurchaseChannel: `filter[purchaseChannel]`.
PURCHASE_CHANNELS = ("INSTORE", "ONLINE")

# State: `filter[state]` of Get Locations By User.
STATES = (
    "AL",
    "AK",
    "AS",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FM",
    "FL",
    "GA",
    "GU",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MH",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "MP",
    "OH",
    "OK",
    "OR",
    "PW",
    "PA",
    "PR",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VI",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
)

# OfferSortOptions and LocationSortOptions: `sort`.
OFFER_SORTS = ("startDate", "-startDate", "expirationDate", "-expirationDate", "name", "-name")
LOCATION_SORTS = ("locationName", "-locationName")

# Create Attribution Events: event codes, and the mediums each event type allows.
MAX_ATTRIBUTION_EVENTS = 100
EVENT_CODES = ("IMPRESSION", "VIEW", "ACTIVATE", "BOOST")
ATTRIBUTION_MEDIUMS = {
    "offerAttribution": ("BROWSE", "EMAIL", "MAP", "SEARCH", "CTA"),
    "notificationAttribution": ("PUSH",),
}

# Create Audits: 3005 incorrect cashback, 3006 missing cashback, 8001 other.
AUDIT_CODES = (3005, 3006, 8001)
