"""The reward lifecycle: incoming transactions matched against the user's offers, the rewards
they earn moving through their states on the simulated clock, and the notifications each step
sends, signed, to the subscriptions."""

import threading
import time
from datetime import timedelta

import flask
import httpx
import pytest

from bff.kard.notifications import parse_notification
from bff.sandbox import Simulator
from bff.sandbox.catalog.offers import Offer
from bff.sandbox.uploads.subscriptions import EVENT_NAMES
from tests.sandbox.helpers import (
    LAPSED,
    NEW,
    ORG,
    TRANSACTIONS,
    USER,
    plain,
    sole,
    stamp,
    transaction,
    user_path,
)
from tests.sandbox.webhooks import receiver, signed, subscribe, verified
from tests.servers import serve

LIFECYCLE_EVENTS = [event for event in EVENT_NAMES if event != "fileProcessingResult"]
DAY = 86400


def send(api: httpx.Client, *items: dict) -> None:
    response = api.post(TRANSACTIONS, json={"data": list(items)})
    assert response.status_code == 202, response.text


def sent(simulator: Simulator) -> list[dict]:
    """The notifications sent so far, oldest first."""
    simulator.wait_for_notifications()
    return [delivery.payload for delivery in simulator.webhooks]


def kinds(simulator: Simulator) -> list[str]:
    return [payload["data"]["type"] for payload in sent(simulator)]


def listed(api: httpx.Client, user: str = USER) -> list[dict]:
    return api.get(user_path(user, "earned-rewards"), params={"page[size]": 100}).json()["data"]


def percent_of(offer: Offer, amount: int, rate: float | None = None) -> int:
    rate = rate if rate is not None else offer.reward_value
    return round(amount * rate / 100) if offer.reward_type == "PERCENT" else round(rate * 100)


def test_the_guides_dual_message_flow_through_every_state(api, simulator) -> None:
    offer = sole(simulator, plain)
    with receiver() as hook:
        for event in LIFECYCLE_EVENTS:
            subscribe(api, hook.url, event=event)
        send(api, transaction("e-1", offer.name, status="APPROVED", transaction_id="txn-1"))
        assert kinds(simulator) == ["earnedRewardApproved"]
        assert listed(api) == []  # pending: Get Earned Rewards lists settled transactions only

        send(api, transaction("e-2", offer.name, status="SETTLED", transaction_id="txn-1"))
        assert kinds(simulator) == ["earnedRewardApproved", "validTransaction"]
        (reward,) = listed(api)
        attributes = reward["attributes"]
        assert attributes["transactionId"] == "txn-1" and attributes["paidToIssuer"] == "UNPAID"
        cents = percent_of(offer, 10000)
        assert attributes["commissionEarned"]["user"] == {"type": "cents", "value": cents}
        assert reward["relationships"]["offer"]["data"]["id"] == offer.id

        simulator.advance_clock(29 * DAY)
        assert kinds(simulator)[-1] == "validTransaction"  # the commission is not due yet
        simulator.advance_clock(2 * DAY)
        assert kinds(simulator)[-1] == "earnedRewardSettled"
        (paid,) = listed(api)
        assert paid["attributes"]["paidToIssuer"] == "PAID_IN_FULL"
        assert paid["attributes"]["payoutTimestamp"]

    payloads = [signed(body, headers) for body, headers in hook.received]
    assert [p["data"]["type"] for p in payloads] == [
        "earnedRewardApproved",
        "validTransaction",
        "earnedRewardSettled",
    ]
    # The official SDK (newer than the 2024-10-01 reference) parses the two types it models.
    approved, _, settled_payload = hook.received
    assert verified(*approved).data.attributes.transaction_id == "txn-1"
    assert verified(*settled_payload).data.attributes.commission_earned.value == percent_of(
        offer, 10000
    )
    settled = sent(simulator)[-1]["data"]
    assert settled["attributes"]["commissionEarned"] == {"type": "cents", "value": cents}
    assert settled["attributes"]["message"] == (
        f"Congrats! You have earned a ${cents / 100:,.2f} reward on your purchase at {offer.name}!"
    )
    assert settled["relationships"]["transaction"]["data"]["id"] == "txn-1"
    for payload in sent(simulator):  # and the BFF's own parser takes each of them
        assert parse_notification(payload, b"").type == payload["data"]["type"]


def test_a_single_message_settled_transaction_is_approved_and_valid_at_once(api, simulator):
    offer = sole(simulator, plain)
    send(api, transaction("e-1", offer.name))
    assert kinds(simulator) == ["earnedRewardApproved", "validTransaction"]
    assert len(listed(api)) == 1


def test_a_purchase_where_no_offer_is_earns_nothing(api, simulator) -> None:
    send(api, transaction("e-1", "Nowhere Hardware"))
    assert kinds(simulator) == [] and listed(api) == [] and simulator.rewards(USER) == []


