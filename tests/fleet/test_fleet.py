"""The fleet behaves as one service: one Kard token, one WebView token per user, CTA URLs any
instance serves, rate limits counted once, a notification handed on once, nothing accepted lost
when an instance is killed or Redis stops."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.fleet.harness import signed_notification

TOKEN_CALLS = r"^/v2/auth/token$"
WEBVIEW_TOKEN_CALLS = r"^/v2/auth/issuers/[^/]+/users/[^/]+/token$"
OFFER_ID = "5e27318c9b346f00087fbb5c"


def at_once(calls, workers: int | None = None):
    """Run the callables in threads that start together; their results, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(workers or len(calls)) as pool:
        return list(pool.map(run, calls))


def test_requests_through_nginx_reach_every_instance_in_turn(kard):
    with httpx.Client(base_url=kard.url) as client:  # one connection: one nginx worker's turns
        answers = [
            client.get("/healthz", params={"smoke": n}, headers={"X-Request-ID": f"smoke-{n}"})
            for n in range(30)
        ]
    assert [a.status_code for a in answers] == [200] * 30
    assert [a.headers["X-Request-ID"] for a in answers] == [f"smoke-{n}" for n in range(30)]
    assert kard.served("/healthz?smoke=", 30) == [10, 10, 10]


def test_the_fleet_asks_kard_for_one_token_and_one_refresh(kard):
    kard.flush_redis()
    kard.restart_all()  # no process holds a token
    kard.reset()

    def first_requests(numbers):
        # Each user is enrolled before the burst, so that only the requests race. A thread that
        # also called the simulator could be starved for more than the servers' header timeout
        # under load, and its connection closed before it sent a request (slow-client defence).
        users = [kard.headers(f"first-{n}") for n in numbers]
        url = f"{kard.url}/api/v1/offers"
        return [
            lambda headers=headers: httpx.get(url, headers=headers, timeout=60) for headers in users
        ]

    answers = at_once(first_requests(range(200)))
    assert Counter(a.status_code for a in answers) == {200: 200}
    assert len(kard.calls(TOKEN_CALLS)) == 1

    kard.control("POST", "expire-tokens")
    answers = at_once(first_requests(range(200, 400)))
    assert Counter(a.status_code for a in answers) == {200: 200}
    assert len(kard.calls(TOKEN_CALLS)) == 2  # one refresh for the whole fleet


def test_a_users_webview_token_is_minted_once_for_the_fleet(kard):
    headers = kard.headers("webview-user")
    answers = at_once(
        [
            lambda: httpx.post(f"{kard.url}/api/v1/webview/token", headers=headers, timeout=60)
            for _ in range(30)
        ]
    )
    assert Counter(a.status_code for a in answers) == {200: 30}
    assert len({a.json()["token"] for a in answers}) == 1
    assert len(_minted(kard)) == 1
    other = httpx.post(f"{kard.url}/api/v1/webview/token", headers=kard.headers("webview-other"))
    assert other.json()["token"] != answers[0].json()["token"]
    assert len(_minted(kard)) == 2


def _minted(kard):
    # The simulator's reset revoked the fleet's access token: its one 401 and refresh aside.
    return [call for call in kard.calls(WEBVIEW_TOKEN_CALLS) if call["status"] == 200]


def _renew_url(kard, instance, user):
    renew = {
        "action": {
            "url": f"/v2/issuers/org-sandbox/users/{user}/offers/{OFFER_ID}/renew",
            "method": "POST",
        }
    }
    body = {"data": [{"id": OFFER_ID, "attributes": {"components": {"cta": renew}}}]}
    kard.control(
        "POST", "faults", json={"status": 200, "body": body, "times": 1, "path": "/offers$"}
    )
    page = httpx.get(f"{instance.url}/api/v1/offers", headers=kard.headers(user)).json()
    return page["data"][0]["attributes"]["components"]["cta"]["action"]["url"]


def test_a_cta_url_one_instance_emits_the_others_serve_after_restarts_too(kard):
    user = "cta-user"
    headers = kard.headers(user)
    url = _renew_url(kard, kard.instances[0], user)
    for instance in kard.instances[1:]:
        answer = httpx.post(f"{instance.url}{url}", headers=headers)
        assert answer.status_code == 404  # Kard's: the simulator has no renew
        assert answer.json()["errors"][0]["title"] != "Not found"
    assert len(kard.calls(r"/renew$")) == 2

    kard.restart_all()
    assert httpx.post(f"{kard.url}{url}", headers=headers).status_code == 404
    assert len(kard.calls(r"/renew$")) == 3
    altered = url.replace(OFFER_ID, OFFER_ID[:-1] + "0")
    answer = httpx.post(f"{kard.url}{altered}", headers=headers)
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["detail"] == "No such endpoint."
    assert len(kard.calls(r"/renew$")) == 3  # nothing went upstream


def test_a_rate_limit_is_counted_for_the_fleet(kard):
    kard.restart_all(BFF_RATE_LIMIT="10/minute")
    try:
        if time.time() % 60 > 50:  # the 15 requests fall in one minute's window
            time.sleep(61 - time.time() % 60)
        headers = kard.headers("limited-user")
        answers = [httpx.get(f"{kard.url}/api/v1/rewards", headers=headers) for _ in range(15)]
        assert [a.status_code for a in answers] == [200] * 10 + [429] * 5
        assert [a.headers["RateLimit-Remaining"] for a in answers[:10]] == [
            str(n) for n in range(9, -1, -1)
        ]
        for answer in answers[10:]:
            assert answer.headers["RateLimit-Limit"] == "10"
            assert answer.headers["Retry-After"] == answer.headers["RateLimit-Reset"]
            assert answer.json()["errors"][0]["status"] == "429"
        other = httpx.get(f"{kard.url}/api/v1/rewards", headers=kard.headers("another-user"))
        assert other.status_code == 200
    finally:
        kard.restart_all()


def test_a_notification_posted_to_every_instance_at_once_is_handed_on_once(kard, receiver):
    body, headers = signed_notification("fleet-notification-1")
    answers = at_once(
        [
            lambda i=i: httpx.post(f"{i.url}/webhooks/kard", content=body, headers=headers)
            for i in kard.instances
            for _ in range(3)
        ]
    )
    assert {a.status_code for a in answers} == {200}
    assert sum(not a.json()["data"]["duplicate"] for a in answers) == 1
    deadline = time.monotonic() + 20
    while "fleet-notification-1" not in receiver.ids and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)  # time for a second hand-off, were there one
    assert receiver.ids.count("fleet-notification-1") == 1
