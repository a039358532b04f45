"""The app as a whole: health, readiness, request IDs, one JSON error shape, CORS, logs."""

import http.client
import logging
import os
import re
from urllib.parse import urlsplit

import flask
import httpx
import orjson
import pytest
from werkzeug.routing import Map

from bff.kard import KardClient
from bff.kard.extension import kard
from bff.mount import UNROUTED
from bff.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from tests.sandbox.helpers import CREDENTIALS
from tests.servers import ServerProcess, serve

CLIENT_SECRET = "issuer-secret-7f3a9c"


@pytest.fixture
def app(make_app, kard_url):
    return make_app(KARD_API_URL=kard_url, KARD_CLIENT_SECRET=CLIENT_SECRET)


@pytest.fixture
def served_kard(make_kard):
    """This module's Kard: a simulator that takes CLIENT_SECRET (served, with its URL)."""
    return make_kard(client_secret=CLIENT_SECRET)


@pytest.fixture
def simulator(served_kard):
    return served_kard[0]


@pytest.fixture
def kard_url(served_kard):
    return served_kard[1]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.openapi_exempt("/_test/session")
def test_no_response_sets_a_cookie_and_no_session_is_built_per_request(app, client, as_user):
    seen = []

    @app.get("/_test/session")
    def read_session():
        seen.append(flask.session._get_current_object())
        return {"session": dict(flask.session)}

    cookie = {"Cookie": "session=eyJ1c2VyIjoiYWRtaW4ifQ.forged"}
    answers = [
        client.get("/_test/session", headers=cookie),
        client.get("/_test/session"),
        client.get("/healthz", headers=cookie),
        client.get("/api/v1/offers", headers=as_user("user-1") | cookie),
        client.get("/api/v1/offers", headers=cookie),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 401]
    assert all("Set-Cookie" not in answer.headers for answer in answers)
    assert answers[0].get_json() == {"session": {}}
    assert seen[0] is seen[1]  # one shared empty session, not one built per request
    with pytest.raises(RuntimeError):
        seen[0]["user"] = "admin"


def test_index_page(client):
    with client.get("/") as response:
        assert response.status_code == 200
        assert b"<h1>kard-bff</h1>" in response.data


def test_readyz_when_kard_gives_a_token(client):
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_kard_refuses_a_token(client, simulator):
    simulator.faults.inject(500, path=r"^/v2/auth/token$")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["errors"][0]["status"] == "503"


def test_embedded_sandbox_needs_no_network(make_app):
    """With no KARD_API_URL the BFF reaches its own mounted simulator in-process."""
    client = make_app().test_client()
    assert client.get("/readyz").status_code == 200
    token = client.post("/sandbox/kard/v2/auth/token", json=CREDENTIALS)
    assert token.status_code == 200


