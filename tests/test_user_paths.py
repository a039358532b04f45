"""No session user ID changes the shape of a Kard path: dots and slashes stay inside the user's
segment, and "." or ".." (which URL normalization would remove) are refused before Kard."""

import time

import jwt
import pytest

from tests.kard_documents import impression

SECRET = "an-hs256-secret-of-at-least-32-bytes!"
ORG = "org-sandbox"
OFFER_ID = "60e4ba1da31c5a22a144c075"
EVENT = impression(OFFER_ID)
# Each endpoint that acts for the user, and the path (as Kard decodes it) it must reach.
REQUESTS = [
    ("GET", "/api/v1/offers", None, "/v2/issuers/{org}/users/{user}/offers"),
    ("GET", "/api/v1/locations", None, "/v2/issuers/{org}/users/{user}/locations"),
    ("GET", "/api/v1/rewards", None, "/v2/issuers/{org}/users/{user}/earned-rewards"),
    (
        "POST",
        f"/api/v1/offers/{OFFER_ID}/activate",
        None,
        "/v2/issuers/{org}/users/{user}/offers/" + OFFER_ID + "/activate",
    ),
    ("POST", f"/api/v1/offers/{OFFER_ID}/view", {}, "/v2/issuers/{org}/users/{user}/attributions"),
    (
        "POST",
        "/api/v1/attributions",
        {"data": [EVENT]},
        "/v2/issuers/{org}/users/{user}/attributions",
    ),
    ("POST", "/api/v1/webview/token", None, "/v2/auth/issuers/{org}/users/{user}/token"),
]


@pytest.fixture
def app(make_app, kard_url):
    return make_app(KARD_API_URL=kard_url, BFF_AUTH_MODE="hs256", BFF_JWT_SECRET=SECRET)


def _headers(user_id: str) -> dict[str, str]:
    claims = {"sub": user_id, "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def _kard_paths(simulator) -> list[str]:
    return [call.path for call in simulator.calls if call.path != "/v2/auth/token"]


@pytest.mark.parametrize("user_id", [".", ".."])
@pytest.mark.parametrize(("method", "url", "body", "_path"), REQUESTS)
def test_a_dot_segment_user_id_is_refused_before_kard(
    client, simulator, user_id, method, url, body, _path
):
    response = client.open(url, method=method, json=body, headers=_headers(user_id))
    assert response.status_code == 401
    assert "claim is not a user ID" in response.get_json()["errors"][0]["detail"]
    assert _kard_paths(simulator) == []


@pytest.mark.parametrize("user_id", ["%2e%2e", "a/../b", "./x", "..."])
@pytest.mark.parametrize(("method", "url", "body", "path"), REQUESTS)
def test_dots_and_slashes_stay_inside_the_users_segment(
    client, simulator, user_id, method, url, body, path
):
    response = client.open(url, method=method, json=body, headers=_headers(user_id))
    assert response.status_code < 500, response.get_json()
    # The simulator sees the path decoded: exactly the template with the whole ID in its place.
    assert set(_kard_paths(simulator)) == {path.format(org=ORG, user=user_id)}


@pytest.mark.parametrize("user_id", ["", ".", ".."])
def test_dev_session_refuses_user_ids_that_are_not_path_segments(make_app, user_id):
    response = make_app().test_client().post("/dev/session", json={"userId": user_id})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["source"] == {"pointer": "/userId"}
