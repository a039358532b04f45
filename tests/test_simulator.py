"""The embedded Kard simulator, exercised over real HTTP."""

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import flask
import httpx
import jwt
import pytest

from bff.sandbox import Simulator, create_simulator_app, haversine_miles, init_app
from tests.servers import serve

ORG = "org-sandbox"
NEW = "sandbox-demo-new-customer"
LAPSED = "sandbox-demo-lapsed-customer"
USER = "user-123"
CTA_MODE = {"supportedComponents": ["shortDescription", "longDescription", "cta", "detailTags"]}
DESCRIPTION_ONLY = {"supportedComponents": ["shortDescription", "longDescription"]}


def user_path(user: str, tail: str) -> str:
    return f"/v2/issuers/{ORG}/users/{user}/{tail}"


def basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


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


@pytest.fixture
def client(kard_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kard_url, timeout=10) as client:
        yield client


@pytest.fixture
def api(client: httpx.Client) -> httpx.Client:
    """A client carrying a valid issuer access token."""
    token = client.post("/v2/auth/token", json={"client_id": "id", "client_secret": "s"})
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def offers(api: httpx.Client, user: str = USER, **params) -> dict:
    response = api.get(user_path(user, "offers"), params={"page[size]": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def find_offer(api: httpx.Client, predicate, user: str = USER, **params) -> dict:
    return next(o for o in offers(api, user, **params)["data"] if predicate(o))


# --- authentication -------------------------------------------------------------------------


def test_token_documented_basic_form_flow(client: httpx.Client) -> None:
    response = client.post(
        "/v2/auth/token",
        headers={"Authorization": basic("client", "secret"), "X-Kard-Target-Issuer": "issuer-2"},
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["access_token"]


def test_token_sdk_json_flow(client: httpx.Client) -> None:
    response = client.post("/v2/auth/token", json={"client_id": "c", "client_secret": "s"})
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("headers", "data", "json", "status"),
    [
        ({}, {"grant_type": "client_credentials"}, None, 400),
        ({"Authorization": basic("c", "s")}, {}, None, 400),
        ({"Authorization": basic("c", "s")}, {"grant_type": "password"}, None, 400),
        ({"Authorization": "Basic !!notbase64"}, {"grant_type": "client_credentials"}, None, 400),
        ({}, None, {"client_id": "c"}, 400),
        ({}, None, {"client_id": "c", "client_secret": "s", "grant_type": "password"}, 400),
        ({"Authorization": basic("c", "")}, {"grant_type": "client_credentials"}, None, 401),
        ({"Authorization": basic("", "s")}, {"grant_type": "client_credentials"}, None, 401),
        ({}, None, {"client_id": "", "client_secret": "s"}, 401),
    ],
)
def test_token_rejects_bad_credentials(client, headers, data, json, status) -> None:
    response = client.post("/v2/auth/token", headers=headers, data=data, json=json)
    assert_error(response, status)


PROTECTED = [
    ("GET", user_path(USER, "offers")),
    ("GET", user_path(USER, "locations")),
    ("GET", user_path(USER, "earned-rewards")),
    ("POST", user_path(USER, "attributions")),
    ("POST", user_path(USER, "audits")),
    ("POST", user_path(USER, "offers/abc/activate")),
    ("POST", user_path(USER, "offers/abc/boost")),
    ("POST", f"/v2/auth/issuers/{ORG}/users/{USER}/token"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc"])
def test_bearer_token_required(client, method, path, authorization) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    assert_error(client.request(method, path, headers=headers), 401, header="Authorization")


def test_expired_tokens_are_rejected(api: httpx.Client, simulator: Simulator) -> None:
    assert api.get(user_path(USER, "offers")).status_code == 200
    simulator.expire_access_tokens()
    assert_error(api.get(user_path(USER, "offers")), 401)


def test_tokens_expire_by_the_clock_after_their_ttl() -> None:
    now = [1_800_000_000.0]
    simulator = Simulator(access_token_ttl=60, clock=lambda: now[0])
    with serve(create_simulator_app(simulator)) as url, httpx.Client(base_url=url) as client:
        body = client.post("/v2/auth/token", json={"client_id": "c", "client_secret": "s"}).json()
        assert body["expires_in"] == 60
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        now[0] += 59
        assert client.get(user_path(USER, "offers"), headers=headers).status_code == 200
        now[0] += 1
        assert_error(client.get(user_path(USER, "offers"), headers=headers), 401)


def test_webview_token_claims(api: httpx.Client, simulator: Simulator) -> None:
    response = api.post(f"/v2/auth/issuers/{ORG}/users/{NEW}/token")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = simulator.verify_webview_token(body["access_token"])
    assert claims["sub"] == NEW and claims["issuer_id"] == ORG
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


def test_webview_token_verification_rejects_forged_and_expired_tokens() -> None:
    now = [1_800_000_000.0]
    key = "k" * 32
    simulator = Simulator(signing_key=key, webview_token_ttl=30, clock=lambda: now[0])
    token = simulator.webview.issue(ORG, USER)
    assert simulator.verify_webview_token(token)["sub"] == USER
    forged = jwt.encode({"sub": USER, "issuer_id": ORG, "iat": 1, "exp": 2**40}, "x" * 32)
    with pytest.raises(jwt.InvalidSignatureError):
        simulator.verify_webview_token(forged)
    now[0] += 30
    with pytest.raises(jwt.ExpiredSignatureError):
        simulator.verify_webview_token(token)


# --- routing ------------------------------------------------------------------------------


def test_unknown_paths_and_methods_answer_in_kard_shape(client: httpx.Client) -> None:
    assert_error(client.get("/v2/nowhere"), 404)
    response = client.get("/v2/auth/token")
    assert_error(response, 405)
    assert "POST" in response.headers["Allow"]


def test_init_app_mounts_under_prefix_without_taking_over_host_errors() -> None:
    host = flask.Flask("host")

    @host.errorhandler(404)
    def host_not_found(error):
        return {"host": True}, 404

    simulator = init_app(host)
    assert host.extensions["kard_simulator"] is simulator
    with serve(host) as url, httpx.Client(base_url=url) as client:
        token = client.post(
            "/sandbox/kard/v2/auth/token", json={"client_id": "c", "client_secret": "s"}
        )
        assert token.status_code == 200
        assert_error(client.get("/sandbox/kard/v2/nowhere"), 404)
        assert client.get("/elsewhere").json() == {"host": True}
    assert [call.path for call in simulator.calls] == ["/v2/auth/token", "/v2/nowhere"]


# --- offers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("page[size]", "0"),
        ("page[size]", "101"),
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


# --- components -----------------------------------------------------------------------------


def needs_activation(offer: dict) -> bool:
    cta = offer["attributes"]["components"].get("cta")
    return bool(cta) and cta["buttonText"] == "Tap to activate"


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
        ("000000000000000000000000", {}, 404, None),
        (None, {"include": "category"}, 400, "include"),
        (None, {"supportedComponents": "banner"}, 400, "supportedComponents"),
    ],
)
def test_activate_errors(api: httpx.Client, offer_id, params, status, parameter) -> None:
    offer_id = offer_id or offers(api)["data"][0]["id"]
    response = api.post(user_path(USER, f"offers/{offer_id}/activate"), params=params)
    assert_error(response, status, **({"parameter": parameter} if parameter else {}))


def test_targeted_offer_of_another_persona_is_not_found(api: httpx.Client) -> None:
    new_only = {o["id"] for o in offers(api, NEW)["data"]} - {
        o["id"] for o in offers(api, LAPSED)["data"]
    }
    response = api.post(user_path(LAPSED, f"offers/{next(iter(new_only))}/activate"))
    assert_error(response, 404)


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


# --- locations ------------------------------------------------------------------------------

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
        ({"page[size]": "500"}, "page[size]"),
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
        ({**PHILLY, "filter[city]": "phila"}, lambda a: a["address"]["city"] == "Philadelphia"),
    ],
)
def test_location_filters(api: httpx.Client, params: dict, check) -> None:
    data = locations(api, **params)["data"]
    assert data and all(check(loc["attributes"]) for loc in data)


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


