"""Get Locations By User: parameters, radius search, filters, sorting, shape and pagination."""

import httpx
import pytest

from bff.sandbox import haversine_miles
from tests.sandbox.helpers import (
    USER,
    assert_error,
    user_path,
)

PHILLY = {"filter[latitude]": "39.9526", "filter[longitude]": "-75.1652"}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"filter[state]": "XX"}, "filter[state]"),
        ({"filter[category]": "Restaurants"}, "filter[category]"),
        ({"filter[latitude]": "91", "filter[longitude]": "0"}, "filter[latitude]"),
        ({"filter[latitude]": "0", "filter[longitude]": "-181"}, "filter[longitude]"),
        ({"filter[latitude]": "north", "filter[longitude]": "0"}, "filter[latitude]"),
        ({"filter[latitude]": "40"}, "filter[longitude]"),
        ({"filter[longitude]": "-75"}, "filter[latitude]"),
        ({**PHILLY, "filter[radius]": "0"}, "filter[radius]"),
        ({**PHILLY, "filter[radius]": "1.5"}, "filter[radius]"),
        ({"sort": "name"}, "sort"),
        ({"include": "offers,merchants"}, "include"),
        ({"page[size]": "0"}, "page[size]"),
        ({"supportedComponents": "cta,banner"}, "supportedComponents"),
    ],
)
def test_locations_reject_bad_parameters(api: httpx.Client, params: dict, parameter: str) -> None:
    assert_error(api.get(user_path(USER, "locations"), params=params), 400, parameter=parameter)


def locations(api: httpx.Client, user: str = USER, **params) -> dict:
    response = api.get(user_path(user, "locations"), params={"page[size]": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("radius", [None, "2", "25"])
def test_radius_search_sorted_by_distance(api: httpx.Client, radius: str | None) -> None:
    params = {**PHILLY, **({"filter[radius]": radius} if radius else {})}
    data = locations(api, **params)["data"]
    assert data
    distances = [
        haversine_miles((39.9526, -75.1652), (c["latitude"], c["longitude"]))
        for c in (loc["attributes"]["coordinates"] for loc in data)
    ]
    assert max(distances) <= int(radius or 10) and distances == sorted(distances)


def test_larger_radius_finds_more(api: httpx.Client) -> None:
    near = locations(api, **PHILLY, **{"filter[radius]": "2"})["data"]
    far = locations(api, **PHILLY, **{"filter[radius]": "20"})["data"]
    assert len(near) < len(far)


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"filter[city]": "chicago"}, lambda a: a["address"]["city"] == "Chicago"),
        ({"filter[state]": "TX"}, lambda a: a["address"]["state"] == "TX"),
        ({"filter[name]": "chicken"}, lambda a: "Chicken" in a["name"]),
        ({**PHILLY, "filter[name]": "a"}, lambda a: "a" in a["name"].casefold()),
    ],
)
def test_location_filters(api: httpx.Client, params: dict, check) -> None:
    data = locations(api, **params)["data"]
    assert data and all(check(loc["attributes"]) for loc in data)


def test_latitude_and_longitude_take_priority_over_city_state_and_zip(api: httpx.Client) -> None:
    """The reference: "Longitude and Latitude fields are prioritized over State, City and
    Zipcode": a geo search answers the same with them, though they are still checked."""
    near = locations(api, **PHILLY)["data"]
    elsewhere = {"filter[city]": "Chicago", "filter[state]": "IL", "filter[zipCode]": "60601"}
    assert near and locations(api, **PHILLY, **elsewhere)["data"] == near
    assert_error(
        api.get(user_path(USER, "locations"), params={**PHILLY, "filter[state]": "XX"}), 400
    )


def test_location_zip_and_category_filters(api: httpx.Client) -> None:
    first = locations(api)["data"][0]
    zip_code = first["attributes"]["address"]["zipCode"]
    by_zip = locations(api, **{"filter[zipCode]": zip_code})["data"]
    assert by_zip and all(loc["attributes"]["address"]["zipCode"] == zip_code for loc in by_zip)
    body = locations(api, **{"filter[category]": "Gas", "include": "categories"})
    assert body["data"]
    assert [c["attributes"]["name"] for c in body["included"]] == ["Gas"]


@pytest.mark.parametrize("sort", ["locationName", "-locationName"])
def test_location_sort_by_name(api: httpx.Client, sort: str) -> None:
    names = [
        loc["attributes"]["name"].lower() for loc in locations(api, sort=sort, **PHILLY)["data"]
    ]
    assert names == sorted(names, reverse=sort.startswith("-"))


def test_location_shape_and_included_offers(api: httpx.Client) -> None:
    body = locations(
        api, include="offers,categories", supportedComponents="cta,baseReward", **PHILLY
    )
    location = body["data"][0]
    attributes = location["attributes"]
    assert set(attributes["address"]) == {"street", "city", "state", "zipCode"}
    assert attributes["phone"] and attributes["partnerIds"][0]["type"] == "google"
    hours = attributes["operationHours"]
    assert len(hours["periods"]) == 7 and len(hours["periods"][0]["open"]["time"]) == 4
    assert hours["weekdayText"][0].startswith("Monday: ") and " \u2013 " in hours["weekdayText"][0]
    offer_ids = {
        ref["id"] for loc in body["data"] for ref in loc["relationships"]["offers"]["data"]
    }
    included = [item for item in body["included"] if item["type"] == "standardOffer"]
    assert {offer["id"] for offer in included} == offer_ids
    assert all("INSTORE" in offer["attributes"]["purchaseChannel"] for offer in included)
    assert all("baseReward" in offer["attributes"]["components"] for offer in included)
    assert any(item["type"] == "category" for item in body["included"])


def test_location_components_need_included_offers(api: httpx.Client) -> None:
    body = locations(api, supportedComponents="cta", **PHILLY)
    assert "included" not in body
    assert all("components" not in loc["attributes"] for loc in body["data"])


def test_location_pagination(api: httpx.Client) -> None:
    expected = [loc["id"] for loc in locations(api, **{"filter[state]": "IL"})["data"]]
    url, walked = user_path(USER, "locations") + "?filter[state]=IL&page[size]=9", []
    while url:
        body = api.get(url).json()
        walked += [loc["id"] for loc in body["data"]]
        url = body["links"]["next"]
    assert walked == expected and len(expected) > 18
