"""The native app API against the simulator: parameter rules, rewrites, pagination, CTAs, views,
and that the BFF only ever acts for the session user."""

import re

import pytest
from kard.users.rewards.types import LocationsResponseObject, OffersResponseObject

from bff.kard.vocabulary import COMPONENTS
from tests.sandbox.helpers import CREDENTIALS

USER_A = "sandbox-demo-new-customer"
USER_PATHS = r"^/v2/issuers/[^/]+/users/"  # what Kard serves for one user
USER_B = "sandbox-demo-lapsed-customer"
DESCRIPTIONS_ONLY = "supportedComponents=shortDescription&supportedComponents=longDescription"
NYC = "filter[latitude]=40.7420&filter[longitude]=-73.9930"


@pytest.fixture
def a(as_user):
    return as_user(USER_A)


def _get(client, headers, url, status=200):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _upstream(simulator, endpoint):
    return simulator.calls_to(rf"/users/[^/]+/{endpoint}$")


# Parameter rules: each bad value is a 400 naming the parameter, and nothing goes upstream.

OFFER_CASES = [
    ("page[size]=0", "page[size]"),
    ("page[size]=101", "page[size]"),
    ("page[size]=ten", "page[size]"),
    ("page[size]=1.5", "page[size]"),
    ("page[size]=5&page[size]=6", "page[size]"),
    ("page[after]=", "page[after]"),
    ("page[after]=a%20b", "page[after]"),
    ("page[after]=" + "x" * 513, "page[after]"),
    ("page[after]=abc&page[before]=def", "page[before]"),
    ("filter[category]=Food", "filter[category]"),
    ("filter[category]=food%20%26%20beverage", "filter[category]"),
    ("filter[purchaseChannel]=MAIL", "filter[purchaseChannel]"),
    ("filter[purchaseChannel]=INSTORE,", "filter[purchaseChannel]"),
    ("filter[isTargeted]=yes", "filter[isTargeted]"),
    ("filter[isTargeted]=True", "filter[isTargeted]"),
    ("filter[search]=" + "s" * 201, "filter[search]"),
    ("sort=price", "sort"),
    ("sort=locationName", "sort"),
    ("include=offers", "include"),
    ("supportedComponents=banner", "supportedComponents"),
    ("supportedComponents=cta&supportedComponents=Cta", "supportedComponents"),
    ("supportedComponents=cta,banner", "supportedComponents"),
    ("userId=" + USER_B, "userId"),
    ("filter[name]=x", "filter[name]"),
]

LOCATION_CASES = [
    ("page[size]=0", "page[size]"),
    ("filter[state]=ZZ", "filter[state]"),
    ("filter[state]=ny", "filter[state]"),
    ("filter[zipCode]=ABCDE", "filter[zipCode]"),
    ("filter[category]=Groceries", "filter[category]"),
    ("filter[latitude]=91&filter[longitude]=0", "filter[latitude]"),
    ("filter[latitude]=-90.5&filter[longitude]=0", "filter[latitude]"),
    ("filter[latitude]=0&filter[longitude]=180.01", "filter[longitude]"),
    ("filter[latitude]=0&filter[longitude]=-181", "filter[longitude]"),
    ("filter[latitude]=north&filter[longitude]=0", "filter[latitude]"),
    ("filter[latitude]=nan&filter[longitude]=0", "filter[latitude]"),
    ("filter[latitude]=0&filter[longitude]=inf", "filter[longitude]"),
    ("filter[latitude]=40.7", "filter[longitude]"),
    ("filter[longitude]=-73.9", "filter[latitude]"),
    (f"{NYC}&filter[radius]=0", "filter[radius]"),
    (f"{NYC}&filter[radius]=-5", "filter[radius]"),
    (f"{NYC}&filter[radius]=2.5", "filter[radius]"),
    ("filter[radius]=5", "filter[radius]"),
    ("sort=name", "sort"),
    ("include=merchants", "include"),
    ("supportedComponents=map", "supportedComponents"),
    ("filter[isTargeted]=true", "filter[isTargeted]"),
]


