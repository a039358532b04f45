"""What the simulator's tests share: the sandbox's organization and users, requests, checks."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx

from bff.sandbox import Simulator
from bff.sandbox.catalog.offers import Offer
from bff.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

ORG = "org-sandbox"
NEW = "sandbox-demo-new-customer"
LAPSED = "sandbox-demo-lapsed-customer"
USER = "user-123"
# The credentials the simulator takes unless configured otherwise (the sandbox defaults).
CREDENTIALS = {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}
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


TRANSACTIONS = f"/v2/issuers/{ORG}/transactions"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def transaction(
    event_id: str,
    description: str,
    *,
    status: str = "SETTLED",
    user: str = USER,
    transaction_id: str | None = None,
    when: datetime | None = None,
    **attributes,
) -> dict:
    """An incoming `transaction` event, dated `when` (an hour ago by default), with the dates
    its status requires."""
    when = when or datetime.now(UTC) - timedelta(hours=1)
    dates = {"authorizationDate": stamp(when)}
    if status == "SETTLED":
        dates["settledDate"] = stamp(when)
    elif status != "APPROVED":
        dates["transactionDate"] = stamp(when)
    body = {
        "userId": user,
        "transactionId": transaction_id or event_id,
        "amount": 10000,
        "currency": "USD",
        "status": status,
        "direction": "DEBIT",
        "paymentType": "CARD",
        "description": description,
        "cardBIN": "123456",
        "cardLastFour": "4321",
        **dates,
        **attributes,
    }
    return {"type": "transaction", "id": event_id, "attributes": body}


def plain(offer: Offer) -> bool:
    """An offer any purchase earns on: no activation, boost, bounds or limit."""
    return not (
        offer.requires_activation
        or offer.boosted_value
        or offer.min_transaction_cents
        or offer.max_transaction_cents
        or offer.max_redemptions
    )


def sole(simulator: Simulator, predicate, user: str = USER) -> Offer:
    """An offer the user sees that `predicate` holds for, the only one of its merchant."""
    visible = simulator.catalog.offers_for(user)
    per_merchant = Counter(offer.name for offer in visible)
    return next(o for o in visible if per_merchant[o.name] == 1 and predicate(o))
