"""The stand-in WebView's API on the BFF: WebView tokens checked by the Kard the BFF is configured
with, the simulator embedded in it or a standalone one (`kard-bff sandbox`, as KARD_API_URL)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sandbox.helpers import activatable

API = "/sandbox/webview/api"
USER = "sandbox-demo-new-customer"
NEW_YORK = {"filter[latitude]": "40.7420", "filter[longitude]": "-73.9930"}


@pytest.fixture(params=["embedded", "standalone"])
def app(request, make_app):
    """A sandbox BFF whose Kard is its own embedded simulator, or the standalone one."""
    if request.param == "embedded":
        return make_app()
    return make_app(KARD_API_URL=request.getfixturevalue("kard_url"))


@pytest.fixture
def bearer(client, as_user) -> dict[str, str]:
    """The WebView token of a session opened as an app would, as the stand-in sends it."""
    session = client.post("/api/v1/webview/session", headers=as_user(USER)).get_json()
    [token] = parse_qs(urlsplit(session["url"]).query)["token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_token_is_checked_with_the_configured_kard(client, bearer):
    response = client.get(f"{API}/me", headers=bearer)
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["userId"] == USER and body["organizationId"] == "org-sandbox"
    assert body["expiresAt"].endswith("Z")


def test_the_users_offers_are_listed_and_a_cta_works(client, bearer):
    response = client.get(f"{API}/offers", headers=bearer)
    assert response.status_code == 200, response.text
    offers = response.get_json()["data"]
    offer = activatable(offers)
    acted = client.post(f"{API}/offers/{offer['id']}/activate", headers=bearer)
    assert acted.status_code == 201, acted.text
    [updated] = acted.get_json()["included"]
    assert updated["attributes"]["components"]["detailTags"] == ["Activated"]


def test_nearby_locations_are_listed(client, bearer):
    response = client.get(f"{API}/locations", query_string=NEW_YORK, headers=bearer)
    assert response.status_code == 200, response.text
    assert response.get_json()["data"], "the catalog has New York locations"


def test_an_unknown_offer_is_kards_400(client, bearer):
    response = client.post(f"{API}/offers/no-such-offer/boost", headers=bearer)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["status"] == "400"


@pytest.fixture(params=["%09%15%1A%01", "%F2%8A%86%9F", "%C3%81", "x" * 65])
def not_an_offer_id(request) -> str:
    """A path segment no Kard offer ID has (control, astral and accented characters, too long);
    an astral one made the embedded simulator's transport fail (found by tests/test_fuzz.py)."""
    return request.param


def test_what_is_not_an_offer_id_is_404_before_kard(client, bearer, not_an_offer_id):
    response = client.post(f"{API}/offers/{not_an_offer_id}/activate", headers=bearer)
    assert response.status_code == 404, response.text
    assert response.get_json()["errors"][0]["detail"].endswith("is not an offer ID.")


@pytest.mark.parametrize("path", ["/me", "/offers", "/locations"])
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt", "Basic abc", "Bearer "])
def test_without_a_valid_webview_token_it_is_401(client, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(API + path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    [error] = response.get_json()["errors"]
    assert error["status"] == "401" and error["detail"]


def test_another_kards_token_is_refused(make_app, kard_url):
    """A token of the standalone simulator means nothing to a BFF with its own simulator."""
    standalone = make_app(KARD_API_URL=kard_url).test_client()
    session = standalone.post("/dev/session", json={"userId": USER}).get_json()["token"]
    headers = {"Authorization": f"Bearer {session}"}
    token = standalone.post("/api/v1/webview/token", headers=headers).get_json()["token"]
    embedded = make_app().test_client()
    response = embedded.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_the_standin_api_exists_only_in_sandbox(make_app, outside_sandbox):
    response = (
        make_app(**outside_sandbox)
        .test_client()
        .get(f"{API}/me", headers={"Authorization": "Bearer t"})
    )
    assert response.status_code == 404
