"""Offer components as requested, and how Activate / Boost Offer and attributions change them."""

import httpx
import pytest

from bff.sandbox import Simulator
from tests.sandbox.helpers import (
    CTA_MODE,
    DESCRIPTION_ONLY,
    LAPSED,
    NEW,
    USER,
    assert_error,
    event,
    find_offer,
    needs_activation,
    offers,
    user_path,
)


def test_components_only_as_requested(api: httpx.Client) -> None:
    assert all("components" not in o["attributes"] for o in offers(api)["data"])
    data = offers(api, supportedComponents="baseReward,tags")["data"]
    assert all(set(o["attributes"]["components"]) == {"baseReward", "tags"} for o in data)
    assert any(o["attributes"]["components"]["baseReward"].endswith("% cash back") for o in data)
    assert any(o["attributes"]["components"]["baseReward"].startswith("$") for o in data)


def test_activate_removes_cta_and_tags_offer_activated(
    api: httpx.Client, simulator: Simulator
) -> None:
    offer = find_offer(api, needs_activation, **CTA_MODE)
    cta = offer["attributes"]["components"]["cta"]
    assert cta["buttonStyle"] == "PRIMARY" and cta["action"]["method"] == "POST"
    assert cta["action"]["url"] == user_path(USER, f"offers/{offer['id']}/activate")
    assert offer["attributes"]["components"]["detailTags"] == []
    response = api.post(cta["action"]["url"], params={"include": "offer", **CTA_MODE})
    assert response.status_code == 201
    body = response.json()
    assert body["data"]["type"] == "offerAttribution"
    assert body["data"]["attributes"]["eventCode"] == "ACTIVATE"
    assert body["data"]["attributes"]["medium"] == "CTA"
    assert body["data"]["attributes"]["eventDate"].endswith("Z")
    updated = body["included"][0]["attributes"]["components"]
    assert "cta" not in updated and updated["detailTags"] == ["Activated"]
    refetched = find_offer(api, lambda o: o["id"] == offer["id"], **CTA_MODE)
    assert "cta" not in refetched["attributes"]["components"]
    assert simulator.attribution_events(USER)[-1]["attributes"]["eventCode"] == "ACTIVATE"


def test_boost_offer(api: httpx.Client) -> None:
    params = {"supportedComponents": ["cta", "detailTags", "boostedReward", "logoFlare"]}
    offer = find_offer(
        api,
        lambda o: o["attributes"]["components"].get("cta", {}).get("buttonText") == "Tap to boost",
        **params,
    )
    assert offer["attributes"]["components"]["boostedReward"].endswith("cash back")
    response = api.post(
        user_path(USER, f"offers/{offer['id']}/boost"), params={"include": "offer", **params}
    )
    assert response.status_code == 201
    assert response.json()["data"]["attributes"]["eventCode"] == "BOOST"
    components = response.json()["included"][0]["attributes"]["components"]
    assert "cta" not in components and components["detailTags"] == ["Boosted"]
    assert components["logoFlare"]["borderColor"] == "PRIMARY"


def test_activate_without_include_has_no_included(api: httpx.Client) -> None:
    offer = find_offer(api, lambda o: True)
    body = api.post(user_path(USER, f"offers/{offer['id']}/activate")).json()
    assert "included" not in body


@pytest.mark.parametrize(
    ("offer_id", "params", "status", "parameter"),
    [
        ("000000000000000000000000", {}, 400, None),  # Activate lists no 404
        (None, {"include": "category"}, 400, "include"),
        (None, {"supportedComponents": "banner"}, 400, "supportedComponents"),
    ],
)
def test_activate_errors(api: httpx.Client, offer_id, params, status, parameter) -> None:
    offer_id = offer_id or offers(api)["data"][0]["id"]
    response = api.post(user_path(USER, f"offers/{offer_id}/activate"), params=params)
    assert_error(response, status, **({"parameter": parameter} if parameter else {}))


def test_targeted_offer_of_another_persona_is_a_bad_request(api: httpx.Client) -> None:
    new_only = {o["id"] for o in offers(api, NEW)["data"]} - {
        o["id"] for o in offers(api, LAPSED)["data"]
    }
    response = api.post(user_path(LAPSED, f"offers/{next(iter(new_only))}/activate"))
    assert_error(response, 400)


def test_view_activates_in_description_only_mode(api: httpx.Client) -> None:
    offer = find_offer(api, needs_activation, **CTA_MODE)
    described = find_offer(api, lambda o: o["id"] == offer["id"], **DESCRIPTION_ONLY)
    components = described["attributes"]["components"]
    assert set(components) == {"shortDescription", "longDescription"}
    assert components["shortDescription"] == "Tap to activate"
    view = {"data": [event(offer["id"], "VIEW", "BROWSE")]}
    assert api.post(user_path(USER, "attributions"), json=view).status_code == 202
    after = find_offer(api, lambda o: o["id"] == offer["id"], **DESCRIPTION_ONLY)
    assert after["attributes"]["components"] == {
        "shortDescription": "Activated",
        "longDescription": "Activated",
    }
    # A VIEW is not an activation when the app can render the CTA.
    cta_mode = find_offer(api, lambda o: o["id"] == offer["id"], **CTA_MODE)
    assert needs_activation(cta_mode)


def test_activate_attribution_event_activates(api: httpx.Client) -> None:
    offer = find_offer(api, needs_activation, **CTA_MODE)
    body = {"data": [event(offer["id"], "ACTIVATE", "CTA")]}
    assert api.post(user_path(USER, "attributions"), json=body).status_code == 202
    after = find_offer(api, lambda o: o["id"] == offer["id"], **CTA_MODE)
    assert after["attributes"]["components"]["detailTags"] == ["Activated"]


def test_progress_bar_on_multi_redemption_offers(api: httpx.Client) -> None:
    components = ["progressBar", "shortDescription", "cta"]
    data = offers(api, NEW, supportedComponents=components)["data"]
    multi = [o for o in data if "maxRedemptions" in o["attributes"]]
    assert multi
    for offer in multi:
        bar = offer["attributes"]["components"]["progressBar"]
        total = offer["attributes"]["maxRedemptions"]
        assert bar["total"] == total and 0 <= bar["currentProgress"] <= total
        assert bar["label"] == f"{bar['currentProgress']} of {total} purchases"
        assert bar["segmented"] is True
        assert bar["segments"]["default"]["position"] == "LEFT"
        assert len(bar["segments"]["progress"]) == total
        assert bar["labels"]["default"]["left"] == bar["label"]
        assert offer["attributes"]["components"]["shortDescription"] == "Multi-use"
    single = [o for o in data if "maxRedemptions" not in o["attributes"]]
    assert all("progressBar" not in o["attributes"]["components"] for o in single)


def test_tags_mark_new_and_expiring_offers(api: httpx.Client) -> None:
    tags = [
        o["attributes"]["components"]["tags"]
        for o in offers(api, supportedComponents="tags")["data"]
    ]
    assert ["New"] in tags
    assert any(t and t[0].endswith("days left") for t in tags)