@pytest.mark.parametrize(("query", "parameter"), OFFER_CASES)
def test_bad_offer_parameters_are_400_naming_them(client, a, simulator, query, parameter):
    error = _get(client, a, f"/api/v1/offers?{query}", 400)["errors"][0]
    assert error["source"] == {"parameter": parameter}
    assert error["status"] == "400"
    assert _upstream(simulator, "offers") == []


@pytest.mark.parametrize(("query", "parameter"), LOCATION_CASES)
def test_bad_location_parameters_are_400_naming_them(client, a, simulator, query, parameter):
    error = _get(client, a, f"/api/v1/locations?{query}", 400)["errors"][0]
    assert error["source"] == {"parameter": parameter}
    assert _upstream(simulator, "locations") == []


def test_a_query_checked_once_is_checked_the_same_for_every_endpoint_and_every_time(
    client, a, simulator
):
    # Checked queries are remembered per query string: the rules and defaults stay per endpoint.
    for _ in range(2):
        _get(client, a, "/api/v1/offers?include=offers", 400)
        _get(client, a, "/api/v1/locations?include=offers")
        _get(client, a, "/api/v1/offers?page[size]=3")
        _get(client, a, "/api/v1/rewards?page[size]=3")
    offers, locations = _upstream(simulator, "offers"), _upstream(simulator, "locations")
    assert len(offers) == 2 and len(locations) == 2
    assert all(dict(call.query).get("supportedComponents") for call in offers + locations), (
        "the configured components are added on every call"
    )
    assert all(dict(call.query)["include"] == "offers" for call in locations)


def test_category_names_with_spaces_and_ampersands_pass(client, a):
    body = _get(client, a, "/api/v1/offers?filter[category]=Food%20%26%20Beverage&page[size]=100")
    assert body["data"]


def test_repeated_parameters_stay_repeated(client, a, simulator):
    query = (
        "filter[purchaseChannel]=INSTORE&filter[purchaseChannel]=ONLINE"
        "&supportedComponents=cta&supportedComponents=baseReward&filter[isTargeted]=false"
    )
    _get(client, a, f"/api/v1/offers?{query}")
    (call,) = _upstream(simulator, "offers")
    assert call.query == [
        ("filter[purchaseChannel]", "INSTORE"),
        ("filter[purchaseChannel]", "ONLINE"),
        ("supportedComponents", "cta"),
        ("supportedComponents", "baseReward"),
        ("filter[isTargeted]", "false"),
    ]


def test_components_default_to_the_configured_ones(make_app, kard_url, as_user, simulator):
    app = make_app(KARD_API_URL=kard_url, BFF_SUPPORTED_COMPONENTS="shortDescription,cta")
    client = app.test_client()
    client.get("/api/v1/offers", headers=as_user(USER_A, client))
    (call,) = _upstream(simulator, "offers")
    assert call.query == [
        ("supportedComponents", "shortDescription"),
        ("supportedComponents", "cta"),
    ]


def test_all_nine_components_by_default(client, a, simulator):
    _get(client, a, "/api/v1/offers")
    (call,) = _upstream(simulator, "offers")
    assert [value for name, value in call.query if name == "supportedComponents"] == list(
        COMPONENTS
    )


@pytest.mark.parametrize(
    ("query", "include"),
    [
        ("", "offers"),
        ("include=categories", "categories,offers"),
        ("include=offers,categories", "offers,categories"),
    ],
)
def test_locations_always_include_offers_with_components(client, a, simulator, query, include):
    _get(client, a, f"/api/v1/locations?{query}")
    (call,) = _upstream(simulator, "locations")
    assert [value for name, value in call.query if name == "include"] == [include]


def test_good_location_search(client, a):
    body = _get(
        client, a, f"/api/v1/locations?{NYC}&filter[radius]=5&filter[state]=NY&page[size]=5"
    )
    assert body["data"]
    assert all(location["attributes"]["address"]["state"] == "NY" for location in body["data"])


