"""App-session authentication in each mode, over HTTP; every bad token is a 401."""

import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify
from flask.testing import FlaskClient

from bff.session import CLOCK_SKEW_SECONDS
from tests.servers import serve

ISSUER = "https://issuer.example.com"
AUDIENCE = "kard-bff"
HS_SECRET = "an-hs256-secret-of-at-least-32-bytes!"
JWKS_CACHE_SECONDS = 300  # the README: "Keys are cached for five minutes"
JWKS_REFETCH_SECONDS = 10  # unknown kids fetch the JWKS again at most this often


def _rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEYS = {"k1": _rsa_key(), "k2": _rsa_key(), "k3": _rsa_key()}


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
        self.broken_body: str | None = None  # answered instead of the keys when set
        self.fetches = 0
        self.app = Flask("jwks")
        self.app.get("/jwks.json")(self.jwks)

    def jwks(self):
        self.fetches += 1
        if self.broken_body is not None:
            return Response(self.broken_body, mimetype="application/json")
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


JWKS = {
    "BFF_AUTH_MODE": "jwks",
    "BFF_JWT_ISSUER": ISSUER,
    "BFF_JWT_AUDIENCE": AUDIENCE,
}
HS256 = {
    "BFF_AUTH_MODE": "hs256",
    "BFF_JWT_SECRET": HS_SECRET,
    "BFF_JWT_ISSUER": ISSUER,
    "BFF_JWT_AUDIENCE": AUDIENCE,
    "BFF_USER_CLAIM": "kard_user",
}


@pytest.fixture
def jwks_client(make_app, jwks_server, kard_url, clock):
    """A jwks-mode app on the test's clock: its verifier's caches and checks run on it."""
    app = make_app(KARD_API_URL=kard_url, BFF_JWKS_URL=jwks_server.url, clock=clock, **JWKS)
    return app.test_client()


