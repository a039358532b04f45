"""The Kard client against the simulator over real HTTP: tokens, retries, and the error mapping."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.harness import free_port
from bff.errors import (
    InvalidPathSegment,
    UpstreamAuthFailed,
    UpstreamFailed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bff.kard.client import path_segment
from tests.kard_documents import impression

TOKEN_PATH = r"^/v2/auth/token$"
OFFERS_PATH = r"/offers$"
USER = "user-123"


@pytest.fixture(autouse=True)
def _enrolled(simulator):
    """Kard answers for the users it has enrolled: these tests' USER is."""
    simulator.enroll(USER)


def test_token_request_is_the_documented_client_credentials_form(simulator, make_client):
    make_client(target_issuer="org-sandbox").offers(USER, [])
    (call,) = simulator.calls_to(TOKEN_PATH)
    assert call.method == "POST"
    assert call.headers["Authorization"].startswith("Basic ")
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.headers["X-Kard-Target-Issuer"] == "org-sandbox"


def test_cold_process_under_50_concurrent_requests_makes_one_token_call(simulator, make_client):
    client = make_client()
    simulator.faults.inject(delay=0.3, path=TOKEN_PATH)  # a slow token call widens the race
    start = threading.Barrier(50)

    def fetch(_):
        start.wait()
        return client.offers(USER, [("page[size]", "1")]).status

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(fetch, range(50)))

    assert statuses == [200] * 50
    assert len(simulator.calls_to(TOKEN_PATH)) == 1
    assert len(simulator.calls_to(OFFERS_PATH)) == 50


def test_token_is_reused_until_two_minutes_before_it_expires(simulator, make_client, clock):
    client = make_client(clock=clock)
    client.offers(USER, [])
    clock.now += 3600 - 121  # the simulator's tokens live 3600 s
    client.offers(USER, [])
    assert len(simulator.calls_to(TOKEN_PATH)) == 1
    clock.now += 2
    client.offers(USER, [])
    assert len(simulator.calls_to(TOKEN_PATH)) == 2


def test_expired_access_token_is_renewed(simulator, make_client, clock):
    client = make_client(clock=clock)
    client.offers(USER, [])
    clock.now += 3600
    assert client.offers(USER, []).status == 200
    tokens = {call.headers["Authorization"] for call in simulator.calls_to(OFFERS_PATH)}
    assert len(tokens) == 2
    assert not [call for call in simulator.calls if call.status == 401]


def test_kard_401_is_retried_once_after_a_refresh(simulator, make_client):
    client = make_client()
    client.offers(USER, [])
    simulator.expire_access_tokens()
    assert client.offers(USER, []).status == 200
    assert [call.status for call in simulator.calls_to(OFFERS_PATH)] == [200, 401, 200]
    assert len(simulator.calls_to(TOKEN_PATH)) == 2


def test_a_second_401_after_refresh_is_a_502(simulator, make_client):
    client = make_client()
    simulator.faults.inject(401, path=OFFERS_PATH)
    with pytest.raises(UpstreamAuthFailed) as caught:
        client.offers(USER, [])
    assert caught.value.status == 502
    assert len(simulator.calls_to(OFFERS_PATH)) == 2


def test_a_kard_403_is_retried_once_after_a_refresh(simulator, make_client):
    simulator.faults.inject(403, times=1, path=OFFERS_PATH)
    assert make_client().offers(USER, []).status == 200
    assert [call.status for call in simulator.calls_to(OFFERS_PATH)] == [403, 200]
    assert len(simulator.calls_to(TOKEN_PATH)) == 2


def test_a_persistent_403_is_a_502_after_exactly_one_refresh(simulator, make_client):
    simulator.faults.inject(403, path=OFFERS_PATH)
    with pytest.raises(UpstreamAuthFailed) as caught:
        make_client().offers(USER, [])
    assert caught.value.status == 502
    assert len(simulator.calls_to(OFFERS_PATH)) == 2
    assert len(simulator.calls_to(TOKEN_PATH)) == 2


@pytest.mark.parametrize("status", [400, 404, 409])
def test_client_errors_keep_their_status_and_kards_details(simulator, make_client, status):
    body = {
        "errors": [
            {
                "status": str(status),
                "title": "Kard says no",
                "detail": "filter[category] is invalid",
                "source": {"parameter": "filter[category]"},
            }
        ]
    }
    simulator.faults.inject(status, body=body, path=OFFERS_PATH)
    with pytest.raises(UpstreamRejected) as caught:
        make_client().offers(USER, [])
    assert caught.value.status == status
    assert caught.value.errors == body["errors"]


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_502(simulator, make_client, status):
    simulator.faults.inject(status, path=OFFERS_PATH)
    with pytest.raises(UpstreamAuthFailed) as caught:
        make_client().offers(USER, [])
    assert caught.value.status == 502