# The two rewrites.


def _direct(simulator_client, path):
    response = simulator_client.get(path)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def kard_direct(kard_url):
    """An httpx client straight to the simulator, with an issuer token (to compare answers)."""
    import httpx

    client = httpx.Client(base_url=kard_url)
    token = client.post("/v2/auth/token", json=CREDENTIALS).json()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"
    yield client
    client.close()


def _kard_path(user, endpoint):
    return f"/v2/issuers/org-sandbox/users/{user}/{endpoint}"


def _cta_urls(resources):
    return [
        r["attributes"]["components"]["cta"]["action"]["url"]
        for r in resources
        if "cta" in r.get("attributes", {}).get("components", {})
    ]


def test_offers_are_kards_answer_with_only_links_and_ctas_rewritten(client, a, kard_direct):
    query = "page[size]=10&include=categories&" + "&".join(
        f"supportedComponents={c}" for c in COMPONENTS
    )
    ours = _get(client, a, f"/api/v1/offers?{query}")
    theirs = _direct(kard_direct, f"{_kard_path(USER_A, 'offers')}?{query}")

    assert ours["links"]["self"] == f"/api/v1/offers?{theirs['links']['self'].split('?', 1)[1]}"
    assert ours["links"]["next"] == f"/api/v1/offers?{theirs['links']['next'].split('?', 1)[1]}"
    assert ours["links"]["prev"] is None
    kard_prefix = f"{_kard_path(USER_A, '')}"
    assert [url.replace("/api/v1/", kard_prefix, 1) for url in _cta_urls(ours["data"])] == (
        _cta_urls(theirs["data"])
    )
    assert _cta_urls(ours["data"]), "the page should carry CTAs"
    assert all(url.startswith("/api/v1/offers/") for url in _cta_urls(ours["data"]))
    # Everything else is Kard's answer, untouched (including meta and included).
    for document in (ours, theirs):
        document.pop("links")
        for resource in document["data"]:
            resource["attributes"].get("components", {}).pop("cta", None)
    assert ours == theirs


def test_ctas_are_rewritten_in_included_too(client, a):
    body = _get(client, a, f"/api/v1/locations?{NYC}&page[size]=20")
    offers = [r for r in body["included"] if r["type"] == "standardOffer"]
    urls = _cta_urls(offers)
    assert urls
    assert all(url.startswith("/api/v1/offers/") for url in urls)
    assert "/v2/" not in str(body)


def test_following_links_next_returns_every_offer_once(client, a):
    everything = _get(client, a, "/api/v1/offers?page[size]=100")
    expected = [offer["id"] for offer in everything["data"]]

    seen, pages, url = [], 0, "/api/v1/offers?page[size]=7"
    while url:
        body = _get(client, a, url)
        seen.extend(offer["id"] for offer in body["data"])
        pages += 1
        url = body["links"].get("next")
        assert url is None or url.startswith("/api/v1/offers?")
    assert pages >= 3
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


def test_links_prev_goes_back(client, a):
    first = _get(client, a, "/api/v1/offers?page[size]=5")
    second = _get(client, a, first["links"]["next"])
    back = _get(client, a, second["links"]["prev"])
    assert [o["id"] for o in back["data"]] == [o["id"] for o in first["data"]]


def test_the_sdk_parses_the_bffs_answers(client, a):
    offers = OffersResponseObject.model_validate(
        _get(client, a, "/api/v1/offers?page[size]=50&include=categories")
    )
    assert offers.data and offers.links.self_.startswith("/api/v1/offers")
    locations = LocationsResponseObject.model_validate(
        _get(client, a, f"/api/v1/locations?{NYC}&include=categories")
    )
    assert locations.data and locations.included


# Call-to-action flows.


def _offer_with_cta(client, headers, text):
    body = _get(client, headers, "/api/v1/offers?page[size]=100")
    for offer in body["data"]:
        cta = offer["attributes"]["components"].get("cta")
        if cta and cta["buttonText"] == text:
            return offer
    raise AssertionError(f"no offer with a {text!r} CTA")