def test_request_id_is_echoed_or_made(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\x01"}).headers["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/nowhere").headers["X-Request-ID"]


def _assert_json_error(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    (error,) = response.get_json()["errors"]
    assert error["status"] == str(status)
    assert error["title"]
    assert error["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return error


def test_unknown_path_is_json_404(client):
    _assert_json_error(client.get("/nowhere"), 404)


def test_wrong_method_is_json_405(client):
    response = client.delete("/healthz")
    _assert_json_error(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("body", [b"{", b"[1, 2", b"\xff\xfe", b"null x"])
def test_malformed_json_is_400_with_a_pointer(client, body):
    response = client.post("/dev/session", data=body, content_type="application/json")
    assert _assert_json_error(response, 400)["source"] == {"pointer": ""}


@pytest.mark.parametrize("body", [b"[]", b"42", b'"x"'])
def test_non_object_json_is_422(client, body):
    response = client.post("/dev/session", data=body, content_type="application/json")
    _assert_json_error(response, 422)


def test_too_large_body_is_json_413(client):
    response = client.post("/dev/session", data=b"x" * 1_000_001, content_type="application/json")
    _assert_json_error(response, 413)


@pytest.mark.openapi_exempt("/explode")
def test_unexpected_exception_is_json_500_without_details(app, caplog):
    def explode():
        raise RuntimeError("internal detail that must not leak")

    app.add_url_rule("/explode", view_func=explode)
    response = app.test_client().get("/explode")
    error = _assert_json_error(response, 500)
    assert "internal detail" not in response.get_data(as_text=True)
    assert error["title"] == "Internal error"
    assert "RuntimeError" in caplog.text  # logged for operators


def test_cors_allows_only_configured_origins(make_app, kard_url):
    app = make_app(KARD_API_URL=kard_url, BFF_CORS_ORIGINS="https://app.example.com")
    client = app.test_client()
    allowed = client.options(
        "/api/v1/session",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    other = client.get("/api/v1/session", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers["Vary"]


def _bearer_tokens(simulator) -> set[str]:
    tokens = set()
    for call in simulator.calls:
        scheme, _, token = call.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer" and token:
            tokens.add(token)
    return tokens


def test_logs_never_hold_the_client_secret_or_access_tokens(app, client, simulator, caplog):
    caplog.set_level(logging.DEBUG)
    simulator.enroll("user-1")
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        client_for_kard = kard()
        client_for_kard.offers("user-1", [("supportedComponents", "cta")])
        webview, _ = client_for_kard.webview_token("user-1")
        simulator.expire_access_tokens()  # forces a 401, a refresh and a retry
        client_for_kard.locations("user-1", [])
        simulator.faults.inject(503, path=r"/offers$")
        with pytest.raises(Exception, match="unavailable"):
            client_for_kard.offers("user-1", [])

    tokens = _bearer_tokens(simulator)
    assert len(tokens) == 2
    logged = caplog.text
    assert "kard GET /v2/issuers/{org}/users/{user}/offers -> 200" in logged
    for secret in [CLIENT_SECRET, webview, *tokens]:
        assert secret not in logged


def test_kard_bff_serve_runs_a_real_server(simulator, kard_url, tmp_path):
    """`kard-bff serve` (what `make run` starts) serves health, dev sessions and readiness."""
    env = {
        **os.environ,
        "KARD_API_URL": kard_url,
        "KARD_CLIENT_SECRET": CLIENT_SECRET,
        "BFF_STATE_DIR": str(tmp_path / "state"),
        "HOME": str(tmp_path),  # nothing may be written outside the state directory
    }
    env.pop("XDG_RUNTIME_DIR", None)
    with ServerProcess(["serve"], env=env) as server:
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
        token = httpx.post(f"{server.url}/dev/session", json={"userId": "u-1"}).json()["token"]
        session = httpx.get(
            f"{server.url}/api/v1/session", headers={"Authorization": f"Bearer {token}"}
        )
        assert session.json()["userId"] == "u-1"
        assert httpx.get(f"{server.url}/readyz").status_code == 200
    assert "GET /healthz" in server.output  # the access log
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state"]  # nothing outside it
    for secret in [CLIENT_SECRET, *_bearer_tokens(simulator)]:
        assert secret not in server.output


def test_kard_bff_sandbox_serves_the_simulator_alone():
    """`kard-bff sandbox` is a Kard for any client: the BFF's own Kard client works against it."""
    with ServerProcess(["sandbox"], env=dict(os.environ), health_path="/") as server:
        client = KardClient(
            api_url=server.url,
            token_url=f"{server.url}/v2/auth/token",
            client_id=SANDBOX_CLIENT_ID,
            client_secret=SANDBOX_CLIENT_SECRET,
            organization_id="org-sandbox",
        )
        offers = client.offers("sandbox-demo-new-customer", [("page[size]", "3")]).body
        client.close()
    assert len(offers["data"]) == 3


# Routing: every served path answers a wrong method with 405 and its Allow; nothing else is served.

WRONG_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# kard-bff's answer to the paths it does not serve; the CTA fallback, which serves only the forms
# Kard's answers carry (tests/test_offers_api.py); the simulator, which answers as Kard does.
FALLBACKS = (UNROUTED, "kard_bff.offers.follow_cta", "kard_simulator.")


def _sample_path(rule: str) -> str:
    """A concrete path for a URL rule: the first choice of an `any`, "abc123" for any other part."""
    return re.sub(r"<[^>]+>", "abc123", re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule))


def _served_paths(app) -> dict[str, set[str]]:
    """Each BFF route's sample path, with the methods Werkzeug alone would allow for it."""
    own = [rule for rule in app.url_map.iter_rules() if not rule.endpoint.startswith(FALLBACKS)]
    werkzeug_alone = Map([rule.empty() for rule in own]).bind("localhost")
    return {
        _sample_path(rule.rule): set(werkzeug_alone.allowed_methods(_sample_path(rule.rule)))
        for rule in own
    }


def _allow(response) -> set[str]:
    return {method.strip() for method in response.headers["Allow"].split(",")}


def test_every_served_path_answers_a_wrong_method_with_405_and_allow(app, client, simulator):
    served = _served_paths(app)
    assert {"/api/v1/offers/abc123/activate", "/api/v1/offers", "/healthz"} <= served.keys()
    for path, allowed in served.items():
        for method in set(WRONG_METHODS) - allowed:
            response = client.open(path, method=method)
            assert response.status_code == 405, (method, path, response.status_code)
            assert _allow(response) == allowed, (method, path)
            if method != "HEAD":
                _assert_json_error(response, 405)
        assert _allow(client.options(path)) >= allowed
    assert simulator.calls == []


@pytest.mark.parametrize("path", ["/api/v1/nowhere", "/api/v1/offers/abc123", "/api/v1/a/b/c"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_unknown_api_paths_are_404_with_or_without_a_session(
    client, as_user, simulator, path, method
):
    for headers in ({}, as_user("u-1")):
        _assert_json_error(client.open(path, method=method, headers=headers), 404)
    assert not simulator.calls_to(r"^/v2/issuers/[^/]+/users/")  # only /dev/session's enrolment


ODD_PATHS = [
    "//",
    "///healthz",
    "/api/v1//x",
    "/api/v1//offers",
    "/api/v1/offers/",
    "/api/v1/offers//abc123/activate",
    "/healthz/",
    "/theme-studio/",
    "/sandbox/kard",
    "/%2e%2e/",
    "/static/",
    "/static//site.css",
    "/static/../bff/__init__.py",
    "/static/%2e%2e/__init__.py",
    "/" + "a" * 8000,
    "/api/v1/" + "x/" * 2000,
]


@pytest.mark.parametrize("path", ODD_PATHS, ids=lambda path: path[:40])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_odd_paths_get_json_never_a_werkzeug_page(make_app, path, method):
    response = make_app().test_client().open(path, method=method)
    assert response.mimetype != "text/html"
    if response.status_code != 200:
        assert 400 <= response.status_code < 500
        _assert_json_error(response, response.status_code)


# Body limits hold however a body is framed: a chunked body has no Content-Length to check.

ONE_MB = 1_000_000
BODY_ENDPOINTS = ["/dev/session", "/api/v1/themes/encode", "/webhooks/kard"]


@pytest.fixture(params=["werkzeug", "kard-bff serve"])
def bff_server(request, make_app, kard_url, state_dir):
    """A real HTTP server for the BFF: Werkzeug's in a thread, or `kard-bff serve` (granian)."""
    config = {
        "KARD_API_URL": kard_url,
        "KARD_CLIENT_SECRET": CLIENT_SECRET,
        "KARD_WEBHOOK_KEY": "webhook-key-1",
        "BFF_STATE_DIR": str(state_dir),
    }
    if request.param == "werkzeug":
        with serve(make_app(**config)) as url:
            yield url
    else:
        with ServerProcess(["serve"], env={**os.environ, **config}) as server:
            yield server.url


def _post_chunked(base_url: str, path: str, body: bytes) -> tuple[int, dict]:
    """POST `body` with Transfer-Encoding: chunked (no Content-Length), as http.client does."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    chunks = (body[start : start + 65_536] for start in range(0, len(body), 65_536))
    connection.request("POST", path, body=chunks, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.status, orjson.loads(response.read())
    connection.close()
    return answer


def test_a_chunked_body_over_one_megabyte_is_413_on_every_body_endpoint(bff_server):
    too_large = orjson.dumps({"userId": "x" * ONE_MB})
    for path in BODY_ENDPOINTS:
        status, body = _post_chunked(bff_server, path, too_large)
        assert status == 413, (path, body)
        assert body["errors"][0]["detail"] == "The request body is too large."
    status, body = _post_chunked(bff_server, "/dev/session", b'{"userId": "u-1"}')
    assert status == 200 and body["token"]  # a chunked body of a sane size is read whole
