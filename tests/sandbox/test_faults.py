"""Fault injection, the call log, and the HTTP control surface (faults, calls, tokens, reset)."""

import time

import httpx
import pytest

from bff.sandbox import Simulator
from tests.sandbox.helpers import (
    CREDENTIALS,
    CTA_MODE,
    USER,
    assert_error,
    event,
    find_offer,
    needs_activation,
    user_path,
)


def test_fault_status_with_retry_after_for_limited_times(
    api: httpx.Client, simulator: Simulator
) -> None:
    simulator.faults.inject(503, retry_after=7, times=2, path=r"/offers$")
    for _ in range(2):
        response = api.get(user_path(USER, "offers"))
        assert_error(response, 503)
        assert response.headers["Retry-After"] == "7"
    assert api.get(user_path(USER, "offers")).status_code == 200
    assert [call.status for call in simulator.calls_to(r"/offers$")] == [503, 503, 200]


def test_a_fault_every_second_request_fails_half_of_them(
    api: httpx.Client, simulator: Simulator
) -> None:
    simulator.faults.inject(503, every=2, path=r"/offers$")
    statuses = [api.get(user_path(USER, "offers")).status_code for _ in range(6)]
    assert statuses == [200, 503] * 3
    assert api.get(user_path(USER, "locations")).status_code == 200  # not matched, not counted
    assert api.get(user_path(USER, "offers")).status_code == 200


def test_fault_filters_by_path_and_method(api: httpx.Client, simulator: Simulator) -> None:
    simulator.faults.inject(500, path=r"/locations$", method="GET")
    assert api.get(user_path(USER, "offers")).status_code == 200
    assert_error(api.get(user_path(USER, "locations")), 500)
    assert_error(api.get(user_path(USER, "locations")), 500)
    simulator.faults.inject(429, method="POST", body={"message": "slow down"})
    response = api.post(user_path(USER, "attributions"), json={"data": [event("o")]})
    assert response.status_code == 429 and response.json() == {"message": "slow down"}
    simulator.faults.clear()
    assert api.get(user_path(USER, "locations")).status_code == 200


def test_fault_delay_slows_the_real_answer(api: httpx.Client, simulator: Simulator) -> None:
    simulator.faults.inject(delay=0.3, times=1, path=r"/offers$")
    started = time.monotonic()
    assert api.get(user_path(USER, "offers")).status_code == 200
    assert time.monotonic() - started >= 0.3
    simulator.faults.inject(delay=0.5, times=1)
    with pytest.raises(httpx.ReadTimeout):
        api.get(user_path(USER, "offers"), timeout=0.1)


def test_fault_on_token_endpoint(client: httpx.Client, simulator: Simulator) -> None:
    simulator.faults.inject(500, path=r"^/v2/auth/token$", times=1)
    body = CREDENTIALS
    assert_error(client.post("/v2/auth/token", json=body), 500)
    assert client.post("/v2/auth/token", json=body).status_code == 200


def test_calls_are_recorded(api: httpx.Client, simulator: Simulator) -> None:
    api.get(user_path(USER, "offers") + "?sort=name&page[size]=2&sort=-name")
    api.post(user_path(USER, "attributions"), json={"data": [event("o")]})
    api.get(user_path(USER, "offers"), headers={"Authorization": "Bearer nope"})
    token_call, offers_call, attribution_call, rejected = simulator.calls
    assert (token_call.method, token_call.path, token_call.status) == (
        "POST",
        "/v2/auth/token",
        200,
    )
    assert offers_call.query == [("sort", "name"), ("page[size]", "2"), ("sort", "-name")]
    assert offers_call.json is None and offers_call.headers["Authorization"].startswith("Bearer ")
    assert attribution_call.json == {"data": [event("o")]} and attribution_call.status == 202
    assert rejected.status == 401
    assert simulator.calls_to(r"/offers$", method="GET") == [offers_call, rejected]
    assert simulator.calls_to(r"/offers$", method="POST") == []


def test_http_control_surface(api: httpx.Client, simulator: Simulator) -> None:
    fault = {"status": 502, "retryAfter": 3, "times": 1, "path": "/earned-rewards$"}
    assert api.post("/_sandbox/faults", json=fault).status_code == 201
    response = api.get(user_path(USER, "earned-rewards"))
    assert response.status_code == 502 and response.headers["Retry-After"] == "3"
    assert_error(api.post("/_sandbox/faults", json={"status": 42}), 400)
    assert_error(api.post("/_sandbox/faults", json={"colour": "red"}), 400)
    api.post("/_sandbox/faults", json={"status": 500})
    assert api.delete("/_sandbox/faults").status_code == 204
    assert api.get(user_path(USER, "offers")).status_code == 200
    calls = api.get("/_sandbox/calls").json()["data"]
    assert [(c["method"], c["status"]) for c in calls] == [
        ("POST", 200),
        ("GET", 502),
        ("GET", 200),
    ]
    # Credentials never go back out through the control surface.
    assert calls[0]["json"]["client_secret"] == "[redacted]"
    assert {c["headers"]["Authorization"] for c in calls[1:]} == {"[redacted]"}
    assert api.post("/_sandbox/expire-tokens").status_code == 204
    assert_error(api.get(user_path(USER, "offers")), 401)
    assert api.post("/_sandbox/reset").status_code == 204
    assert simulator.calls == []


def test_reset_clears_user_state(api: httpx.Client, simulator: Simulator) -> None:
    offer = find_offer(api, needs_activation, **CTA_MODE)
    api.post(user_path(USER, f"offers/{offer['id']}/activate"))
    simulator.faults.inject(500, path="nothing-matches")
    simulator.reset()
    assert simulator.attribution_events(USER) == [] and simulator.calls == []
    simulator.enroll(USER)  # a reset unenrolls every user but the personas
    token = api.post("/v2/auth/token", json=CREDENTIALS).json()
    api.headers["Authorization"] = f"Bearer {token['access_token']}"
    assert needs_activation(find_offer(api, lambda o: o["id"] == offer["id"], **CTA_MODE))


@pytest.mark.parametrize(
    "path",
    [
        "/v2/issuers/org-sandbox/transactions/uploads",
        "/v2/issuers/org-sandbox/subscriptions",
        f"/v2/issuers/org-sandbox/users/{USER}/attributions",
        f"/v2/issuers/org-sandbox/users/{USER}/audits",
    ],
)
def test_json_nested_too_deep_is_a_400_not_a_crash(api: httpx.Client, path: str) -> None:
    body = b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"pointer": "/data"}
