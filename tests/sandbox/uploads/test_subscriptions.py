"""Notification subscriptions: create, get, update, through the SDK too; validation, conflicts."""

from typing import Any

import httpx
import pytest
from kard import KardApi
from kard.notifications.subscriptions import (
    CreateSubscriptionsResponseObject,
    SubscriptionRequestAttributes,
    SubscriptionRequestUnion_Subscription,
    SubscriptionsResponseObject,
    UpdateSubscriptionRequestAttributes,
    UpdateSubscriptionRequestUnion_Subscription,
    UpdateSubscriptionsResponseObject,
)

from tests.sandbox.helpers import CREDENTIALS, ORG
from tests.sandbox.uploads.helpers import (
    assert_pointers,
)


def _subscription(
    event: Any = "fileProcessingResult", url: Any = "https://h.example/k", enabled: Any = True
) -> dict:
    attributes = {"eventName": event, "webhookUrl": url, "enabled": enabled}
    return {"type": "subscription", "attributes": attributes}


def test_subscriptions_create_get_update(api: httpx.Client) -> None:
    path = f"/v2/issuers/{ORG}/subscriptions"
    created = api.post(path, json={"data": [_subscription(), _subscription("auditUpdate")]})
    assert created.status_code == 201, created.text
    first, second = CreateSubscriptionsResponseObject.model_validate(created.json()).data
    assert first.attributes.event_name == "fileProcessingResult" and first.attributes.enabled
    listed = SubscriptionsResponseObject.model_validate(api.get(path).json())
    assert [s.id for s in listed.data] == [first.id, second.id]
    only = api.get(path, params={"filter[eventName]": "auditUpdate"}).json()["data"]
    assert [s["id"] for s in only] == [second.id]
    patch = {"data": {"type": "subscription", "attributes": {"enabled": False}}}
    updated = api.patch(f"{path}/{first.id}", json=patch)
    assert updated.status_code == 200, updated.text
    subscription = UpdateSubscriptionsResponseObject.model_validate(updated.json()).data
    assert subscription.id == first.id and subscription.attributes.enabled is False
    assert subscription.attributes.webhook_url == "https://h.example/k"
    assert api.get("/v2/issuers/other-org/subscriptions").status_code == 401  # not its issuer


def test_the_sdk_manages_subscriptions(kard_url: str) -> None:
    sdk = KardApi(base_url=kard_url, **CREDENTIALS)
    attributes = SubscriptionRequestAttributes(
        event_name="earnedRewardApproved", webhook_url="https://h.example/rewards", enabled=True
    )
    created = sdk.notifications.subscriptions.create(
        ORG, data=[SubscriptionRequestUnion_Subscription(attributes=attributes)]
    )
    listed = sdk.notifications.subscriptions.get(ORG, filter_event_name="earnedRewardApproved")
    assert [s.id for s in listed.data] == [created.data[0].id]
    change = UpdateSubscriptionRequestUnion_Subscription(
        attributes=UpdateSubscriptionRequestAttributes(enabled=False)
    )
    updated = sdk.notifications.subscriptions.update(ORG, created.data[0].id, data=change)
    assert updated.data.attributes.enabled is False


@pytest.mark.parametrize(
    ("item", "pointer"),
    [
        (_subscription("newOffer"), "/data/0/attributes/eventName"),
        (_subscription(url="ftp://h.example/k"), "/data/0/attributes/webhookUrl"),
        (_subscription(url="/relative"), "/data/0/attributes/webhookUrl"),
        (_subscription(enabled="yes"), "/data/0/attributes/enabled"),
        ({"type": "subscription", "attributes": {}}, "/data/0/attributes/webhookUrl"),
        ({**_subscription(), "type": "webhook"}, "/data/0/type"),
    ],
)
def test_subscription_validation(api: httpx.Client, item: dict, pointer: str) -> None:
    response = api.post(f"/v2/issuers/{ORG}/subscriptions", json={"data": [item]})
    assert_pointers(response, 400, pointer)


def test_one_subscription_per_event_type(api: httpx.Client) -> None:
    path = f"/v2/issuers/{ORG}/subscriptions"
    assert api.post(path, json={"data": [_subscription()]}).status_code == 201
    again = api.post(path, json={"data": [_subscription("auditUpdate"), _subscription()]})
    assert_pointers(again, 409, "/data/1/attributes/eventName")
    assert len(api.get(path).json()["data"]) == 1  # nothing of the refused batch was kept
    twice = api.post(path, json={"data": [_subscription("clawback"), _subscription("clawback")]})
    assert_pointers(twice, 409, "/data/1/attributes/eventName")


def test_subscription_update_errors(api: httpx.Client) -> None:
    path = f"/v2/issuers/{ORG}/subscriptions"
    ids = [
        s["id"]
        for s in api.post(path, json={"data": [_subscription(), _subscription("clawback")]}).json()[
            "data"
        ]
    ]
    patch = {"data": {"type": "subscription", "attributes": {"eventName": "clawback"}}}
    assert_pointers(api.patch(f"{path}/{ids[0]}", json=patch), 409, "/data/attributes/eventName")
    assert_pointers(api.patch(f"{path}/nope", json=patch), 404)
    assert_pointers(api.patch(f"/v2/issuers/other-org/subscriptions/{ids[0]}", json=patch), 401)
    bad = {"data": {"type": "subscription", "attributes": {"webhookUrl": 3}}}
    assert_pointers(api.patch(f"{path}/{ids[0]}", json=bad), 400, "/data/attributes/webhookUrl")
    bad_filter = api.get(path, params={"filter[eventName]": "nope"})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["errors"][0]["source"] == {"parameter": "filter[eventName]"}
