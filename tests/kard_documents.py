"""Valid Kard request documents that several test files send."""

from typing import Any


def impression(entity_id: str = "x") -> dict[str, Any]:
    """An IMPRESSION `offerAttribution` as Create Attribution Events takes it."""
    return {
        "type": "offerAttribution",
        "attributes": {
            "entityId": entity_id,
            "eventCode": "IMPRESSION",
            "medium": "BROWSE",
            "eventDate": "2025-01-01T00:00:00Z",
        },
    }
