"""`BFF_LOG_FORMAT=json` under `kard-bff serve`: every line one JSON object, a request's lines
under its `request_id`, and no secret, token, signature or raw user ID in any of them."""

import json
import os
import time

import httpx
import jwt
import orjson
import pytest

from bff.webhooks.signature import sign
from tests.servers import ServerProcess
from tests.test_webhooks import payload

JWT_SECRET = "json-logs-jwt-secret-0123456789abcdef"
CLIENT_SECRET = "json-logs-client-secret-42"
WEBHOOK_KEY = "json-logs-webhook-key-0123456789"
METRICS_TOKEN = "json-logs-metrics-token-0123456789"
USER = "user-7f3a9c-json-logs"


@pytest.fixture
def kard(make_kard):
    """A Kard of this module's own (simulator, URL): it takes CLIENT_SECRET; USER is enrolled."""
    simulator, url = make_kard(client_secret=CLIENT_SECRET)
    simulator.enroll(USER)
    return simulator, url


@pytest.fixture
def server(outside_sandbox, kard, tmp_path):
    url = kard[1]
    env = {
        **os.environ,
        **outside_sandbox,
        "KARD_API_URL": url,
        "KARD_AUTH_URL": f"{url}/v2/auth/token",
        "KARD_CLIENT_SECRET": CLIENT_SECRET,
        "BFF_JWT_SECRET": JWT_SECRET,
        "KARD_WEBHOOK_KEY": WEBHOOK_KEY,
        "BFF_METRICS_TOKEN": METRICS_TOKEN,
        "BFF_LOG_FORMAT": "json",
        "BFF_STATE_DIR": str(tmp_path / "state"),
    }
    server = ServerProcess(["serve", "--workers", "2"], env=env)
    with server:
        yield server


def test_every_line_is_json_and_carries_no_secret(server, kard):
    simulator = kard[0]
    session = jwt.encode({"sub": USER, "exp": time.time() + 600}, JWT_SECRET, algorithm="HS256")
    secrets = {JWT_SECRET, CLIENT_SECRET, WEBHOOK_KEY, METRICS_TOKEN, session, USER}
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {session}"})

    webview = http.post("/api/v1/webview/session", json={"themeName": "branding"}).json()
    secrets.add(webview["token"])
    offers = http.get("/api/v1/offers", params={"page[size]": "5"}).json()
    offer_id = offers["data"][0]["id"]
    requests = [
        ("GET", "/healthz", None),
        ("GET", "/readyz", None),
        ("POST", "/api/v1/webview/token", None),
        ("GET", "/api/v1/locations", None),
        ("POST", f"/api/v1/offers/{offer_id}/activate", None),
        ("POST", f"/api/v1/offers/{offer_id}/boost", None),
        ("POST", f"/api/v1/offers/{offer_id}/view", {}),
        ("POST", "/api/v1/attributions", {"data": [_event(offer_id)]}),
        ("GET", "/api/v1/rewards", None),
        ("POST", "/api/v1/audits", {"data": [_audit()]}),
        ("GET", "/api/v1/themes", None),
        ("GET", "/api/v1/themes/branding", None),
        ("POST", "/api/v1/themes/encode", {"theme": "dark"}),
        ("POST", "/api/v1/themes/decode", {"url": webview["url"]}),
        ("GET", "/", None),
        ("GET", "/theme-studio", None),
        ("GET", f"/embed?token={webview['token']}", None),
    ]
    for method, path, body in requests:
        assert http.request(method, path, json=body).status_code < 500, path
    signed = _signed_cta(http, simulator, offer_id)  # a CTA of Kard's own, served by its sig
    secrets.add(signed.partition("sig=")[2])
    assert http.post(signed).status_code == 404  # the simulator knows no renew: Kard's 404
    assert http.get("/api/v1/offers", headers={"Authorization": "Bearer forged"}).status_code == 401
    notification = orjson.dumps(payload(notification_id="n-json-logs"))
    signature = sign(WEBHOOK_KEY, notification)
    secrets.add(signature)
    webhook = httpx.post(
        f"{server.url}/webhooks/kard", content=notification, headers={"notify-signature": signature}
    )
    assert webhook.status_code == 200
    metrics = httpx.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert metrics.status_code == 200
    # A request that logs lines of its own: Kard fails it, and the client says so.
    simulator.faults.inject(503, path=r"/earned-rewards$")
    failed = http.get("/api/v1/rewards", headers={"X-Request-ID": "req-json-logs-1"})
    assert failed.status_code == 503 and failed.headers["X-Request-ID"] == "req-json-logs-1"
    simulator.faults.clear()
    secrets |= {
        call.headers["Authorization"].partition(" ")[2]
        for call in simulator.calls
        if call.headers.get("Authorization", "").startswith("Bearer ")
    }
    http.close()
    time.sleep(0.5)  # the access log's thread writes its last lines
    server.stop()

    lines = [line for line in server.output.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses
    assert all({"time", "level", "logger", "message", "request_id"} <= r.keys() for r in records)
    for secret in secrets:
        leaked = [line for line in lines if secret in line]
        assert not leaked, f"{secret[:12]}... is logged: {leaked[:2]}"

    mine = [r for r in records if r["request_id"] == "req-json-logs-1"]
    assert {r["logger"] for r in mine} >= {"bff.access", "bff.kard.client"}
    [access] = [r for r in mine if r["logger"] == "bff.access"]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api/v1/rewards", 503)
    assert access["user"] and access["user"] != USER  # the user, by a keyed hash
    embed = next(r for r in records if r.get("path", "").startswith("/embed"))
    assert embed["path"] == "/embed?token=***"


def _signed_cta(http: httpx.Client, simulator, offer_id: str) -> str:
    """The signed URL kard-bff hands out for a CTA Kard emits beyond activate and boost."""
    kard_path = f"/v2/issuers/org-sandbox/users/{USER}/offers/{offer_id}/renew"
    cta = {"buttonText": "Renew", "action": {"url": kard_path, "method": "POST"}}
    offer = {"type": "standardOffer", "id": offer_id, "attributes": {"components": {"cta": cta}}}
    simulator.faults.inject(200, body={"data": [offer]}, times=1, path=r"/offers$")
    answer = http.get("/api/v1/offers").json()
    url = answer["data"][0]["attributes"]["components"]["cta"]["action"]["url"]
    assert "sig=" in url
    return url


def _event(offer_id: str) -> dict:
    attributes = {"entityId": offer_id, "eventCode": "IMPRESSION", "medium": "BROWSE"}
    return {"type": "offerAttribution", "attributes": attributes}


def _audit() -> dict:
    attributes = {
        "auditCode": 3005,
        "merchantName": "Old Navy",
        "auditDescription": "My cashback is missing",
        "transactionId": "txn-json-logs",
    }
    return {"type": "audit", "attributes": attributes}