# --- earned rewards -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("page[size]", "-1"),
        ("page[after]", "%%%"),
        ("include", "user"),
        ("filter[status]", "PENDING"),
        ("filter[paidInFullOnly]", "maybe"),
        ("filter[range]", "1Y"),
    ],
)
def test_earned_rewards_reject_bad_parameters(
    api: httpx.Client, parameter: str, value: str
) -> None:
    response = api.get(user_path(USER, "earned-rewards"), params={parameter: value})
    assert_error(response, 400, parameter=parameter)


def rewards(api: httpx.Client, user: str, **params) -> dict:
    response = api.get(user_path(user, "earned-rewards"), params={"page[size]": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def busy_user(api: httpx.Client) -> str:
    return next(f"user-{n}" for n in range(100) if len(rewards(api, f"user-{n}")["data"]) > 15)


def test_personas_have_a_few_rewards(api: httpx.Client) -> None:
    for persona in (NEW, LAPSED):
        assert len(rewards(api, persona)["data"]) == 3


def test_earned_rewards_are_deterministic_recent_and_newest_first(api: httpx.Client) -> None:
    user = busy_user(api)
    body = rewards(api, user, include="merchant,offer")
    assert body == rewards(api, user, include="merchant,offer")
    stamps = [r["attributes"]["transactionTimestamp"] for r in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    year_ago = datetime.now(UTC) - timedelta(days=366)
    assert all(datetime.fromisoformat(s) > year_ago for s in stamps)
    for reward in body["data"]:
        attributes = reward["attributes"]
        assert attributes["status"] == "SETTLED"
        assert attributes["commissionEarned"]["user"]["type"] == "cents"
        assert set(reward["relationships"]) == {"user", "merchant", "offer"}
    lifetime = sum(r["attributes"]["commissionEarned"]["user"]["value"] for r in body["data"])
    assert body["meta"]["lifetimeRewardsInCents"] == lifetime
    types = {item["type"] for item in body["included"]}
    assert types == {"merchant", "offer"}


def test_earned_rewards_filters(api: httpx.Client) -> None:
    user = busy_user(api)
    everything = rewards(api, user)["data"]
    paid = rewards(api, user, **{"filter[paidInFullOnly]": "true"})["data"]
    assert paid and all(r["attributes"]["paidToIssuer"] == "PAID_IN_FULL" for r in paid)
    recent = rewards(api, user, **{"filter[range]": "3M", "filter[status]": "SETTLED"})["data"]
    assert len(recent) < len(everything)
    assert rewards(api, user, **{"filter[range]": "12M"})["data"] == everything


def test_earned_rewards_pagination(api: httpx.Client) -> None:
    user = busy_user(api)
    expected = [r["id"] for r in rewards(api, user)["data"]]
    first = api.get(user_path(user, "earned-rewards")).json()
    assert len(first["data"]) == 10
    second = api.get(first["links"]["next"]).json()
    assert [r["id"] for r in first["data"] + second["data"]] == expected[
        : len(first["data"]) + len(second["data"])
    ]
    assert api.get(second["links"]["prev"]).json()["data"] == first["data"]


# --- attributions ---------------------------------------------------------------------------


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


# --- audits ---------------------------------------------------------------------------------


def audit(transaction_id: str, **overrides) -> dict:
    attributes = {
        "auditCode": 3006,
        "merchantName": "Taco Trail",
        "auditDescription": "Missing cashback",
        "transactionId": transaction_id,
        **overrides,
    }
    return {"type": "audit", "attributes": attributes}


def test_audits_created_then_conflict(api: httpx.Client) -> None:
    path = user_path(USER, "audits")
    created = api.post(path, json={"data": [audit("t1"), audit("t2")]})
    assert created.status_code == 201
    data = created.json()["data"]
    assert [a["attributes"]["transactionId"] for a in data] == ["t1", "t2"]
    assert all(a["type"] == "audit" and a["id"] for a in data)
    conflict = assert_error(api.post(path, json={"data": [audit("t1")]}), 409)
    assert conflict["id"] == "t1"
    mixed = api.post(path, json={"data": [audit("t2"), audit("t3")]})
    assert mixed.status_code == 207
    assert [e["id"] for e in mixed.json()["errors"]] == ["t2"]
    assert mixed.json()["errors"][0]["status"] == "409"
    assert [a["attributes"]["transactionId"] for a in mixed.json()["data"]] == ["t3"]
    assert (
        api.post(user_path("other-user", "audits"), json={"data": [audit("t1")]}).status_code == 201
    )


@pytest.mark.parametrize(
    ("item", "pointer"),
    [
        (audit("t", auditCode=1234), "/data/0/attributes/auditCode"),
        (audit("t", auditCode="3005"), "/data/0/attributes/auditCode"),
        (audit("t", merchantName=""), "/data/0/attributes/merchantName"),
        (audit(""), "/data/0/attributes/transactionId"),
        ({**audit("t"), "type": "dispute"}, "/data/0/type"),
        ({"type": "audit"}, "/data/0/attributes"),
    ],
)
def test_audit_validation(api: httpx.Client, item: dict, pointer: str) -> None:
    assert_error(api.post(user_path(USER, "audits"), json={"data": [item]}), 400, pointer=pointer)


# --- faults and call recording --------------------------------------------------------------


def test_fault_status_with_retry_after_for_limited_times(
    api: httpx.Client, simulator: Simulator
) -> None:
    simulator.faults.inject(503, retry_after=7, times=2, path=r"/offers$")
    for _ in range(2):
        response = api.get(user_path(USER, "offers"))
        assert_error(response, 503)
        assert response.headers["Retry-After"] == "7"
    assert api.get(user_path(USER, "offers")).status_code == 200
    assert [call.status for call in simulator.calls_to(r"/offers$")] == [503, 503, 200]


def test_fault_filters_by_path_and_method(api: httpx.Client, simulator: Simulator) -> None:
    simulator.faults.inject(500, path=r"/locations$", method="GET")
    assert api.get(user_path(USER, "offers")).status_code == 200
    assert_error(api.get(user_path(USER, "locations")), 500)
    assert_error(api.get(user_path(USER, "locations")), 500)
    simulator.faults.inject(429, method="POST", body={"message": "slow down"})
    response = api.post(user_path(USER, "attributions"), json={"data": [event("o")]})
    assert response.status_code == 429 and response.json() == {"message": "slow down"}
    simulator.faults.clear()
    assert api.get(user_path(USER, "locations")).status_code == 200


def test_fault_delay_slows_the_real_answer(api: httpx.Client, simulator: Simulator) -> None:
    simulator.faults.inject(delay=0.3, times=1, path=r"/offers$")
    started = time.monotonic()
    assert api.get(user_path(USER, "offers")).status_code == 200
    assert time.monotonic() - started >= 0.3
    simulator.faults.inject(delay=0.5, times=1)
    with pytest.raises(httpx.ReadTimeout):
        api.get(user_path(USER, "offers"), timeout=0.1)


def test_fault_on_token_endpoint(client: httpx.Client, simulator: Simulator) -> None:
    simulator.faults.inject(500, path=r"^/v2/auth/token$", times=1)
    body = {"client_id": "c", "client_secret": "s"}
    assert_error(client.post("/v2/auth/token", json=body), 500)
    assert client.post("/v2/auth/token", json=body).status_code == 200


def test_calls_are_recorded(api: httpx.Client, simulator: Simulator) -> None:
    api.get(user_path(USER, "offers") + "?sort=name&page[size]=2&sort=-name")
    api.post(user_path(USER, "attributions"), json={"data": [event("o")]})
    api.get(user_path(USER, "offers"), headers={"Authorization": "Bearer nope"})
    token_call, offers_call, attribution_call, rejected = simulator.calls
    assert (token_call.method, token_call.path, token_call.status) == (
        "POST",
        "/v2/auth/token",
        200,
    )
    assert offers_call.query == [("sort", "name"), ("page[size]", "2"), ("sort", "-name")]
    assert offers_call.json is None and offers_call.headers["Authorization"].startswith("Bearer ")
    assert attribution_call.json == {"data": [event("o")]} and attribution_call.status == 202
    assert rejected.status == 401
    assert simulator.calls_to(r"/offers$", method="GET") == [offers_call, rejected]
    assert simulator.calls_to(r"/offers$", method="POST") == []


def test_http_control_surface(api: httpx.Client, simulator: Simulator) -> None:
    fault = {"status": 502, "retryAfter": 3, "times": 1, "path": "/earned-rewards$"}
    assert api.post("/_sandbox/faults", json=fault).status_code == 201
    response = api.get(user_path(USER, "earned-rewards"))
    assert response.status_code == 502 and response.headers["Retry-After"] == "3"
    assert_error(api.post("/_sandbox/faults", json={"status": 42}), 400)
    assert_error(api.post("/_sandbox/faults", json={"colour": "red"}), 400)
    api.post("/_sandbox/faults", json={"status": 500})
    assert api.delete("/_sandbox/faults").status_code == 204
    assert api.get(user_path(USER, "offers")).status_code == 200
    calls = api.get("/_sandbox/calls").json()["data"]
    assert [(c["method"], c["status"]) for c in calls] == [
        ("POST", 200),
        ("GET", 502),
        ("GET", 200),
    ]
    # Credentials never go back out through the control surface.
    assert calls[0]["json"]["client_secret"] == "[redacted]"
    assert {c["headers"]["Authorization"] for c in calls[1:]} == {"[redacted]"}
    assert api.post("/_sandbox/expire-tokens").status_code == 204
    assert_error(api.get(user_path(USER, "offers")), 401)
    assert api.post("/_sandbox/reset").status_code == 204
    assert simulator.calls == []


def test_reset_clears_user_state(api: httpx.Client, simulator: Simulator) -> None:
    offer = find_offer(api, needs_activation, **CTA_MODE)
    api.post(user_path(USER, f"offers/{offer['id']}/activate"))
    simulator.faults.inject(500, path="nothing-matches")
    simulator.reset()
    assert simulator.attribution_events(USER) == [] and simulator.calls == []
    token = api.post("/v2/auth/token", json={"client_id": "c", "client_secret": "s"}).json()
    api.headers["Authorization"] = f"Bearer {token['access_token']}"
    assert needs_activation(find_offer(api, lambda o: o["id"] == offer["id"], **CTA_MODE))


@pytest.mark.parametrize(
    "path",
    [
        "/v2/issuers/org-sandbox/transactions/uploads",
        "/v2/issuers/org-sandbox/subscriptions",
        "/v2/issuers/org-sandbox/users/u1/attributions",
        "/v2/issuers/org-sandbox/users/u1/audits",
    ],
)
def test_json_nested_too_deep_is_a_400_not_a_crash(api: httpx.Client, path: str) -> None:
    body = b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"pointer": "/data"}
