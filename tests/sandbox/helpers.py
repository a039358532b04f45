"""What the simulator's tests share: the sandbox's organization and users, requests, checks."""

import httpx

ORG = "org-sandbox"
NEW = "sandbox-demo-new-customer"
LAPSED = "sandbox-demo-lapsed-customer"
USER = "user-123"
CTA_MODE = {"supportedComponents": ["shortDescription", "longDescription", "cta", "detailTags"]}
DESCRIPTION_ONLY = {"supportedComponents": ["shortDescription", "longDescription"]}


def user_path(user: str, tail: str) -> str:
    return f"/v2/issuers/{ORG}/users/{user}/{tail}"


def assert_error(response: httpx.Response, status: int, **source: str) -> dict:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert errors and errors[0]["status"] == str(status) and errors[0]["title"]
    for key, value in source.items():
        assert any(error.get("source", {}).get(key) == value for error in errors), errors
    return errors[0]


def event(entity_id: str, code: str = "VIEW", medium: str = "BROWSE", **extra) -> dict:
    attributes = {
        "entityId": entity_id,
        "eventCode": code,
        "medium": medium,
        "eventDate": "2025-01-01T00:00:00Z",
        **extra,
    }
    return {"type": "offerAttribution", "attributes": attributes}


def offers(api: httpx.Client, user: str = USER, **params) -> dict:
    response = api.get(user_path(user, "offers"), params={"page[size]": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def find_offer(api: httpx.Client, predicate, user: str = USER, **params) -> dict:
    return next(o for o in offers(api, user, **params)["data"] if predicate(o))


def needs_activation(offer: dict) -> bool:
    cta = offer["attributes"]["components"].get("cta")
    return bool(cta) and cta["buttonText"] == "Tap to activate"


def activatable(offers: list[dict]) -> dict:
    """The first offer whose call to action is to activate it."""
    return next(
        offer
        for offer in offers
        if offer["attributes"]["components"].get("cta", {}).get("buttonText") == "Tap to activate"
    )