def _find(client, headers, offer_id, query=""):
    body = _get(client, headers, f"/api/v1/offers?page[size]=100&{query}")
    return next(offer for offer in body["data"] if offer["id"] == offer_id)


@pytest.mark.parametrize(
    ("button", "action", "tag"),
    [("Tap to activate", "activate", "Activated"), ("Tap to boost", "boost", "Boosted")],
)
def test_cta_flow(client, a, simulator, button, action, tag):
    offer = _offer_with_cta(client, a, button)
    cta = offer["attributes"]["components"]["cta"]
    assert cta["action"] == {"url": f"/api/v1/offers/{offer['id']}/{action}", "method": "POST"}

    response = client.post(cta["action"]["url"], headers=a)
    assert response.status_code == 201
    body = response.get_json()
    assert body["data"]["attributes"]["eventCode"] == action.upper()
    assert body["data"]["attributes"]["medium"] == "CTA"
    (updated,) = [r for r in body["included"] if r["id"] == offer["id"]]
    assert "cta" not in updated["attributes"]["components"]
    assert updated["attributes"]["components"]["detailTags"] == [tag]

    refetched = _find(client, a, offer["id"])
    assert refetched["attributes"]["components"] == updated["attributes"]["components"]
    (call,) = simulator.calls_to(rf"/offers/{offer['id']}/{action}$")
    assert call.path == f"{_kard_path(USER_A, 'offers')}/{offer['id']}/{action}"
    assert ("include", "offer") in call.query


def test_boost_shows_the_boosted_reward(client, a):
    offer = _offer_with_cta(client, a, "Tap to boost")
    assert offer["attributes"]["components"]["boostedReward"]


def test_description_only_flow_uses_view_as_activation(client, a, simulator):
    offer = _offer_with_cta(client, a, "Tap to activate")
    before = _find(client, a, offer["id"], DESCRIPTIONS_ONLY)["attributes"]["components"]
    assert set(before) == {"shortDescription", "longDescription"}
    assert before["shortDescription"] != "Activated"

    response = client.post(f"/api/v1/offers/{offer['id']}/view", headers=a)
    assert response.status_code == 202

    after = _find(client, a, offer["id"], DESCRIPTIONS_ONLY)["attributes"]["components"]
    assert after == {"shortDescription": "Activated", "longDescription": "Activated"}
    (event,) = simulator.attribution_events(USER_A)
    assert event["attributes"]["eventCode"] == "VIEW"
    assert event["attributes"]["medium"] == "BROWSE"
    assert event["attributes"]["entityId"] == offer["id"]


def test_view_takes_medium_date_and_state(client, a, simulator):
    offer_id = _offer_with_cta(client, a, "Tap to activate")["id"]
    body = {
        "medium": "SEARCH",
        "eventDate": "2026-11-20T09:30:00+01:00",
        "state": {"rank": 3, "filters": [{"name": "category", "value": "Gas"}]},
    }
    response = client.post(f"/api/v1/offers/{offer_id}/view", headers=a, json=body)
    assert response.status_code == 202
    (event,) = simulator.attribution_events(USER_A)
    assert event["attributes"] == {
        "entityId": offer_id,
        "eventCode": "VIEW",
        "medium": "SEARCH",
        "eventDate": "2026-11-20T08:30:00.000Z",
        "state": body["state"],
    }
    assert response.get_json()["data"] == event


