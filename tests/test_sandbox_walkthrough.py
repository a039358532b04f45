"""The getting-started guide's walkthrough, end to end through the BFF and its sandbox: a user
enrolled by their first session, an offer activated, a matching purchase reported by the
issuer, the signed notifications reaching the BFF's webhook, the reward in `GET /api/v1/rewards`,
the clock moved on until it is paid; and a purchase where no offer is earns nothing."""

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bff.sandbox.blueprint import NAME as SIMULATOR
from tests import webhook_hooks
from tests.sandbox.helpers import CREDENTIALS, sole, stamp
from tests.servers import serve

USER = "walkthrough-user"
KEY = "walkthrough-webhook-key"
DAY = 86400


@pytest.fixture
def sandbox(make_app):
    """`make run` as an issuer tries it: the sandbox BFF with a webhook key, served over real
    HTTP, its notifications handed to the recording hook."""
    webhook_hooks.reset()
    app = make_app(KARD_WEBHOOK_KEY=KEY, BFF_WEBHOOK_HOOK="tests.webhook_hooks:record")
    with serve(app) as url:
        yield app, url
    webhook_hooks.reset()


def _notified(count: int, timeout: float = 30.0) -> list:
    """The notifications the BFF handed on, once there are `count`."""
    deadline = time.monotonic() + timeout
    while len(webhook_hooks.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return list(webhook_hooks.received)


def _purchase(kard: httpx.Client, event_id: str, merchant: str) -> None:
    """What the issuer's backend does: report the card purchase to Incoming Transactions."""
    when = stamp(datetime.now(UTC) - timedelta(minutes=1))
    attributes = {
        "userId": USER,
        "transactionId": event_id,
        "amount": 8000,
        "currency": "USD",
        "status": "SETTLED",
        "direction": "DEBIT",
        "paymentType": "CARD",
        "description": merchant,
        "cardBIN": "123456",
        "cardLastFour": "4321",
        "authorizationDate": when,
        "settledDate": when,
    }
    body = {"data": [{"type": "transaction", "id": event_id, "attributes": attributes}]}
    response = kard.post("/v2/issuers/org-sandbox/transactions", json=body)
    assert response.status_code == 202, response.text


def test_the_guides_walkthrough(sandbox) -> None:
    app, url = sandbox
    simulator = app.extensions[SIMULATOR]
    session = httpx.post(f"{url}/dev/session", json={"userId": USER})  # enrolls the user
    assert session.status_code == 200, session.text
    bff = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {session.json()['token']}"})
    kard_root = f"{url}/sandbox/kard"
    token = httpx.post(f"{kard_root}/v2/auth/token", json=CREDENTIALS).json()["access_token"]
    kard = httpx.Client(base_url=kard_root, headers={"Authorization": f"Bearer {token}"})

    # Kard knows the user; the offers list has one to activate.
    assert kard.get(f"/v2/issuers/org-sandbox/users/{USER}").status_code == 200
    offer = sole(simulator, lambda o: o.requires_activation and not o.min_transaction_cents, USER)
    listed = bff.get("/api/v1/offers", params={"page[size]": "100"}).json()["data"]
    assert offer.id in [item["id"] for item in listed]
    assert bff.post(f"/api/v1/offers/{offer.id}/activate").status_code == 201

    _purchase(kard, "walkthrough-1", offer.name)
    approved, valid = _notified(2)
    assert (approved.type, valid.type) == ("earnedRewardApproved", "validTransaction")
    assert approved.user_id == USER and approved.related["offer"] == offer.id
    (reward,) = bff.get("/api/v1/rewards").json()["data"]
    assert reward["attributes"]["transactionId"] == "walkthrough-1"
    assert reward["attributes"]["paidToIssuer"] == "UNPAID"

    advanced = httpx.post(f"{kard_root}/_sandbox/clock", json={"advanceSeconds": 31 * DAY})
    assert advanced.status_code == 200
    settled = _notified(3)[2]
    assert settled.type == "earnedRewardSettled" and settled.user_id == USER
    earned = reward["attributes"]["commissionEarned"]["user"]["value"]
    assert settled.attributes["commissionEarned"] == {"type": "cents", "value": earned}
    (paid,) = bff.get("/api/v1/rewards").json()["data"]
    assert paid["attributes"]["paidToIssuer"] == "PAID_IN_FULL"

    _purchase(kard, "walkthrough-2", "Nowhere Hardware")  # no offer there
    simulator.wait_for_notifications()
    assert len(bff.get("/api/v1/rewards").json()["data"]) == 1
    assert len(_notified(3, timeout=0.5)) == 3
    # Each notification reached the BFF signed: none was refused at its webhook.
    assert [delivery.status for delivery in simulator.webhooks] == [200, 200, 200]
