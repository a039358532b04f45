"""App-session authentication in each mode, over HTTP; every bad token is a 401."""

import hashlib
import hmac
import json
import time
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify

from bff import create_app
from tests.servers import serve

ISSUER = "https://issuer.example.com"
AUDIENCE = "kard-bff"
HS_SECRET = "an-hs256-secret-of-at-least-32-bytes!"
JWKS_REFRESH_COOLDOWN = 30  # PyJWKClient's default: one forced refresh per 30 s at most


def _rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEYS = {"k1": _rsa_key(), "k2": _rsa_key()}


def _claims(**changes):
    now = int(time.time())
    return {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        **changes,
    }


def _rs256(kid="k1", **changes):
    return jwt.encode(_claims(**changes), KEYS[kid], algorithm="RS256", headers={"kid": kid})


class JwksServer:
    """The issuer's JWKS endpoint; `published` decides which keys it shows."""

    def __init__(self):
        self.published = ["k1"]
        self.fetches = 0
        self.app = Flask("jwks")
        self.app.get("/jwks.json")(self.jwks)

    def jwks(self):
        self.fetches += 1
        keys = []
        for kid in self.published:
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(KEYS[kid].public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return jsonify({"keys": keys})


@pytest.fixture
def jwks_server():
    server = JwksServer()
    with serve(server.app) as url:
        server.url = f"{url}/jwks.json"
        yield server


@pytest.fixture
def jwks_client(jwks_server, kard_url):
    app = create_app(
        {
            "KARD_API_URL": kard_url,
            "BFF_AUTH_MODE": "jwks",
            "BFF_JWKS_URL": jwks_server.url,
            "BFF_JWT_ISSUER": ISSUER,
            "BFF_JWT_AUDIENCE": AUDIENCE,
        }
    )
    return app.test_client()


@pytest.fixture
def hs256_client(kard_url):
    app = create_app(
        {
            "KARD_API_URL": kard_url,
            "BFF_AUTH_MODE": "hs256",
            "BFF_JWT_SECRET": HS_SECRET,
            "BFF_JWT_ISSUER": ISSUER,
            "BFF_JWT_AUDIENCE": AUDIENCE,
            "BFF_USER_CLAIM": "kard_user",
        }
    )
    return app.test_client()


def _session(client, token):
    return client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})


def _assert_refused(response):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    (error,) = response.get_json()["errors"]
    assert error["status"] == "401"


def test_jwks_token_is_accepted(jwks_client):
    response = _session(jwks_client, _rs256())
    assert response.status_code == 200
    assert response.get_json() == {"userId": "user-1", "authMode": "jwks"}


def _unsigned(claims):
    return jwt.encode(claims, key=None, algorithm="none")


def _forged_with_public_key_as_hmac_secret():
    """The classic confusion attack: HS256 signed with the RSA public key's bytes."""
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT","kid":"k1"}')
    payload = jwt.utils.base64url_encode(json.dumps(_claims()).encode())
    public_pem = (
        KEYS["k1"]
        .public_key()
        .public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )
    signing_input = header + b"." + payload
    signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + jwt.utils.base64url_encode(signature)).decode()


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda: _unsigned(_claims()), id="alg-none"),
        pytest.param(
            lambda: jwt.encode(_claims(), _rsa_key(), algorithm="RS256", headers={"kid": "k1"}),
            id="wrong-key",
        ),
        pytest.param(lambda: _rs256(exp=int(time.time()) - 3600), id="expired"),
        pytest.param(lambda: _rs256(iss="https://evil.example.com"), id="wrong-iss"),
        pytest.param(lambda: _rs256(aud="someone-else"), id="wrong-aud"),
        pytest.param(
            lambda: jwt.encode(_claims(), HS_SECRET, algorithm="HS256"), id="hs256-in-jwks"
        ),
        pytest.param(_forged_with_public_key_as_hmac_secret, id="public-key-as-hmac-secret"),
        pytest.param(lambda: _rs256(sub=""), id="empty-user"),
        pytest.param(lambda: _rs256(sub=42), id="non-string-user"),
        pytest.param(lambda: "not.a.jwt", id="garbage"),
    ],
)
def test_jwks_mode_refuses(jwks_client, make_token):
    _assert_refused(_session(jwks_client, make_token()))


