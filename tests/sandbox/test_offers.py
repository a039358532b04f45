"""Get Offers By User: parameters, pagination, filters, sorts, personas and the catalog."""

import base64
from datetime import UTC, datetime

import httpx
import pytest

from bff.sandbox import Simulator
from tests.sandbox.helpers import (
    LAPSED,
    NEW,
    USER,
    assert_error,
    offers,
    user_path,
)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("page[size]", "0"),
        ("page[size]", "-1"),
        ("page[size]", "ten"),
        ("page[after]", "not a cursor!"),
        ("page[before]", base64.urlsafe_b64encode(b"v1:unknown-id").decode()),
        ("filter[purchaseChannel]", "MAIL"),
        ("filter[purchaseChannel]", "ONLINE,MAIL"),
        ("filter[category]", "Food"),
        ("filter[isTargeted]", "yes"),
        ("sort", "price"),
        ("sort", "name,-rank"),
        ("include", "merchants"),
        ("supportedComponents", "banner"),
    ],
)
def test_offers_reject_bad_parameters(api: httpx.Client, parameter: str, value: str) -> None:
    response = api.get(user_path(USER, "offers"), params={parameter: value})
    assert_error(response, 400, parameter=parameter)


def test_page_size_has_no_maximum(api: httpx.Client) -> None:
    """The reference sets no bound on page[size]: a page larger than the catalog is all of it."""
    everything = api.get(user_path(USER, "offers"), params={"page[size]": "100000"}).json()
    assert everything["data"] and everything["links"]["next"] is None


def test_offers_ignore_unknown_parameters(api: httpx.Client) -> None:
    assert api.get(user_path(USER, "offers"), params={"foo": "bar"}).status_code == 200


def test_offer_pagination_walks_every_offer_once_and_back(api: httpx.Client) -> None:
    expected = [offer["id"] for offer in offers(api)["data"]]
    pages = []
    url = user_path(USER, "offers") + "?page[size]=7&sort=name"
    while url:
        body = api.get(url).json()
        pages.append(body)
        url = body["links"]["next"]
    walked = [offer["id"] for page in pages for offer in page["data"]]
    assert len(pages) >= 3
    assert sorted(walked) == sorted(expected) and len(set(walked)) == len(walked)
    assert pages[0]["links"]["prev"] is None
    assert pages[0]["links"]["self"] == user_path(USER, "offers") + "?page[size]=7&sort=name"
    previous = api.get(pages[2]["links"]["prev"]).json()
    assert [o["id"] for o in previous["data"]] == [o["id"] for o in pages[1]["data"]]


def test_offers_default_page_size_is_ten(api: httpx.Client) -> None:
    body = api.get(user_path(USER, "offers")).json()
    assert len(body["data"]) == 10 and body["links"]["next"]


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"filter[search]": "CHICKEN"}, lambda o: "chicken" in o["attributes"]["name"].lower()),
        (
            {"filter[purchaseChannel]": "ONLINE"},
            lambda o: "ONLINE" in o["attributes"]["purchaseChannel"],
        ),
        ({"filter[isTargeted]": "true"}, lambda o: o["attributes"]["isTargeted"]),
        ({"filter[isTargeted]": "false"}, lambda o: not o["attributes"]["isTargeted"]),
    ],
)
def test_offer_filters(api: httpx.Client, params: dict, check) -> None:
    data = offers(api, **params)["data"]
    assert data and all(check(offer) for offer in data)


def test_offer_search_matches_category_names(api: httpx.Client) -> None:
    body = offers(api, **{"filter[search]": "pets", "include": "categories"})
    assert body["data"]
    assert {c["attributes"]["name"] for c in body["meta"]["availableCategories"]} == {"Pets"}


def test_offer_category_filter_and_included_categories(api: httpx.Client) -> None:
    body = offers(api, **{"filter[category]": "Baby, Kids & Toys", "include": "categories"})
    assert body["data"]
    assert [c["attributes"]["name"] for c in body["included"]] == ["Baby, Kids & Toys"]
    category_id = body["included"][0]["id"]
    assert all(
        o["relationships"]["category"]["data"] == [{"type": "category", "id": category_id}]
        for o in body["data"]
    )
    assert "included" not in offers(api)


def test_purchase_channel_filter_is_repeatable_and_comma_separated(api: httpx.Client) -> None:
    both = {o["id"] for o in offers(api)["data"]}
    repeated = offers(api, **{"filter[purchaseChannel]": ["INSTORE", "ONLINE"]})
    csv = offers(api, **{"filter[purchaseChannel]": "INSTORE,ONLINE"})
    assert {o["id"] for o in repeated["data"]} == {o["id"] for o in csv["data"]} == both
    instore = offers(api, **{"filter[purchaseChannel]": "INSTORE"})["data"]
    assert 0 < len(instore) < len(both)


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("name", lambda o: o["attributes"]["name"].lower(), False),
        ("-name", lambda o: o["attributes"]["name"].lower(), True),
        ("startDate", lambda o: o["attributes"]["startDate"], False),
        ("-startDate", lambda o: o["attributes"]["startDate"], True),
        ("expirationDate,name", lambda o: o["attributes"]["expirationDate"], False),
        ("-expirationDate", lambda o: o["attributes"]["expirationDate"], True),
    ],
)
def test_offer_sorts(api: httpx.Client, sort: str, key, reverse: bool) -> None:
    data = offers(api, sort=sort)["data"]
    assert [key(o) for o in data] == sorted((key(o) for o in data), reverse=reverse)


def test_personas_see_different_targeted_offers(api: httpx.Client) -> None:
    new = {o["id"] for o in offers(api, NEW)["data"]}
    lapsed = {o["id"] for o in offers(api, LAPSED)["data"]}
    ordinary = {o["id"] for o in offers(api, USER)["data"]}
    assert new != lapsed
    assert ordinary < new and ordinary < lapsed
    assert any(o["attributes"]["isTargeted"] for o in offers(api, USER)["data"])


def test_catalog_size_and_variety(api: httpx.Client, simulator: Simulator) -> None:
    catalog = simulator.catalog
    assert len(catalog.offers) >= 60
    assert len({offer.category.name for offer in catalog.offers}) == 17
    channels = {offer.purchase_channel for offer in catalog.offers}
    assert {("INSTORE",), ("ONLINE",), ("INSTORE", "ONLINE")} <= channels
    assert len(catalog.locations) >= 300
    assert len({location.city for location in catalog.locations}) >= 5
    assert all(len(offer.id) == 24 and int(offer.id, 16) >= 0 for offer in catalog.offers)
    data = offers(api, NEW)["data"]
    rewards = {o["attributes"]["userReward"]["type"] for o in data}
    assert rewards == {"PERCENT", "FLAT"}
    assert any("maxRedemptions" in o["attributes"] for o in data)
    assert any("minTransactionAmount" in o["attributes"] for o in data)
    now = datetime.now(UTC)
    for offer in data:
        attributes = offer["attributes"]
        assert attributes["startDate"].endswith("Z")
        start = datetime.fromisoformat(attributes["startDate"])
        assert start <= now <= datetime.fromisoformat(attributes["expirationDate"])
        assert [a["type"] for a in attributes["assets"]] == ["LOGO_IMAGE", "IMG_VIEW"]
        assert "attribution=" in attributes["assets"][0]["url"]
