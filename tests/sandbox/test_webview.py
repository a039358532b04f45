"""The stand-in WebView's API on the simulator, authenticated by the WebView JWT, over real HTTP."""

import httpx
import pytest

from bff.sandbox import Simulator, create_simulator_app, haversine_miles
from tests.sandbox.helpers import ORG, activatable
from tests.servers import serve

USER = "sandbox-demo-new-customer"
BASE = "/_sandbox/webview"
NEW_YORK = (40.7420, -73.9930)


def webview_token(client: httpx.Client, user: str = USER) -> str:
    access = client.post(
        "/v2/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    ).json()["access_token"]
    response = client.post(
        f"/v2/auth/issuers/{ORG}/users/{user}/token",
        headers={"Authorization": f"Bearer {access}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def bearer(client: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {webview_token(client)}"}


def test_me_names_the_tokens_user_and_expiry(client, bearer, simulator):
    response = client.get(f"{BASE}/me", headers=bearer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["userId"] == USER and body["organizationId"] == ORG
    assert body["expiresAt"].endswith("Z") and body["expiresAt"] > "2000"
    # The control surface is not logged as Kard traffic.
    assert simulator.calls_to(r"^/_sandbox/") == []


def test_offers_are_the_users_offers_with_every_component(client, bearer):
    response = client.get(f"{BASE}/offers", headers=bearer)
    assert response.status_code == 200, response.text
    offers = response.json()["data"]
    assert 10 < len(offers) <= 100
    assert all(offer["type"] == "standardOffer" for offer in offers)
    components = [offer["attributes"]["components"] for offer in offers]
    assert all("baseReward" in c and "shortDescription" in c for c in components)
    assert any("cta" in c for c in components)


def test_activate_changes_the_offers_components(client, bearer, simulator):
    offers = client.get(f"{BASE}/offers", headers=bearer).json()["data"]
    offer = activatable(offers)
    response = client.post(f"{BASE}/offers/{offer['id']}/activate", headers=bearer)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["data"]["attributes"]["eventCode"] == "ACTIVATE"
    [updated] = body["included"]
    assert updated["id"] == offer["id"]
    components = updated["attributes"]["components"]
    assert components["detailTags"] == ["Activated"]
    assert components.get("cta", {}).get("buttonText") != "Tap to activate"
    # The event is the user's, as if the issuer had called Kard.
    events = simulator.attribution_events(USER)
    assert [e["attributes"]["eventCode"] for e in events] == ["ACTIVATE"]
    again = client.get(f"{BASE}/offers", headers=bearer).json()["data"]
    assert next(o for o in again if o["id"] == offer["id"]) == updated


def test_acting_on_an_unknown_offer_is_a_400(client, bearer):
    response = client.post(f"{BASE}/offers/no-such-offer/boost", headers=bearer)
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == "400"


def test_locations_are_nearest_first_with_their_offers(client, bearer):
    params = {"filter[latitude]": NEW_YORK[0], "filter[longitude]": NEW_YORK[1]}
    response = client.get(f"{BASE}/locations", params=params, headers=bearer)
    assert response.status_code == 200, response.text
    body = response.json()
    locations = body["data"]
    assert locations, "the catalog has New York locations"
    distances = [
        haversine_miles(NEW_YORK, tuple(loc["attributes"]["coordinates"].values()))
        for loc in locations
    ]
    assert distances == sorted(distances) and distances[-1] <= 10
    included = {offer["id"]: offer for offer in body["included"]}
    for location in locations:
        for ref in location["relationships"]["offers"]["data"]:
            assert "components" in included[ref["id"]]["attributes"]


@pytest.mark.parametrize("path", ["/me", "/offers", "/locations"])
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt", "Basic abc", "tampered"])
def test_requests_without_a_valid_webview_token_are_401(client, path, authorization):
    if authorization == "tampered":
        header, claims, signature = webview_token(client).split(".")
        authorization = f"Bearer {header}.{claims}.{signature[::-1]}"
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(BASE + path, headers=headers)
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["status"] == "401" and error["source"] == {"header": "Authorization"}


def test_an_issuer_access_token_is_not_a_webview_token(client):
    access = client.post(
        "/v2/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    ).json()["access_token"]
    response = client.post(
        f"{BASE}/offers/x/activate", headers={"Authorization": f"Bearer {access}"}
    )
    assert response.status_code == 401


def test_an_expired_webview_token_is_401():
    now = [1_800_000_000.0]
    simulator = Simulator(clock=lambda: now[0])
    with serve(create_simulator_app(simulator)) as url, httpx.Client(base_url=url) as client:
        headers = {"Authorization": f"Bearer {webview_token(client)}"}
        assert client.get(f"{BASE}/me", headers=headers).status_code == 200
        now[0] += simulator.webview.ttl
        response = client.get(f"{BASE}/me", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["detail"]
