"""Create Attribution Events: accepted batches, validation pointing at each problem, limits."""

import httpx
import pytest

from bff.sandbox import Simulator
from tests.sandbox.helpers import (
    USER,
    assert_error,
    event,
    user_path,
)


def test_attributions_accepted_and_recorded(api: httpx.Client, simulator: Simulator) -> None:
    events = [
        event(
            "offer-1",
            "IMPRESSION",
            "BROWSE",
            state={"rank": 1, "filters": [{"name": "c", "value": "Gas"}]},
        ),
        {
            "type": "notificationAttribution",
            "attributes": {
                "entityId": "push-1",
                "eventCode": "VIEW",
                "medium": "PUSH",
                "eventDate": "2025-01-01T10:00:00+00:00",
            },
        },
    ]
    response = api.post(user_path(USER, "attributions"), json={"data": events})
    assert response.status_code == 202
    job = response.json()["data"]
    assert job["type"] == "attributionJob" and job["attributes"]["status"] == "queued"
    assert simulator.attribution_events(USER) == events
    assert simulator.attribution_events("someone-else") == []


@pytest.mark.parametrize(
    ("item", "pointer"),
    [
        ("nope", "/data/1"),
        ({**event("o"), "type": "placementAttribution"}, "/data/1/type"),
        ({"type": "offerAttribution"}, "/data/1/attributes"),
        (event(""), "/data/1/attributes/entityId"),
        (event("o", code="CLICK"), "/data/1/attributes/eventCode"),
        (event("o", medium="PUSH"), "/data/1/attributes/medium"),
        (event("o", eventDate="yesterday"), "/data/1/attributes/eventDate"),
        (event("o", eventDate="2025-01-01"), "/data/1/attributes/eventDate"),
        (event("o", state={"rank": 0}), "/data/1/attributes/state/rank"),
        (event("o", state={"rank": True}), "/data/1/attributes/state/rank"),
        (
            event("o", state={"filters": [{"name": "a"}]}),
            "/data/1/attributes/state/filters/0/value",
        ),
    ],
)
def test_attribution_validation_points_at_the_problem(
    api: httpx.Client, simulator: Simulator, item, pointer: str
) -> None:
    response = api.post(user_path(USER, "attributions"), json={"data": [event("ok"), item]})
    assert_error(response, 400, pointer=pointer)
    assert simulator.attribution_events(USER) == []


@pytest.mark.parametrize("body", [{"data": []}, {}, {"data": "x"}, {"data": [event("o")] * 101}])
def test_attribution_batch_limits(api: httpx.Client, body: dict) -> None:
    assert_error(api.post(user_path(USER, "attributions"), json=body), 400, pointer="/data")


def test_attribution_batch_of_one_hundred_is_fine(api: httpx.Client) -> None:
    body = {"data": [event("o")] * 100}
    assert api.post(user_path(USER, "attributions"), json=body).status_code == 202
