"""Kard authentication on the simulator: issuer access tokens and WebView tokens."""

import base64

import httpx
import jwt
import pytest

from bff.sandbox import Simulator, create_simulator_app
from tests.sandbox.helpers import (
    CREDENTIALS,
    NEW,
    ORG,
    USER,
    assert_error,
    user_path,
)
from tests.servers import serve


def basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


ID, SECRET = CREDENTIALS["client_id"], CREDENTIALS["client_secret"]


def test_token_documented_basic_form_flow(client: httpx.Client) -> None:
    response = client.post(
        "/v2/auth/token",
        headers={"Authorization": basic(ID, SECRET)},
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["access_token"]


def test_token_sdk_json_flow(client: httpx.Client) -> None:
    response = client.post("/v2/auth/token", json=CREDENTIALS)
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("headers", "data", "json", "status"),
    [
        ({}, {"grant_type": "client_credentials"}, None, 400),
        ({"Authorization": basic(ID, SECRET)}, {}, None, 400),
        ({"Authorization": basic(ID, SECRET)}, {"grant_type": "password"}, None, 400),
        ({"Authorization": "Basic !!notbase64"}, {"grant_type": "client_credentials"}, None, 400),
        ({}, None, {"client_id": ID}, 400),
        ({}, None, {**CREDENTIALS, "grant_type": "password"}, 400),
        ({"Authorization": basic(ID, "")}, {"grant_type": "client_credentials"}, None, 401),
        ({"Authorization": basic("", SECRET)}, {"grant_type": "client_credentials"}, None, 401),
        ({}, None, {"client_id": "", "client_secret": SECRET}, 401),
        # Wrong credentials, each way they can be sent
        ({"Authorization": basic(ID, "wrong")}, {"grant_type": "client_credentials"}, None, 401),
        (
            {"Authorization": basic("other", SECRET)},
            {"grant_type": "client_credentials"},
            None,
            401,
        ),
        ({}, None, {"client_id": ID, "client_secret": SECRET + "x"}, 401),
        ({}, None, {"client_id": "someone-else", "client_secret": SECRET}, 401),
    ],
)
def test_token_rejects_bad_credentials(client, headers, data, json, status) -> None:
    response = client.post("/v2/auth/token", headers=headers, data=data, json=json)
    assert_error(response, status)


def test_the_simulator_takes_the_credentials_it_was_given(make_kard) -> None:
    _, url = make_kard(client_id="issuer-client", client_secret="issuer-secret")
    with httpx.Client(base_url=url) as client:
        assert_error(client.post("/v2/auth/token", json=CREDENTIALS), 401)
        given = {"client_id": "issuer-client", "client_secret": "issuer-secret"}
        assert client.post("/v2/auth/token", json=given).status_code == 200


def _token(client: httpx.Client, target_issuer: str | None = None) -> httpx.Response:
    headers = {"X-Kard-Target-Issuer": target_issuer} if target_issuer else {}
    return client.post("/v2/auth/token", json=CREDENTIALS, headers=headers)


def test_a_token_acts_for_its_organization_only(client: httpx.Client, simulator) -> None:
    """A token is locked to its issuer: any other organization in a path is a 401, and a 403 on
    the bulk upload URLs, whose reference lists one."""
    simulator.enroll(USER, "org-other")
    token = _token(client).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    assert_error(client.get(f"/v2/issuers/org-other/users/{USER}/offers"), 401)
    assert_error(client.get(f"/v2/issuers/org-other/users/{USER}"), 401)
    assert_error(client.get("/v2/issuers/org-other/subscriptions"), 401)
    uploads = {
        "data": [{"type": "historicalTransactionsFile", "attributes": {"filename": "a.jsonl"}}]
    }
    assert_error(client.post("/v2/issuers/org-other/transactions/uploads", json=uploads), 403)
    assert client.post(f"/v2/issuers/{ORG}/transactions/uploads", json=uploads).status_code == 201


def test_a_target_issuer_must_be_one_the_credentials_manage(make_kard) -> None:
    simulator, url = make_kard(target_issuers=("issuer-2",))
    simulator.enroll(USER, "issuer-2")
    simulator.enroll(USER)
    with httpx.Client(base_url=url) as client:
        assert_error(_token(client, "issuer-3"), 401)
        scoped = _token(client, "issuer-2").json()["access_token"]
        headers = {"Authorization": f"Bearer {scoped}"}
        offers = client.get(f"/v2/issuers/issuer-2/users/{USER}/offers", headers=headers)
        assert offers.status_code == 200
        # Locked to issuer-2: not even the client's own organization.
        assert_error(client.get(user_path(USER, "offers"), headers=headers), 401)
        own = _token(client, ORG).json()["access_token"]
        headers = {"Authorization": f"Bearer {own}"}
        assert client.get(user_path(USER, "offers"), headers=headers).status_code == 200


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
    simulator.enroll(USER)
    with serve(create_simulator_app(simulator)) as url, httpx.Client(base_url=url) as client:
        body = client.post("/v2/auth/token", json=CREDENTIALS).json()
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
