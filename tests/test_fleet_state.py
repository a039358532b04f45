"""State shared by the processes of a fleet through one real Redis: one Kard access token, one
WebView token per user (sealed), and CTA URLs any process serves. Several apps in one process
stand for the processes here (each has its own caches and Redis connections); the fleet of real
processes behind nginx is tests/fleet/."""

import threading

import pytest
import redis

from bench.harness import free_port
from bff.fleet.cache import PREFIX
from bff.kard.extension import kard

TOKEN_CALLS = r"^/v2/auth/token$"
WEBVIEW_TOKEN_CALLS = r"^/v2/auth/issuers/[^/]+/users/[^/]+/token$"
USER = "sandbox-demo-new-customer"


@pytest.fixture
def make_fleet(make_app, kard_url, clean_redis):
    """`make_fleet(n, **config)`: n apps on one Redis and the test's simulator."""

    def make(count: int = 3, **config):
        return [
            make_app(KARD_API_URL=kard_url, REDIS_URL=clean_redis, **config) for _ in range(count)
        ]

    return make


def at_once(calls):
    """Run the callables in threads that start together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_first_requests_across_the_fleet_cost_one_token_request(make_fleet, simulator):
    apps = make_fleet(3)
    tokens = at_once([kard(app).tokens.get for app in apps for _ in range(20)])
    assert len(set(tokens)) == 1
    assert len(simulator.calls_to(TOKEN_CALLS)) == 1


def test_a_revoked_token_is_refreshed_once_for_the_fleet(make_fleet, simulator, as_user):
    apps = make_fleet(3)
    clients = [app.test_client() for app in apps]
    headers = as_user(USER, clients[0])
    assert clients[0].get("/api/v1/offers", headers=headers).status_code == 200
    simulator.expire_access_tokens()
    answers = at_once([lambda c=c: c.get("/api/v1/offers", headers=headers) for c in clients * 5])
    assert [answer.status_code for answer in answers] == [200] * 15
    assert len(simulator.calls_to(TOKEN_CALLS)) == 2  # the first, and one refresh


def test_configurations_never_share_a_token(make_fleet, simulator):
    (one,) = make_fleet(1)
    (other,) = make_fleet(1, KARD_TARGET_ISSUER="org-sandbox")  # its tokens are scoped
    kard(one).tokens.get()
    kard(other).tokens.get()
    assert len(simulator.calls_to(TOKEN_CALLS)) == 2


def test_a_users_webview_token_is_minted_once_for_the_fleet(make_fleet, simulator, as_user):
    apps = make_fleet(3)
    clients = [app.test_client() for app in apps]
    headers = as_user(USER, clients[0])
    answers = at_once(
        [lambda c=c: c.post("/api/v1/webview/token", headers=headers) for c in clients * 10]
    )
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.get_json()["token"] for answer in answers}) == 1
    assert len({answer.get_json()["expiresAt"] for answer in answers}) == 1
    assert len(simulator.calls_to(WEBVIEW_TOKEN_CALLS)) == 1

    other = clients[1].post("/api/v1/webview/token", headers=as_user("another-user", clients[1]))
    assert other.get_json()["token"] != answers[0].get_json()["token"]
    assert len(simulator.calls_to(WEBVIEW_TOKEN_CALLS)) == 2


def test_a_copy_of_redis_holds_no_usable_token_and_no_user_id(make_fleet, as_user, clean_redis):
    (app,) = make_fleet(1)
    client = app.test_client()
    headers = as_user(USER, client)
    webview_token = client.post("/api/v1/webview/token", headers=headers).get_json()["token"]
    access_token = kard(app).tokens.get()
    dump = b"".join(
        key + (value or b"")
        for key in redis.Redis.from_url(clean_redis).keys(PREFIX + "*")
        for value in [redis.Redis.from_url(clean_redis).get(key)]
    )
    assert dump
    for secret in (webview_token, access_token, USER):
        assert secret.encode() not in dump


def test_a_token_sealed_with_another_key_is_not_used(make_fleet, simulator, as_user):
    (one,) = make_fleet(1, BFF_SECRET_KEY="a" * 32)
    (other,) = make_fleet(1, BFF_SECRET_KEY="b" * 32)
    kard(one).tokens.get()
    kard(other).tokens.get()
    assert len(simulator.calls_to(TOKEN_CALLS)) == 2


def test_without_redis_each_process_fetches_its_own_and_nothing_fails(
    make_app, kard_url, simulator, as_user
):
    apps = [
        make_app(KARD_API_URL=kard_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
        for _ in range(2)
    ]
    for app in apps:
        client = app.test_client()
        headers = as_user(USER, client)
        assert client.get("/api/v1/offers", headers=headers).status_code == 200
        assert client.post("/api/v1/webview/token", headers=headers).status_code == 200
    assert len(simulator.calls_to(TOKEN_CALLS)) == 2


def _renew_url(client, headers, simulator, kard_prefix):
    offer_id = "5e27318c9b346f00087fbb5c"
    renew = {"action": {"url": f"{kard_prefix}offers/{offer_id}/renew", "method": "POST"}}
    offer = {"type": "standardOffer", "id": offer_id, "attributes": {"components": {"cta": renew}}}
    answer = {"data": [offer]}
    simulator.faults.inject(200, body=answer, times=1, path=r"/offers$")
    body = client.get("/api/v1/offers", headers=headers).get_json()
    return body["data"][0]["attributes"]["components"]["cta"]["action"]["url"]


@pytest.mark.parametrize(
    ("signer_keys", "server_keys", "served"),
    [
        ("", "", True),  # both derive their keys from the same KARD_CLIENT_SECRET
        ("k" * 32, "k" * 32, True),
        ("k" * 32, f"{'n' * 32},{'k' * 32}", True),  # rotated: the old key still verifies
        ("k" * 32, "n" * 32, False),
    ],
)
def test_a_cta_url_one_process_emits_another_serves(
    make_app, kard_url, simulator, as_user, signer_keys, server_keys, served
):
    signer = make_app(KARD_API_URL=kard_url, BFF_SECRET_KEY=signer_keys).test_client()
    server = make_app(KARD_API_URL=kard_url, BFF_SECRET_KEY=server_keys).test_client()
    headers = as_user(USER, signer)
    url = _renew_url(signer, headers, simulator, kard(signer.application).user_prefix(USER))
    answer = server.post(url, headers=headers)
    if served:
        assert len(simulator.calls_to(r"/renew$")) == 1
    else:
        assert answer.status_code == 404
        assert simulator.calls_to(r"/renew$") == []
