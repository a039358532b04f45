"""Rate limits: per session user on /api/v1, per client address on the endpoints without a
session; in this process without Redis, for the whole fleet with it, and never a failed request
because Redis is gone."""

import ipaddress
import threading

import pytest
import redis

from bench.harness import free_port
from bff.fleet.connection import SharedRedis
from bff.ratelimit import RateLimiter
from bff.ratelimit.addresses import client_address
from bff.settings import ConfigError, load_settings

USER, OTHER = "sandbox-demo-new-customer", "sandbox-demo-lapsed-customer"


def _statuses(client, path, headers, count, method="GET"):
    return [client.open(path, method=method, headers=headers) for _ in range(count)]


def test_past_the_limit_a_user_gets_429_with_the_headers_and_another_user_does_not(
    make_app, kard_url, as_user, simulator
):
    client = make_app(KARD_API_URL=kard_url, BFF_RATE_LIMIT="10/minute").test_client()
    headers = as_user(USER, client)
    answers = _statuses(client, "/api/v1/offers", headers, 15)
    assert [a.status_code for a in answers] == [200] * 10 + [429] * 5
    assert [a.headers["RateLimit-Remaining"] for a in answers] == [
        str(n) for n in range(9, -1, -1)
    ] + ["0"] * 5
    for answer in answers:
        assert answer.headers["RateLimit-Limit"] == "10"
        assert 1 <= int(answer.headers["RateLimit-Reset"]) <= 60
    refused = answers[-1]
    assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
    (error,) = refused.get_json()["errors"]
    assert error["status"] == "429"
    assert len(simulator.calls_to(r"/offers$")) == 10  # nothing more went upstream

    other = as_user(OTHER, client)
    assert client.get("/api/v1/offers", headers=other).status_code == 200


def test_the_window_ends_with_the_clock_and_counting_starts_again(
    make_app, kard_url, as_user, clock
):
    clock.now = 1_800_000_000.0  # a minute boundary
    client = make_app(KARD_API_URL=kard_url, BFF_RATE_LIMIT="2/minute", clock=clock).test_client()
    headers = as_user(USER, client)
    clock.advance(50)
    answers = _statuses(client, "/api/v1/rewards", headers, 3)
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].headers["Retry-After"] == "10"
    clock.advance(10)
    assert client.get("/api/v1/rewards", headers=headers).status_code == 200


def test_an_error_answer_carries_the_headers_too(make_app, kard_url, as_user):
    client = make_app(KARD_API_URL=kard_url, BFF_RATE_LIMIT="10/minute").test_client()
    answer = client.get("/api/v1/offers?page[size]=x", headers=as_user(USER, client))
    assert answer.status_code == 400
    assert answer.headers["RateLimit-Remaining"] == "9"


def test_a_limit_of_zero_turns_it_off(make_app, kard_url, as_user):
    client = make_app(KARD_API_URL=kard_url, BFF_RATE_LIMIT="0").test_client()
    answer = client.get("/api/v1/rewards", headers=as_user(USER, client))
    assert answer.status_code == 200
    assert "RateLimit-Limit" not in answer.headers