@pytest.fixture
def hs256_client(make_app, kard_url, clock):
    """An hs256-mode app on the test's clock."""
    return make_app(KARD_API_URL=kard_url, clock=clock, **HS256).test_client()


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
    "authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"]
)
def test_missing_or_malformed_authorization_is_401(jwks_client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    _assert_refused(jwks_client.get("/api/v1/session", headers=headers))


def test_jwks_keys_are_cached_and_refreshed_on_unknown_kid(jwks_client, jwks_server, clock):
    assert _session(jwks_client, _rs256()).status_code == 200
    assert _session(jwks_client, _rs256(sub="user-2")).status_code == 200
    assert jwks_server.fetches == 1
    jwks_server.published = ["k1", "k2"]  # the issuer rotates in a new key
    # Right after a fetch, unknown kids cannot make the BFF hammer the issuer's JWKS endpoint.
    for _ in range(3):
        _assert_refused(_session(jwks_client, _rs256(kid="k2")))
    assert jwks_server.fetches == 1
    clock.advance(JWKS_REFETCH_SECONDS)
    assert _session(jwks_client, _rs256(kid="k2")).status_code == 200
    assert jwks_server.fetches == 2


def test_a_key_withdrawn_from_the_jwks_stops_working_within_five_minutes(
    jwks_client, jwks_server, clock
):
    early, late = _rs256(), _rs256(sub="user-2")
    assert _session(jwks_client, early).status_code == 200
    assert jwks_server.fetches == 1
    clock.advance(JWKS_CACHE_SECONDS - 10)
    assert _session(jwks_client, late).status_code == 200  # verified late in the key set's life
    jwks_server.published = ["k2"]  # the issuer withdraws k1
    clock.advance(9)
    assert _session(jwks_client, early).status_code == 200  # the key set is still fresh
    assert jwks_server.fetches == 1
    clock.advance(1)  # five minutes after the key set was fetched, so at most after k1 left it
    for token in (early, late):
        response = _session(jwks_client, token)
        _assert_refused(response)
        assert "not published" in response.get_json()["errors"][0]["detail"]
    assert jwks_server.fetches == 2

    clock.advance(JWKS_REFETCH_SECONDS)
    jwks_server.published = ["k2", "k3"]  # a new key works at once, without waiting the window
    assert _session(jwks_client, _rs256(kid="k3")).status_code == 200
    assert jwks_server.fetches == 3


def test_a_clock_set_back_does_not_freeze_the_jwks(jwks_client, jwks_server, clock):
    assert _session(jwks_client, _rs256()).status_code == 200
    clock.advance(-3600)  # the system clock is corrected by an hour
    jwks_server.published = ["k1", "k2"]
    issued = int(clock.now)  # by an issuer whose clock agrees with the corrected one
    assert _session(jwks_client, _rs256(kid="k2", iat=issued, exp=issued + 600)).status_code == 200
    assert jwks_server.fetches == 2


@pytest.mark.parametrize(
    "body", ["not json", "[]", '{"keys": "k1"}', '{"keys": []}', '{"keys": [{"kty": "nope"}]}']
)
def test_a_broken_jwks_is_503_not_401_or_500(jwks_client, jwks_server, clock, body):
    jwks_server.broken_body = body
    response = _session(jwks_client, _rs256())
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    clock.advance(1)
    assert _session(jwks_client, _rs256()).status_code == 503
    assert jwks_server.fetches == 1  # a failed fetch is not retried at once by every request
    jwks_server.broken_body = None
    clock.advance(JWKS_REFETCH_SECONDS)
    assert _session(jwks_client, _rs256()).status_code == 200


def test_hs256_mode_reads_the_configured_user_claim(hs256_client):
    token = jwt.encode(_claims(kard_user="kard-42"), HS_SECRET, algorithm="HS256")
    assert _session(hs256_client, token).get_json()["userId"] == "kard-42"


def test_jwks_outage_is_503_not_401(make_app, kard_url):
    app = make_app(
        KARD_API_URL=kard_url, BFF_AUTH_MODE="jwks", BFF_JWKS_URL="http://127.0.0.1:9/jwks.json"
    )
    response = _session(app.test_client(), _rs256())
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_a_remembered_token_is_still_refused_after_it_expires(hs256_client, clock, monkeypatch):
    monkeypatch.setattr("bff.session.CLOCK_SKEW_SECONDS", 0)
    issued = int(clock.now)
    expires = issued + 2
    token = jwt.encode(_claims(kard_user="u", iat=issued, exp=expires), HS_SECRET, "HS256")
    assert _session(hs256_client, token).status_code == 200
    clock.advance(1)
    assert _session(hs256_client, token).status_code == 200  # answered from memory
    clock.now = expires  # `exp` is the first moment the token is no longer valid
    _assert_refused(_session(hs256_client, token))


def test_nbf_and_exp_are_checked_on_the_verifiers_clock(hs256_client, clock):
    issued = int(clock.now)
    soon = issued + 3600
    token = jwt.encode(
        _claims(kard_user="u", iat=issued, nbf=soon, exp=soon + 600), HS_SECRET, "HS256"
    )
    assert "not valid yet" in _session(hs256_client, token).get_json()["errors"][0]["detail"]
    clock.now = soon
    assert _session(hs256_client, token).status_code == 200
    clock.now = soon + 600 + CLOCK_SKEW_SECONDS
    assert "has expired" in _session(hs256_client, token).get_json()["errors"][0]["detail"]


@dataclass
class Mode:
    """One auth mode's app, and how to sign tokens its verifier accepts (or nearly)."""

    client: FlaskClient
    key: Any
    stranger_key: Any  # the same kind of key, but not the one the verifier trusts
    algorithm: str
    issuer: str
    audience: str
    user_claim: str
    headers: dict[str, str] = field(default_factory=dict)

    def token(self, *, key: Any = None, headers: dict[str, str] | None = None, **changes) -> str:
        """A token as this mode's issuer signs it, with claims changed (`None` drops one)."""
        now = int(time.time())
        claims = {
            self.user_claim: "user-1",
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + 600,
            **changes,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(
            claims,
            key if key is not None else self.key,
            algorithm=self.algorithm,
            headers=self.headers if headers is None else headers,
        )


@pytest.fixture
def make_mode(make_app, jwks_server, kard_url, state_dir):
    configs = {"jwks": {**JWKS, "BFF_JWKS_URL": jwks_server.url}, "hs256": HS256, "dev": {}}

    def make(name: str) -> Mode:
        client = make_app(KARD_API_URL=kard_url, **configs[name]).test_client()
        if name == "jwks":
            return Mode(
                client, KEYS["k1"], _rsa_key(), "RS256", ISSUER, AUDIENCE, "sub", {"kid": "k1"}
            )
        if name == "hs256":
            return Mode(client, HS_SECRET, "x" * 40, "HS256", ISSUER, AUDIENCE, "kard_user")
        dev_key = (state_dir / "dev-session.key").read_bytes()  # the key the sandbox keeps
        return Mode(client, dev_key, b"x" * 32, "HS256", "kard-bff-dev", "kard-bff", "sub")

    return make


ALL_MODES = ("jwks", "hs256", "dev")
# (reason, the modes where it can happen, how to make such a token, what the 401 says)
REFUSALS = [
    ("bad-signature", ALL_MODES, lambda m: m.token(key=m.stranger_key), "signature"),
    ("expired", ALL_MODES, lambda m: m.token(exp=int(time.time()) - 3600), "has expired"),
    (
        "alg-none",
        ALL_MODES,
        lambda m: jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, None, "none"),
        "algorithm",
    ),
    (
        "hs256-in-jwks",
        ("jwks",),
        lambda m: m.token(key=HS_SECRET, headers={"alg": "HS256"}),
        "algorithm",
    ),
    ("rs256-in-hmac", ("hs256", "dev"), lambda m: _rs256(), "algorithm"),
    ("no-exp", ALL_MODES, lambda m: m.token(exp=None), "no 'exp' claim"),
    ("no-user", ALL_MODES, lambda m: m.token(**{m.user_claim: None}), "no '{user_claim}' claim"),
    ("wrong-iss", ALL_MODES, lambda m: m.token(iss="https://evil.example.com"), "'iss'"),
    ("no-iss", ALL_MODES, lambda m: m.token(iss=None), "no 'iss' claim"),
    ("wrong-aud", ALL_MODES, lambda m: m.token(aud="someone-else"), "'aud'"),
    ("not-yet-valid", ALL_MODES, lambda m: m.token(nbf=int(time.time()) + 3600), "not valid yet"),
    (
        "unknown-kid",
        ("jwks",),
        lambda m: m.token(key=m.stranger_key, headers={"kid": "k9"}),
        "not published",
    ),
    ("no-kid", ("jwks",), lambda m: m.token(headers={}), "not published"),
    (
        "public-key-as-hmac-secret",
        ("jwks",),
        lambda m: _forged_with_public_key_as_hmac_secret(),
        "algorithm",
    ),
    ("empty-user", ALL_MODES, lambda m: m.token(**{m.user_claim: " "}), "'{user_claim}'"),
    ("non-string-user", ALL_MODES, lambda m: m.token(**{m.user_claim: 42}), "'{user_claim}'"),
    ("exp-infinity", ALL_MODES, lambda m: m.token(exp=math.inf), "malformed"),
    ("exp-text", ALL_MODES, lambda m: m.token(exp="tomorrow"), "malformed"),
    ("nbf-nan", ALL_MODES, lambda m: m.token(nbf=math.nan), "malformed"),
    ("malformed", ALL_MODES, lambda m: "not.a.jwt", "malformed"),
    ("two-parts", ALL_MODES, lambda m: "eyJhbGciOiJIUzI1NiJ9.e30", "malformed"),
]


@pytest.mark.parametrize("mode_name", ALL_MODES)
def test_a_token_that_expires_in_a_googol_years_is_no_500(make_mode, mode_name):
    mode = make_mode(mode_name)
    response = _session(mode.client, mode.token(exp=10**400))
    assert response.status_code == 200  # the issuer signed it: its choice


@pytest.mark.parametrize(
    ("mode_name", "make_token", "says"),
    [
        pytest.param(mode, make_token, says, id=f"{mode}-{reason}")
        for reason, modes, make_token, says in REFUSALS
        for mode in modes
    ],
)
def test_a_refused_token_is_told_why_without_echoing_it(make_mode, mode_name, make_token, says):
    mode = make_mode(mode_name)
    token = make_token(mode)
    response = _session(mode.client, token)
    _assert_refused(response)
    detail = response.get_json()["errors"][0]["detail"]
    assert says.format(user_claim=mode.user_claim) in detail
    challenge = f'Bearer error="invalid_token", error_description="{detail}"'
    assert response.headers["WWW-Authenticate"] == challenge
    assert challenge.isascii() and "\\" not in detail and '"' not in detail
    # The request ID is random hex: a token part as short as "e30" could turn up in it by chance.
    headers = [(name, value) for name, value in response.headers if name != "X-Request-ID"]
    everything = response.get_data(as_text=True) + str(headers)
    for secret in (token, token.rpartition(".")[2] or token):
        assert secret not in everything
