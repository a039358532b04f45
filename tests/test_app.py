"""The app as a whole: health, readiness, request IDs, one JSON error shape, CORS, logs."""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bff import create_app
from bff.extensions import kard
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
CLIENT_SECRET = "issuer-secret-7f3a9c"


@pytest.fixture
def app(kard_url):
    return create_app({"KARD_API_URL": kard_url, "KARD_CLIENT_SECRET": CLIENT_SECRET})


@pytest.fixture
def client(app):
    return app.test_client()


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_kard_gives_a_token(client):
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_kard_refuses_a_token(client, simulator):
    simulator.faults.inject(500, path=r"^/v2/auth/token$")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["errors"][0]["status"] == "503"


def test_embedded_sandbox_needs_no_network():
    """With no KARD_API_URL the BFF reaches its own mounted simulator in-process."""
    client = create_app({}).test_client()
    assert client.get("/readyz").status_code == 200
    token = client.post(
        "/sandbox/kard/v2/auth/token", json={"client_id": "a", "client_secret": "b"}
    )
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


def test_unexpected_exception_is_json_500_without_details(app, caplog):
    def explode():
        raise RuntimeError("internal detail that must not leak")

    app.add_url_rule("/explode", view_func=explode)
    response = app.test_client().get("/explode")
    error = _assert_json_error(response, 500)
    assert "internal detail" not in response.get_data(as_text=True)
    assert error["title"] == "Internal error"
    assert "RuntimeError" in caplog.text  # logged for operators


def test_cors_allows_only_configured_origins(kard_url):
    app = create_app({"KARD_API_URL": kard_url, "BFF_CORS_ORIGINS": "https://app.example.com"})
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
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        client_for_kard = kard()
        client_for_kard.offers("user-1", [("supportedComponents", "cta")])
        webview = client_for_kard.webview_token("user-1").body["access_token"]
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


def test_kard_bff_serve_runs_a_real_server(simulator, kard_url):
    """`kard-bff serve` (what `make run` starts) serves health, dev sessions and readiness."""
    port = free_port()
    env = {
        **os.environ,
        "KARD_API_URL": kard_url,
        "KARD_CLIENT_SECRET": CLIENT_SECRET,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bff.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base}/healthz")
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        token = httpx.post(f"{base}/dev/session", json={"userId": "u-1"}).json()["token"]
        session = httpx.get(f"{base}/api/v1/session", headers={"Authorization": f"Bearer {token}"})
        assert session.json()["userId"] == "u-1"
        assert httpx.get(f"{base}/readyz").status_code == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "GET /healthz" in output  # the access log
    for secret in [CLIENT_SECRET, *_bearer_tokens(simulator)]:
        assert secret not in output


def _wait_until_serving(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"nothing served {url} within {timeout} s")
