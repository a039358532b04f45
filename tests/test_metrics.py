"""`GET /metrics`: who may read it, what it counts, and that it sums every worker of a server."""

import os
import tempfile
import time
from pathlib import Path

import httpx
import jwt
import pytest

from bff.attributions.extension import delivery
from tests.scrapes import grew, samples, value
from tests.servers import ServerProcess

METRICS_TOKEN = "metrics-token-for-the-tests"
JWT_SECRET = "j" * 32
ATTRIBUTIONS = r"/attributions$"


def session_token(user_id: str) -> str:
    return jwt.encode({"sub": user_id, "exp": time.time() + 600}, JWT_SECRET, algorithm="HS256")


@pytest.fixture
def deployed(outside_sandbox) -> dict[str, str]:
    """A BFF outside the sandbox that shows its metrics to BFF_METRICS_TOKEN."""
    return {**outside_sandbox, "BFF_JWT_SECRET": JWT_SECRET, "BFF_METRICS_TOKEN": METRICS_TOKEN}


def scrape(client, token: str = METRICS_TOKEN) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.text


def test_outside_sandbox_metrics_need_the_token(make_app, outside_sandbox, deployed):
    closed = make_app(**outside_sandbox).test_client()
    assert closed.get("/metrics").status_code == 404  # no token set: no metrics
    client = make_app(**deployed).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.json["errors"][0]["status"] == "401"
        assert METRICS_TOKEN not in refused.text
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=0.0.4")


def test_the_sandbox_shows_them_to_anyone(client):
    assert client.get("/metrics").status_code == 200


def test_routes_are_url_rules_so_no_request_makes_a_new_series(client, as_user):
    headers = as_user("u-routes")
    before = client.get("/metrics").text
    for offer in ("o-1", "o-2", "o-3"):
        client.post(f"/api/v1/offers/{offer}/activate", headers=headers)
    for path in ("/no/such/path", "/another/one", "/api/v2/offers"):
        client.get(path)
    client.open("/api/v1/offers", method="BREW", headers=headers)
    after = client.get("/metrics").text

    requests = "kard_bff_http_requests_total"
    route = "/api/v1/offers/<offer_id>/<action>"
    assert grew(before, after, requests, route=route, method="POST") == 3
    assert grew(before, after, requests, route="unmatched", status="404") == 3
    assert grew(before, after, requests, method="other") == 1
    routes = {dict(labels).get("route") for _, labels in samples(after)}
    assert not {"/no/such/path", "/api/v1/offers/o-1/activate"} & routes


def test_kard_calls_are_counted_by_operation_and_status(client, as_user, simulator):
    headers = as_user("u-kard")
    client.get("/api/v1/offers", headers=headers)  # the token, then the offers
    before = client.get("/metrics").text
    simulator.faults.inject(503, path=r"/locations$", times=1)
    client.get("/api/v1/locations", headers=headers)  # a 503, retried once
    client.post("/api/v1/offers/o-1/activate", headers=headers)
    after = client.get("/metrics").text

    calls = "kard_bff_kard_requests_total"
    assert grew(before, after, calls, operation="get_locations", status="503") == 1
    assert grew(before, after, calls, operation="get_locations", status="200") == 1
    assert grew(before, after, calls, operation="activate_offer", status="400") == 1  # no offer
    assert value(after, "kard_bff_kard_token_fetches_total", status="200") >= 1
    assert value(after, "kard_bff_kard_request_duration_seconds_count", operation="get_offers") >= 1


def test_a_refused_token_request_is_a_token_fetch_failure(make_app, kard_url, simulator):
    client = make_app(KARD_API_URL=kard_url).test_client()
    before = value(client.get("/metrics").text, "kard_bff_kard_token_fetches_total", status="401")
    simulator.faults.inject(401, path=r"/v2/auth/token$", times=1)
    assert client.get("/readyz").status_code == 503
    after = value(client.get("/metrics").text, "kard_bff_kard_token_fetches_total", status="401")
    assert after == before + 1