def test_the_merchant_name_matches_too(api, simulator) -> None:
    offer = sole(simulator, plain)
    send(api, transaction("e-1", "POS 1234 PURCHASE", merchant={"name": offer.name.upper()}))
    assert [reward.offer.id for reward in simulator.rewards(USER)] == [offer.id]


def test_an_offer_that_needs_activation_earns_only_after_it(api, simulator) -> None:
    offer = sole(simulator, lambda o: o.requires_activation and not o.min_transaction_cents)
    send(api, transaction("e-1", offer.name))
    assert simulator.rewards(USER) == []
    assert api.post(user_path(USER, f"offers/{offer.id}/activate")).status_code == 201
    send(api, transaction("e-2", offer.name))
    assert [reward.offer.id for reward in simulator.rewards(USER)] == [offer.id]


def test_a_boosted_offer_earns_its_boosted_rate(api, simulator) -> None:
    offer = sole(simulator, lambda o: o.boosted_value and not o.min_transaction_cents)
    send(api, transaction("e-1", offer.name, transaction_id="before"))
    assert api.post(user_path(USER, f"offers/{offer.id}/boost")).status_code == 201
    send(api, transaction("e-2", offer.name, transaction_id="after"))
    earned = {r.transaction_id: r.user_cents for r in simulator.rewards(USER)}
    assert earned == {
        "before": percent_of(offer, 10000),
        "after": percent_of(offer, 10000, offer.boosted_value),
    }
    assert earned["after"] > earned["before"]


def test_an_expired_offer_earns_nothing(api, simulator) -> None:
    offer = sole(simulator, lambda o: plain(o) or o.boosted_value)
    days_left = (offer.expiration - simulator.now()).days
    simulator.advance_clock((days_left + 2) * DAY)  # past it, whatever the time of day
    send(api, transaction("e-1", offer.name, when=simulator.now() - timedelta(minutes=5)))
    assert simulator.rewards(USER) == [] and "earnedRewardApproved" not in kinds(simulator)


def test_a_targeted_offer_earns_for_its_audience_only(api, simulator) -> None:
    targeted = next(
        o for o in simulator.catalog.offers if o.audience == "new-customer" and plain(o)
    )
    for user in (NEW, LAPSED):
        send(api, transaction(f"e-{user}", targeted.name, user=user, transaction_id=f"t-{user}"))
    (new,) = simulator.rewards(NEW)
    assert new.offer.id == targeted.id
    lapsed = simulator.rewards(LAPSED)
    assert all(reward.offer.id != targeted.id for reward in lapsed)  # the base offer, if any


def test_a_purchase_below_the_minimum_or_a_credit_earns_nothing(api, simulator) -> None:
    bounded = sole(simulator, lambda o: o.min_transaction_cents and not o.requires_activation)
    send(api, transaction("e-1", bounded.name, amount=bounded.min_transaction_cents - 1))
    send(api, transaction("e-2", sole(simulator, plain).name, direction="CREDIT"))
    assert simulator.rewards(USER) == []


@pytest.mark.parametrize("status", ["DECLINED", "REVERSED"])
def test_a_pending_reward_whose_transaction_fails_is_dropped(api, simulator, status) -> None:
    offer = sole(simulator, plain)
    send(api, transaction("e-1", offer.name, status="APPROVED", transaction_id="txn-1"))
    send(api, transaction("e-2", offer.name, status=status, transaction_id="txn-1"))
    assert kinds(simulator) == ["earnedRewardApproved", "failedTransaction"]
    failed = sent(simulator)[-1]["data"]
    assert failed["attributes"]["reason"] == f"The transaction was {status.lower()}"
    assert simulator.rewards(USER) == []


def test_a_settled_reward_whose_purchase_is_returned_is_clawed_back(api, simulator) -> None:
    offer = sole(simulator, plain)
    send(api, transaction("e-1", offer.name, transaction_id="txn-1"))
    assert len(listed(api)) == 1
    send(api, transaction("e-2", offer.name, status="RETURNED", transaction_id="txn-1"))
    assert kinds(simulator)[-1] == "clawback" and listed(api) == []