def test_view_date_defaults_to_now(make_app, kard_url, clock, as_user, simulator):
    clock.now = 1_795_168_800.25
    client = make_app(KARD_API_URL=kard_url, clock=clock).test_client()
    client.post("/api/v1/offers/abc123/view", headers=as_user(USER_A, client))
    (event,) = simulator.attribution_events(USER_A)
    assert event["attributes"]["eventDate"] == "2026-11-20T10:00:00.250Z"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"medium": "PUSH"}, "/medium"),
        ({"medium": "browse"}, "/medium"),
        ({"eventDate": "2025-01-01T00:00:00"}, "/eventDate"),
        ({"eventDate": "yesterday"}, "/eventDate"),
        ({"eventDate": "2999-01-01T00:00:00Z"}, "/eventDate"),
        ({"eventDate": "0001-01-01T00:00:00+00:01"}, "/eventDate"),
        ({"eventDate": "9999-12-31T23:59:59-23:59"}, "/eventDate"),
        ({"eventDate": "1999-12-31T23:59:59Z"}, "/eventDate"),
        ({"eventDate": 1735689600}, "/eventDate"),
        ({"state": {"rank": 0}}, "/state/rank"),
        ({"state": {"rank": True}}, "/state/rank"),
        ({"state": {"filters": [{"name": "x"}]}}, "/state/filters/0/value"),
        ({"state": "top"}, "/state"),
        ({"userId": USER_B}, "/userId"),
    ],
)
def test_bad_view_bodies_are_422_with_pointers(client, a, simulator, body, pointer):
    response = client.post("/api/v1/offers/abc123/view", headers=a, json=body)
    assert response.status_code == 422
    assert pointer in [error["source"]["pointer"] for error in response.get_json()["errors"]]
    assert simulator.attribution_events(USER_A) == []


def test_kards_400_for_an_unknown_offer_is_kept(client, a):
    response = client.post("/api/v1/offers/000000000000000000000000/activate", headers=a)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["status"] == "400"


# The session user is the only user the BFF acts for.


def test_another_user_in_query_path_or_body_reaches_nothing(client, a, simulator):
    offer_id = _offer_with_cta(client, a, "Tap to activate")["id"]
    attempts = [
        client.get(f"/api/v1/offers?userId={USER_B}", headers=a),
        client.get(f"/api/v1/offers?filter[userId]={USER_B}", headers=a),
        client.get(f"/api/v1/locations?user={USER_B}", headers=a),
        client.get(f"/api/v1/users/{USER_B}/offers", headers=a),
        client.post(f"/api/v1/offers/{offer_id}/activate?userId={USER_B}", headers=a),
        client.post(f"/api/v1/users/{USER_B}/offers/{offer_id}/activate", headers=a),
        client.post(f"/api/v1/offers/{offer_id}/view", headers=a, json={"userId": USER_B}),
        client.post(
            f"/api/v1/offers/{offer_id}/view",
            headers=a,
            json={"entityId": offer_id, "user": USER_B},
        ),
    ]
    assert [response.status_code for response in attempts] == [
        400,
        400,
        400,
        404,
        400,
        404,
        422,
        422,
    ]
    client.get(f"/api/v1/offers?filter[search]={USER_B}", headers=a)  # just text to search for
    kard_calls = simulator.calls_to(USER_PATHS)  # not /dev/session's enrolment of A
    assert kard_calls
    assert all(call.path.startswith(_kard_path(USER_A, "")) for call in kard_calls)


def test_one_users_actions_do_not_show_for_another(client, as_user):
    a, b = as_user(USER_A), as_user(USER_B)
    offer = _offer_with_cta(client, a, "Tap to activate")
    assert client.post(f"/api/v1/offers/{offer['id']}/activate", headers=a).status_code == 201
    theirs = _find(client, b, offer["id"])
    assert theirs["attributes"]["components"]["cta"]["buttonText"] == "Tap to activate"
    assert _find(client, a, offer["id"])["attributes"]["components"]["detailTags"] == ["Activated"]