def test_endpoints_without_a_session_are_limited_per_address(make_app):
    client = make_app(BFF_CLIENT_RATE_LIMIT="3/minute").test_client()
    one = {"REMOTE_ADDR": "203.0.113.1"}
    answers = [client.get("/api/v1/themes", environ_base=one) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert client.post("/webhooks/kard", environ_base=one).status_code == 429
    assert (
        client.get("/api/v1/themes", environ_base={"REMOTE_ADDR": "203.0.113.2"}).status_code == 200
    )
    for path in ("/healthz", "/readyz", "/theme-studio"):
        with client.get(path, environ_base=one) as answer:
            assert answer.status_code == 200


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(make_app):
    client = make_app(
        BFF_CLIENT_RATE_LIMIT="2/minute", BFF_TRUSTED_PROXIES="10.0.0.0/8"
    ).test_client()
    proxy = {"REMOTE_ADDR": "10.1.2.3"}
    for client_ip in ("198.51.100.7", "198.51.100.8"):  # two clients behind the proxy
        forwarded = {"X-Forwarded-For": f"1.2.3.4, {client_ip}"}
        answers = [
            client.get("/api/v1/themes", headers=forwarded, environ_base=proxy) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
    stranger = {"REMOTE_ADDR": "192.0.2.9"}  # not a proxy: its header is not believed
    for n in range(3):
        answer = client.get(
            "/api/v1/themes", headers={"X-Forwarded-For": f"192.0.2.{n}"}, environ_base=stranger
        )
    assert answer.status_code == 429


@pytest.mark.parametrize(
    ("peer_address", "forwarded_for", "client"),
    [
        ("192.0.2.9", [], "192.0.2.9"),
        ("192.0.2.9", ["198.51.100.1"], "192.0.2.9"),  # not a trusted peer
        ("10.0.0.5", [], "10.0.0.5"),
        ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # the client wrote the left
        ("10.0.0.5", ["198.51.100.1, 10.0.0.7"], "198.51.100.1"),  # two proxies
        ("10.0.0.5", ["198.51.100.1", "10.0.0.7"], "198.51.100.1"),  # two header lines
        ("10.0.0.5", ["10.0.0.8, 10.0.0.7"], "10.0.0.8"),  # trusted all the way: the leftmost
        ("10.0.0.5", ["garbage, 198.51.100.1"], "198.51.100.1"),  # never read
        ("10.0.0.5", ["198.51.100.1, garbage"], "10.0.0.5"),
        ("10.0.0.5", [""], "10.0.0.5"),
        ("10.0.0.5", ["198.51.100.1:4711"], "198.51.100.1"),
        ("10.0.0.5", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("10.0.0.5", ["2001:db8::1"], "2001:db8::1"),
        ("::ffff:10.0.0.5", ["::ffff:198.51.100.1"], "198.51.100.1"),
        ("fd00::1", ["198.51.100.1"], "198.51.100.1"),
        ("", ["198.51.100.1"], ""),  # no peer address (a Unix socket): nothing to trust
    ],
)
def test_the_client_address(peer_address, forwarded_for, client):
    trusted = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
    assert client_address(peer_address, forwarded_for, trusted) == client


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BFF_RATE_LIMIT", "10/day"),
        ("BFF_RATE_LIMIT", "ten/minute"),
        ("BFF_RATE_LIMIT", "0/minute"),
        ("BFF_CLIENT_RATE_LIMIT", "-1/second"),
        ("BFF_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
    ],
)
def test_bad_settings_stop_the_start(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_settings_read_as_expected():
    settings = load_settings({"BFF_RATE_LIMIT": " 5 / second ", "BFF_TRUSTED_PROXIES": "10.0.0.1"})
    assert settings.rate_limit == "5/second"
    assert settings.client_rate_limit == "1200/minute"
    assert settings.trusted_proxies == (ipaddress.ip_network("10.0.0.1/32"),)
    assert load_settings({}).rate_limit == "300/minute"


def test_with_redis_two_processes_share_the_count(make_app, kard_url, clean_redis, as_user, clock):
    clock.now = 1_800_000_000.0  # a minute boundary: the window cannot end during the test
    apps = [
        make_app(
            KARD_API_URL=kard_url, REDIS_URL=clean_redis, BFF_RATE_LIMIT="10/minute", clock=clock
        )
        for _ in range(2)
    ]
    clients = [app.test_client() for app in apps]
    headers = as_user(USER, clients[0])
    answers = [clients[n % 2].get("/api/v1/rewards", headers=headers) for n in range(15)]
    assert [a.status_code for a in answers] == [200] * 10 + [429] * 5


def test_without_redis_the_limit_counts_here_and_nothing_fails(make_app, kard_url, as_user):
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    client = make_app(
        KARD_API_URL=kard_url, REDIS_URL=unreachable, BFF_RATE_LIMIT="3/minute"
    ).test_client()
    headers = as_user(USER, client)
    answers = _statuses(client, "/api/v1/rewards", headers, 4)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]


def test_concurrent_counts_share_round_trips_and_stay_exact(clean_redis):
    shared = SharedRedis(clean_redis)
    limiter = RateLimiter("1000/minute", namespace="user", shared=shared)
    verdicts = []

    def requests():
        verdicts.extend(limiter.hit("someone") for _ in range(150))

    client = redis.Redis.from_url(clean_redis)
    client.config_resetstat()
    threads = [threading.Thread(target=requests) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(v.allowed for v in verdicts) == 1000  # of 1,200: exactly the limit
    assert sorted(v.remaining for v in verdicts if v.allowed) == list(range(1000))
    stats = client.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == 1200  # one increment each, no SCRIPT EXISTS
    assert "cmdstat_script|exists" not in stats


def test_a_redis_that_lost_the_script_is_given_it_again(clean_redis):
    limiter = RateLimiter("10/minute", namespace="user", shared=SharedRedis(clean_redis))
    assert limiter.hit("someone").remaining == 9
    redis.Redis.from_url(clean_redis).script_flush()
    assert limiter.hit("someone").remaining == 8