def test_a_pre_matched_transaction_is_validated_on_its_match(api, simulator) -> None:
    earns = sole(simulator, plain)
    locked = sole(simulator, lambda o: o.requires_activation and not o.min_transaction_cents)

    def matched(event_id: str, offer: Offer) -> dict:
        attributes = {
            "userId": USER,
            "transactionId": event_id,
            "amount": 10000,
            "description": offer.name,
            "authorizationDate": stamp(simulator.now() - timedelta(hours=1)),
            "paymentType": "CARD",
            "direction": "DEBIT",
            "matchedOfferId": offer.id,
            "cardLastFour": "4321",
        }
        return {"type": "matchedTransaction", "id": event_id, "attributes": attributes}

    send(api, matched("m-1", earns), matched("m-2", locked))
    assert [reward.offer.id for reward in simulator.rewards(USER)] == [earns.id]
    failed = next(p["data"] for p in sent(simulator) if p["data"]["type"] == "failedTransaction")
    assert failed["relationships"]["offer"]["data"]["id"] == locked.id
    assert "activated" in failed["attributes"]["reason"]


def test_a_core_transaction_settles_at_once(api, simulator) -> None:
    offer = sole(simulator, plain)
    hour_ago = stamp(simulator.now() - timedelta(hours=1))
    attributes = {
        "userId": USER,
        "transactionId": "core-1",
        "amount": 10000,
        "currency": "USD",
        "description": offer.name,
        "direction": "DEBIT",
        "status": "SETTLED",
        "settledDate": hour_ago,
        "authorizationDate": hour_ago,
    }
    send(api, {"type": "coreTransaction", "id": "core-1", "attributes": attributes})
    assert kinds(simulator) == ["earnedRewardApproved", "validTransaction"]


def test_a_resolved_audit_sends_its_update(api, simulator, kard_url) -> None:
    audit = {
        "auditCode": 3006,
        "merchantName": "Taco Trail",
        "auditDescription": "Missing cashback",
        "transactionId": "txn-9",
    }
    created = api.post(
        user_path(USER, "audits"), json={"data": [{"type": "audit", "attributes": audit}]}
    )
    audit_id = created.json()["data"][0]["id"]
    resolved = httpx.post(
        f"{kard_url}/_sandbox/audits/{audit_id}/resolve", json={"resolutionCode": 5007}
    )
    assert resolved.status_code == 200, resolved.text
    (update,) = sent(simulator)
    data = update["data"]
    assert data["type"] == "auditUpdate" and data["attributes"]["status"] == "CLOSED"
    assert (
        data["attributes"]["resolutionCode"] == 5007 and data["attributes"]["resolutionTimeStamp"]
    )
    assert data["relationships"]["audit"]["data"]["id"] == audit_id
    assert update["meta"]["issuerId"] == ORG
    missing = httpx.post(f"{kard_url}/_sandbox/audits/nope/resolve", json={})
    assert missing.status_code == 404


def test_the_control_api_moves_the_clock_and_makes_purchases(api, simulator, kard_url) -> None:
    offer = sole(simulator, plain)
    bought = httpx.post(
        f"{kard_url}/_sandbox/purchases", json={"userId": USER, "offerId": offer.id}
    )
    assert bought.status_code == 201, bought.text
    reward = bought.json()["meta"]["reward"]
    assert reward["offerId"] == offer.id and reward["userCents"] == percent_of(offer, 5000)
    before = httpx.get(f"{kard_url}/_sandbox/clock").json()["data"]["now"]
    after = httpx.post(f"{kard_url}/_sandbox/clock", json={"advanceSeconds": 31 * DAY})
    assert after.json()["data"]["now"] > before
    assert kinds(simulator)[-1] == "earnedRewardSettled"
    for bad in ({"advanceSeconds": -1}, {"advanceSeconds": "1d"}, {}):
        assert httpx.post(f"{kard_url}/_sandbox/clock", json=bad).status_code == 400
    nowhere = httpx.post(f"{kard_url}/_sandbox/purchases", json={"userId": USER, "offerId": "x"})
    assert nowhere.status_code == 404


def test_a_reset_forgets_rewards_and_the_clock(api, simulator) -> None:
    offer = sole(simulator, plain)
    start = simulator.now()
    simulator.purchase(USER, offer.id)
    simulator.advance_clock(40 * DAY)
    simulator.reset()
    assert simulator.rewards(USER) == [] and simulator.now() - start < timedelta(days=1)


def test_a_reset_sends_nothing_still_queued(api, simulator) -> None:
    release, got = threading.Event(), []
    hook = flask.Flask("slow-hook")

    @hook.post("/hook")
    def receive() -> tuple[str, int]:
        got.append(flask.request.get_json()["data"]["type"])
        release.wait(10)
        return "", 200

    with serve(hook) as url:
        subscribe(api, f"{url}/hook", event="earnedRewardApproved")
        offer = sole(simulator, plain)
        pending = [
            transaction(f"e-{n}", offer.name, status="APPROVED", transaction_id=f"t-{n}")
            for n in range(3)
        ]
        send(api, *pending)
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        simulator.reset()  # while the first is being sent and two wait
        release.set()
        simulator.wait_for_notifications()
    assert got == ["earnedRewardApproved"] and simulator.webhooks == []