@pytest.mark.parametrize(("status", "retry_after"), [(429, "7"), (503, "30")])
def test_busy_kard_is_503_with_its_retry_after(simulator, make_client, status, retry_after):
    simulator.faults.inject(status, retry_after=retry_after, path=OFFERS_PATH)
    with pytest.raises(UpstreamUnavailable) as caught:
        make_client().offers(USER, [])
    assert caught.value.status == 503
    assert caught.value.headers["Retry-After"] == retry_after
    # Kard asked for longer than a request can wait, so the client did not retry.
    assert len(simulator.calls_to(OFFERS_PATH)) == 1


def test_503_without_retry_after_gets_a_default(simulator, make_client):
    simulator.faults.inject(503, path=OFFERS_PATH)
    with pytest.raises(UpstreamUnavailable) as caught:
        make_client().offers(USER, [])
    assert caught.value.headers["Retry-After"] == "5"
    assert len(simulator.calls_to(OFFERS_PATH)) == 3  # GETs are retried, then given up


@pytest.mark.parametrize("status", [500, 502, 504])
def test_other_server_errors_are_502(simulator, make_client, status):
    simulator.faults.inject(status, path=OFFERS_PATH)
    with pytest.raises(UpstreamFailed) as caught:
        make_client().offers(USER, [])
    assert caught.value.status == 502


def test_timeout_is_504(simulator, make_client):
    simulator.faults.inject(delay=1.0, path=OFFERS_PATH)
    with pytest.raises(UpstreamTimeout) as caught:
        make_client(timeout=0.2).offers(USER, [])
    assert caught.value.status == 504


def test_unreachable_kard_is_502(make_client):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(UpstreamFailed):
        make_client(api_url=url, token_url=f"{url}/v2/auth/token").offers(USER, [])


def test_get_is_retried_after_a_passing_failure(simulator, make_client):
    simulator.faults.inject(503, retry_after="1", times=1, path=OFFERS_PATH)
    assert make_client().offers(USER, []).status == 200
    assert [call.status for call in simulator.calls_to(OFFERS_PATH)] == [503, 200]


def test_post_is_not_retried_after_kard_saw_it(simulator, make_client):
    simulator.faults.inject(503, times=1, path=r"/attributions$")
    event = impression()
    with pytest.raises(UpstreamUnavailable):
        make_client().create_attributions(USER, [event])
    assert len(simulator.calls_to(r"/attributions$")) == 1


def test_token_endpoint_refusal_is_502(simulator, make_client):
    simulator.faults.inject(401, path=TOKEN_PATH)
    with pytest.raises(UpstreamAuthFailed):
        make_client().offers(USER, [])


def test_user_ids_cannot_change_the_path(simulator, make_client):
    simulator.enroll("u?page[size]=1#x")
    make_client().offers("u?page[size]=1#x", [])
    (call,) = simulator.calls_to(OFFERS_PATH)
    assert call.path == "/v2/issuers/org-sandbox/users/u?page[size]=1#x/offers"
    assert call.query == []


def test_webview_token_names_the_user_and_issuer(simulator, make_client):
    token, expires_in = make_client().webview_token(USER)
    claims = simulator.verify_webview_token(token)
    assert (claims["sub"], claims["issuer_id"]) == (USER, "org-sandbox")
    assert expires_in == 3600


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("user-123", "user-123"),
        ("a/b", "a%2Fb"),
        ("a/../b", "a%2F..%2Fb"),
        ("%2e%2e", "%252e%252e"),
        ("a.b", "a.b"),
        ("...", "..."),
        ("./", ".%2F"),
        ("u?x#y", "u%3Fx%23y"),
        ("café", "caf%C3%A9"),
    ],
)
def test_a_path_segment_is_percent_encoded(value, segment):
    assert path_segment(value) == segment


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_a_value_that_url_normalization_would_drop_is_never_a_segment(value):
    with pytest.raises(InvalidPathSegment) as caught:
        path_segment(value)
    assert caught.value.status == 400


@pytest.mark.parametrize("user_id", ["", ".", ".."])
def test_the_client_never_sends_a_path_without_the_users_segment(simulator, make_client, user_id):
    client = make_client()
    for send in (
        lambda: client.offers(user_id, []),
        lambda: client.create_attributions(user_id, []),
        lambda: client.webview_token(user_id),
    ):
        with pytest.raises(InvalidPathSegment):
            send()
    assert [call.path for call in simulator.calls if "/users" in call.path] == []


@pytest.mark.parametrize("organization_id", ["", ".", ".."])
def test_an_organization_id_that_is_not_a_segment_is_refused_at_start(make_client, organization_id):
    with pytest.raises(ValueError, match="KARD_ORGANIZATION_ID"):
        make_client(organization_id=organization_id)