def test_jwks_missing_exp_is_refused(jwks_client):
    claims = _claims()
    del claims["exp"]
    token = jwt.encode(claims, KEYS["k1"], algorithm="RS256", headers={"kid": "k1"})
    _assert_refused(_session(jwks_client, token))


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"]
)
def test_missing_or_malformed_authorization_is_401(jwks_client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    _assert_refused(jwks_client.get("/api/v1/session", headers=headers))


def test_jwks_keys_are_cached_and_refreshed_on_unknown_kid(jwks_client, jwks_server, monkeypatch):
    assert _session(jwks_client, _rs256()).status_code == 200
    assert _session(jwks_client, _rs256()).status_code == 200
    assert jwks_server.fetches == 1
    jwks_server.published = ["k1", "k2"]  # the issuer rotates in a new key
    # Right after a fetch, unknown kids cannot make the BFF hammer the issuer's JWKS endpoint.
    _assert_refused(_session(jwks_client, _rs256(kid="k2")))
    assert jwks_server.fetches == 1
    later = time.monotonic() + JWKS_REFRESH_COOLDOWN + 1
    monkeypatch.setattr(jwt.jwks_client, "time", SimpleNamespace(monotonic=lambda: later))
    assert _session(jwks_client, _rs256(kid="k2")).status_code == 200
    assert jwks_server.fetches == 2


def test_hs256_mode_reads_the_configured_user_claim(hs256_client):
    token = jwt.encode(_claims(kard_user="kard-42"), HS_SECRET, algorithm="HS256")
    assert _session(hs256_client, token).get_json()["userId"] == "kard-42"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda: jwt.encode(
                _claims(kard_user="u"), "another-secret-of-at-least-32-bytes", "HS256"
            ),
            id="wrong-key",
        ),
        pytest.param(
            lambda: jwt.encode(_claims(kard_user="u", exp=1), HS_SECRET, "HS256"), id="expired"
        ),
        pytest.param(
            lambda: jwt.encode(_claims(kard_user="u", iss="x"), HS_SECRET, "HS256"), id="wrong-iss"
        ),
        pytest.param(
            lambda: jwt.encode(_claims(kard_user="u", aud="x"), HS_SECRET, "HS256"), id="wrong-aud"
        ),
        pytest.param(lambda: _unsigned(_claims(kard_user="u")), id="alg-none"),
        pytest.param(lambda: _rs256(kard_user="u"), id="rs256-in-hs256"),
        pytest.param(lambda: jwt.encode(_claims(), HS_SECRET, "HS256"), id="no-user-claim"),
    ],
)
def test_hs256_mode_refuses(hs256_client, make_token):
    _assert_refused(_session(hs256_client, make_token()))


def test_jwks_outage_is_503_not_401(kard_url):
    app = create_app(
        {
            "KARD_API_URL": kard_url,
            "BFF_AUTH_MODE": "jwks",
            "BFF_JWKS_URL": "http://127.0.0.1:9/jwks.json",
        }
    )
    response = _session(app.test_client(), _rs256())
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_dev_session_round_trip():
    client = create_app({}).test_client()
    token = client.post("/dev/session", json={"userId": "sandbox-demo-new-customer"}).get_json()[
        "token"
    ]
    assert _session(client, token).get_json() == {
        "userId": "sandbox-demo-new-customer",
        "authMode": "dev",
    }


def test_dev_tokens_of_another_process_are_refused():
    other = create_app({}).test_client()
    token = other.post("/dev/session", json={"userId": "u"}).get_json()["token"]
    _assert_refused(_session(create_app({}).test_client(), token))


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"userId": ""}, 422), ({"userId": 7}, 422), ({"userId": "a\nb"}, 422)],
)
def test_dev_session_validates_the_user_id(body, status):
    response = create_app({}).test_client().post("/dev/session", json=body)
    assert response.status_code == status
    assert response.get_json()["errors"][0]["source"] == {"pointer": "/userId"}


def test_dev_session_does_not_exist_outside_sandbox(kard_url):
    app = create_app(
        {
            "KARD_ENV": "test",
            "KARD_API_URL": kard_url,
            "KARD_AUTH_URL": f"{kard_url}/v2/auth/token",
            "KARD_CLIENT_ID": "c",
            "KARD_CLIENT_SECRET": "s",
            "KARD_ORGANIZATION_ID": "org-sandbox",
            "BFF_AUTH_MODE": "hs256",
            "BFF_JWT_SECRET": HS_SECRET,
        }
    )
    response = app.test_client().post("/dev/session", json={"userId": "u"})
    assert response.status_code == 404


def test_a_remembered_token_is_still_refused_after_it_expires(hs256_client, monkeypatch):
    monkeypatch.setattr("bff.session.CLOCK_SKEW_SECONDS", 0)
    expires = int(time.time()) + 2
    token = jwt.encode(_claims(kard_user="u", exp=expires), HS_SECRET, "HS256")
    assert _session(hs256_client, token).status_code == 200
    assert _session(hs256_client, token).status_code == 200  # answered from memory
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    _assert_refused(_session(hs256_client, token))