def test_no_session_no_answer(client, simulator):
    for response in (
        client.get("/api/v1/offers"),
        client.get("/api/v1/locations"),
        client.post("/api/v1/offers/abc/activate"),
        client.post("/api/v1/offers/abc/view"),
    ):
        assert response.status_code == 401
    assert client.post("/api/v1/offers/abc/renew").status_code == 404  # served to no one
    assert simulator.calls == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/offers/abc123/renew"),
        ("POST", "/api/v1/offers/abc123/activate/again"),
        ("POST", "/api/v1/offers/a.b/activate"),
        ("POST", "/api/v1/offers/%2e%2e/activate"),
        ("POST", "/api/v1/offers/..%2f..%2fusers%2fB/activate"),
        ("POST", "/api/v1/issuers/org-sandbox/users/x/offers/abc/activate"),
        ("PUT", "/api/v1/offers/abc123/activate"),
        ("DELETE", "/api/v1/offers/abc123"),
        ("POST", "/api/v1/anything"),
    ],
)
def test_paths_outside_the_emitted_cta_forms_reach_nothing(client, a, simulator, method, path):
    response = client.open(path, method=method, headers=a)
    assert response.status_code in (404, 405)
    assert response.get_json()["errors"]
    assert not simulator.calls_to(USER_PATHS)


def test_other_cta_forms_kard_emits_are_served_by_their_signed_url(client, a, simulator):
    offer_id = "5e27318c9b346f00087fbb5c"
    renew = {
        "buttonText": "Tap to renew",
        "buttonStyle": "PRIMARY",
        "action": {"url": f"{_kard_path(USER_A, 'offers')}/{offer_id}/renew", "method": "POST"},
    }
    elsewhere = {
        "buttonText": "Elsewhere",
        "buttonStyle": "PRIMARY",
        "action": {"url": f"{_kard_path(USER_B, 'offers')}/{offer_id}/claim", "method": "POST"},
    }
    answer = {
        "data": [
            {"type": "standardOffer", "id": offer_id, "attributes": {"components": {"cta": renew}}},
            {"type": "standardOffer", "id": "x1", "attributes": {"components": {"cta": elsewhere}}},
        ],
        "links": {"self": _kard_path(USER_A, "offers")},
    }
    simulator.faults.inject(200, body=answer, times=1, path=r"/offers$")
    body = _get(client, a, "/api/v1/offers")
    renew_url, elsewhere_url = _cta_urls(body["data"])
    assert re.fullmatch(rf"/api/v1/offers/{offer_id}/renew\?sig=[\w-]{{22}}", renew_url)
    assert elsewhere_url == elsewhere["action"]["url"]  # not this user's: left as Kard sent it
    assert body["links"]["self"] == "/api/v1/offers"

    response = client.post(renew_url, headers=a)
    assert response.status_code == 404  # the simulator knows no renew; Kard's 404 comes back
    wrong_method = client.get(renew_url, headers=a)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST, OPTIONS"
    (call,) = simulator.calls_to(r"/renew$")
    assert call.path == f"{_kard_path(USER_A, 'offers')}/{offer_id}/renew"
    assert "sig" not in dict(call.query)  # the signature is the BFF's: Kard never sees it


@pytest.mark.parametrize(
    "altered",
    [
        lambda url: url.partition("?")[0],  # unsigned
        lambda url: url.replace("/renew", "/claim"),  # another action
        lambda url: url.replace("5e27318c9b346f00087fbb5c", "5e27318c9b346f00087fbb5d"),  # offer
        lambda url: url + "&include=offer",  # another query
        lambda url: url[:-2] + ("AA" if not url.endswith("AA") else "BB"),  # another signature
        lambda url: url + "&sig=" + url.rpartition("=")[2],  # two signatures
    ],
)
def test_an_altered_cta_url_is_refused_with_nothing_sent(client, a, simulator, altered):
    offer_id = "5e27318c9b346f00087fbb5c"
    renew = {
        "action": {"url": f"{_kard_path(USER_A, 'offers')}/{offer_id}/renew", "method": "POST"}
    }
    offer = {"type": "standardOffer", "id": offer_id, "attributes": {"components": {"cta": renew}}}
    answer = {"data": [offer]}
    simulator.faults.inject(200, body=answer, times=1, path=r"/offers$")
    (url,) = _cta_urls(_get(client, a, "/api/v1/offers")["data"])
    response = client.post(altered(url), headers=a)
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["status"] == "404"
    assert simulator.calls_to(r"/(renew|claim)$") == []