def test_rate_limited_requests_are_counted(make_app, kard_url, as_user):
    client = make_app(KARD_API_URL=kard_url, BFF_RATE_LIMIT="2/minute").test_client()
    headers = as_user("u-limited", by=client)
    before = value(client.get("/metrics").text, "kard_bff_rate_limited_total", scope="user")
    statuses = [client.get("/api/v1/offers", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    after = value(client.get("/metrics").text, "kard_bff_rate_limited_total", scope="user")
    assert after == before + 2


def test_a_hundred_requests_to_two_workers_count_a_hundred(deployed, simulator, tmp_path):
    directory = tmp_path / "metrics"  # as an operator may name it; else the server makes one
    directory.mkdir()
    env = {**os.environ, **deployed, "BFF_STATE_DIR": str(tmp_path / "state")}
    env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    simulator.enroll("u-hundred")
    headers = {"Authorization": f"Bearer {session_token('u-hundred')}"}
    with ServerProcess(["serve", "--workers", "2"], env=env) as server:
        simulator.calls.clear()
        for _ in range(100):  # a connection each: the kernel spreads them over the workers
            assert httpx.get(f"{server.url}/api/v1/offers", headers=headers).status_code == 200
        text = httpx.get(
            f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        ).text
        writers = {path.name for path in directory.glob("counter_*.db")}

    assert len(writers) == 2, writers  # both workers counted: the scrape summed them
    offers = {"route": "/api/v1/offers", "method": "GET"}
    assert value(text, "kard_bff_http_requests_total", **offers, status="200") == 100
    assert value(text, "kard_bff_http_request_duration_seconds_count", **offers) == 100
    offer_calls = len(simulator.calls_to(r"/users/u-hundred/offers$"))
    token_calls = len(simulator.calls_to(r"/v2/auth/token$"))
    assert offer_calls == 100
    assert value(text, "kard_bff_kard_requests_total", operation="get_offers") == offer_calls
    assert value(text, "kard_bff_kard_requests_total", operation="token") == token_calls
    assert value(text, "kard_bff_kard_token_fetches_total") == token_calls


def test_the_outbox_gauges_of_another_process_follow_kard_down_and_back(
    make_app, deployed, simulator, state_dir, tmp_path
):
    # This process accepts the events; `kard-bff serve`, on the same state, reports them.
    accepting = make_app(**deployed)
    env = {**os.environ, **deployed, "BFF_STATE_DIR": str(state_dir)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    made_before = set(_metrics_directories())
    with ServerProcess(["serve", "--workers", "2"], env=env) as server:
        assert len(set(_metrics_directories()) - made_before) == 1  # the server made its own
        simulator.faults.inject(503, path=ATTRIBUTIONS)  # Kard is down for attributions
        events = [(index, _event(index)) for index in range(150)]
        simulator.enroll("u-outbox")
        outcome = delivery(accepting).send("u-outbox", events)
        assert outcome.queued == 150
        time.sleep(1.1)

        down = _scrape(server)
        assert value(down, "kard_bff_outbox_pending_events") == 150
        assert 1.0 <= value(down, "kard_bff_outbox_oldest_age_seconds") < 30

        simulator.faults.clear()  # Kard is back: the server's workers deliver what waits
        deadline = time.monotonic() + 20
        while (
            value(_scrape(server), "kard_bff_outbox_pending_events") and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        back = _scrape(server)
    assert value(back, "kard_bff_outbox_pending_events") == 0
    assert value(back, "kard_bff_outbox_oldest_age_seconds") == 0
    assert len(simulator.attribution_events("u-outbox")) == 150
    assert set(_metrics_directories()) <= made_before  # and removed it when it stopped


def _scrape(server: ServerProcess) -> str:
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    response = httpx.get(f"{server.url}/metrics", headers=headers)
    assert response.status_code == 200
    return response.text


def _event(number: int) -> dict:
    attributes = {
        "entityId": f"offer-{number:04d}",
        "eventCode": "IMPRESSION",
        "medium": "BROWSE",
        "eventDate": "2026-11-20T10:00:00Z",
    }
    return {"type": "offerAttribution", "attributes": attributes}


def _metrics_directories() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("kard-bff-metrics-*"))
