"""Kard protection: the circuit breaker on a clock the test moves, then the breaker and the bound
on calls in flight in an app, over real HTTP against the simulator."""

import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bff.attributions.extension import delivery
from bff.errors import (
    KardBusy,
    KardCircuitOpen,
    KardUnreachable,
    UpstreamFailed,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bff.kard.extension import kard
from bff.kard.protection import (
    CLOSED,
    HALF_OPEN,
    MAX_COOLDOWN_SECONDS,
    OPEN,
    CircuitBreaker,
    Protection,
)
from tests.kard_documents import impression

USER = "sandbox-demo-new-customer"
OFFERS = r"/offers$"
ATTRIBUTIONS = r"/attributions$"
TOKEN = r"^/v2/auth/token$"


class Clock:
    """Monotonic seconds that the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _answer(status: int, retry_after: str | None = None):
    headers = {"Retry-After": retry_after} if retry_after else {}
    return lambda: httpx.Response(status, headers=headers)


class Slow:
    """An exchange that holds its slot until the test releases it."""

    def __init__(self) -> None:
        self.in_flight, self.release = threading.Event(), threading.Event()
        self.calls = 0

    def __call__(self) -> httpx.Response:
        self.calls += 1
        self.in_flight.set()
        self.release.wait(5)
        return httpx.Response(200)


def _raise(error: Exception):
    def exchange():
        raise error

    return exchange


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock) -> CircuitBreaker:
    return CircuitBreaker(failures=3, cooldown=5.0, clock=clock)


@pytest.fixture
def guarded(breaker) -> Protection:
    return Protection(max_concurrency=8, breaker=breaker)


def _fail(guarded: Protection, times: int, status: int = 500) -> None:
    for _ in range(times):
        guarded.send(_answer(status))


def _refused(guarded: Protection) -> KardCircuitOpen:
    sent = []
    with pytest.raises(KardCircuitOpen) as caught:
        guarded.send(lambda: sent.append(1) or httpx.Response(200))
    assert sent == []  # nothing went to Kard
    return caught.value


# The breaker, unit by unit.


def test_it_opens_after_n_consecutive_failures_and_stays_open(guarded, breaker, clock):
    _fail(guarded, 2)
    assert breaker.state == CLOSED
    _fail(guarded, 1)
    assert breaker.state == OPEN
    refused = _refused(guarded)
    assert (refused.status, refused.headers["Retry-After"]) == (503, "5")
    assert isinstance(refused, UpstreamUnavailable)
    clock.now += 3.2
    assert _refused(guarded).headers["Retry-After"] == "2"  # the seconds left, rounded up
    clock.now += 1.7
    assert breaker.state == OPEN
    _refused(guarded)


def test_a_success_resets_the_count(guarded, breaker):
    for _ in range(5):
        _fail(guarded, 2)
        guarded.send(_answer(200))
    assert breaker.state == CLOSED


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_a_4xx_never_opens_it_kard_is_up(guarded, breaker, status):
    _fail(guarded, 50, status)
    assert breaker.state == CLOSED
    _fail(guarded, 2)
    guarded.send(_answer(status))  # and it counts as Kard answering
    _fail(guarded, 2)
    assert breaker.state == CLOSED


@pytest.mark.parametrize(
    "failure",
    [
        _answer(429),
        _answer(502),
        _answer(503),
        _answer(504),
        _raise(UpstreamTimeout("slow")),
        _raise(KardUnreachable("refused")),
        _raise(UpstreamFailed("broken answer")),
    ],
)
def test_busy_answers_timeouts_and_connection_errors_are_failures(guarded, breaker, failure):
    for _ in range(3):
        with contextlib.suppress(UpstreamFailed, UpstreamTimeout):
            guarded.send(failure)
    assert breaker.state == OPEN


def test_half_open_lets_exactly_one_probe_through_however_many_threads_ask(guarded, breaker, clock):
    _fail(guarded, 3)
    clock.now += 5
    assert breaker.state == HALF_OPEN
    asking, probe = 16, Slow()
    start, refused = threading.Barrier(asking), []

    def ask(_):
        start.wait()
        try:
            guarded.send(probe)
        except KardCircuitOpen as error:
            refused.append(error.headers["Retry-After"])

    with ThreadPoolExecutor(asking) as pool:
        asked = [pool.submit(ask, n) for n in range(asking)]
        deadline = time.monotonic() + 5
        while len(refused) < asking - 1:  # all but one refused while the probe is in flight
            assert time.monotonic() < deadline
            time.sleep(0.005)
        probe.release.set()
        for future in asked:
            future.result()
    assert probe.calls == 1
    assert refused == ["1"] * (asking - 1)
    assert breaker.state == CLOSED


def test_the_probes_success_closes_it(guarded, breaker, clock, caplog):
    caplog.set_level(logging.INFO, logger="bff.kard.protection")
    _fail(guarded, 3)
    clock.now += 5
    guarded.send(_answer(200))
    assert breaker.state == CLOSED
    _fail(guarded, 2)
    guarded.send(_answer(200))  # closed as new: it takes three failures again
    assert breaker.state == CLOSED
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "Kard circuit open for 5 s: 3 consecutive failures"),
        ("INFO", "Kard circuit closed: the probe succeeded"),
    ]


def test_a_failed_probe_reopens_it_for_twice_as_long_up_to_the_cap(guarded, breaker, clock):
    _fail(guarded, 3)
    cooldowns = []
    for _ in range(6):
        clock.now += 1000  # past any cooldown: half-open
        _fail(guarded, 1)  # the probe fails
        assert breaker.state == OPEN
        cooldowns.append(int(_refused(guarded).headers["Retry-After"]))
    assert cooldowns == [10, 20, 40, 60, 60, 60]
    assert MAX_COOLDOWN_SECONDS == 60
    clock.now += 60
    guarded.send(_answer(200))
    _fail(guarded, 3)
    assert _refused(guarded).headers["Retry-After"] == "5"  # a success started it over


@pytest.mark.parametrize(("retry_after", "cooldown"), [("30", "30"), ("2", "5"), ("86400", "60")])
def test_kards_retry_after_is_honoured_when_longer_up_to_the_cap(guarded, retry_after, cooldown):
    _fail(guarded, 2)
    guarded.send(_answer(503, retry_after))
    assert _refused(guarded).headers["Retry-After"] == cooldown


def test_a_send_admitted_before_it_opened_settles_nothing(guarded, breaker, clock):
    ticket = breaker.admit()  # a slow call, in flight while the others fail
    _fail(guarded, 3)
    breaker.succeeded(ticket)
    assert breaker.state == OPEN
    clock.now += 5
    breaker.failed(ticket)
    assert breaker.state == HALF_OPEN  # the probe is still to be sent


def test_a_probe_that_ends_without_an_answer_frees_the_probe(guarded, breaker, clock):
    _fail(guarded, 3)
    clock.now += 5
    with pytest.raises(RuntimeError):
        guarded.send(_raise(RuntimeError("a bug around the send")))
    assert breaker.admits()
    guarded.send(_answer(200))
    assert breaker.state == CLOSED


# The bound, unit by unit.


def test_a_send_that_gets_no_slot_in_time_is_not_sent(breaker, clock):
    guarded, slow = Protection(max_concurrency=1, breaker=breaker), Slow()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(guarded.send, slow)
        assert slow.in_flight.wait(5)
        with pytest.raises(KardBusy) as caught:
            guarded.send(_raise(AssertionError("sent without a slot")))
        slow.release.set()
        assert first.result().status_code == 200
    assert (caught.value.status, caught.value.headers["Retry-After"]) == (503, "2")
    guarded.send(_answer(200))  # the slot is back


def test_a_probe_without_a_slot_leaves_the_probe_to_the_next_send(breaker, clock):
    guarded, slow = Protection(max_concurrency=1, breaker=breaker), Slow()
    with ThreadPoolExecutor(1) as pool:
        earlier = pool.submit(guarded.send, slow)  # admitted while closed, holds the only slot
        assert slow.in_flight.wait(5)
        for _ in range(3):
            breaker.failed(breaker.admit())
        clock.now += 5
        with pytest.raises(KardBusy):
            guarded.send(_raise(AssertionError("sent without a slot")))
        assert breaker.admits()  # the probe is free again
        slow.release.set()
        earlier.result()
    assert breaker.state == HALF_OPEN  # the earlier send's answer settled nothing
    guarded.send(_answer(200))
    assert breaker.state == CLOSED


# The client: each send passes the breaker, the token request too.


def _breaking_after(failures: int) -> Protection:
    return Protection(breaker=CircuitBreaker(failures=failures, cooldown=60))


def test_each_retry_of_a_get_passes_the_breaker(simulator, make_client):
    client = make_client(protection=_breaking_after(2))
    client.tokens.get()
    simulator.faults.inject(503, path=OFFERS)  # no Retry-After: a GET is tried three times
    with pytest.raises(KardCircuitOpen):
        client.offers(USER, [])
    assert len(simulator.calls_to(OFFERS)) == 2  # the third try was never sent
    assert client.protection.breaker.state == OPEN


def test_a_failing_token_endpoint_opens_it_and_then_is_not_asked(simulator, make_client):
    client = make_client(protection=_breaking_after(1))
    simulator.faults.inject(500, path=TOKEN)
    with pytest.raises(UpstreamFailed):
        client.offers(USER, [])
    with pytest.raises(KardCircuitOpen):
        client.offers(USER, [])
    assert len(simulator.calls_to(TOKEN)) == 1
    assert simulator.calls_to(OFFERS) == []


# An app over real HTTP against the simulator.


def _offers(client, headers):
    started = time.perf_counter()
    response = client.get("/api/v1/offers", headers=headers)
    return response, time.perf_counter() - started


def test_a_failing_kard_is_answered_503_at_once_then_probed_back(
    make_app, kard_url, simulator, as_user
):
    app = make_app(KARD_API_URL=kard_url, KARD_BREAKER_FAILURES="3", KARD_BREAKER_SECONDS="0.5")
    client = app.test_client()
    user = as_user(USER, client)
    assert _offers(client, user)[0].status_code == 200  # the token is in hand
    simulator.faults.inject(500, path=r"^/v2/issuers/")  # every API path of the user
    for _ in range(3):
        assert _offers(client, user)[0].status_code == 502
    sent = len(simulator.calls)

    response, seconds = _offers(client, user)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["errors"][0]["status"] == "503"
    assert seconds < 0.05, f"answered in {seconds * 1000:.1f} ms"
    events = [impression(f"offer-{n:04d}") for n in range(150)]
    answer = client.post("/api/v1/attributions", headers=user, json={"data": events})
    assert answer.status_code == 202
    data = answer.get_json()["data"]
    assert (data["accepted"], data["forwarded"], data["queued"]) == (150, 0, 150)
    sending = delivery(app)
    assert sending.deliver_due() == 0  # the worker leases nothing while the breaker is open
    assert sending.outbox.status(now=0)["attempts"] == 0
    assert len(simulator.calls) == sent  # nothing more went to Kard

    simulator.faults.clear()
    time.sleep(0.5)
    assert kard(app).protection.breaker.state == HALF_OPEN
    assert _offers(client, user)[0].status_code == 200  # the probe
    assert kard(app).protection.breaker.state == CLOSED
    assert sending.deliver_due() == 2
    assert len(simulator.attribution_events(USER)) == 150


def test_the_outbox_worker_waits_out_the_open_breaker_then_delivers(
    make_app, kard_url, simulator, as_user
):
    app = make_app(KARD_API_URL=kard_url, KARD_BREAKER_FAILURES="1", KARD_BREAKER_SECONDS="1")
    client = app.test_client()
    user = as_user(USER, client)
    simulator.faults.inject(503, path=ATTRIBUTIONS)
    body = {"data": [impression()]}
    answer = client.post("/api/v1/attributions", headers=user, json=body)
    assert answer.get_json()["data"]["queued"] == 1
    assert kard(app).protection.breaker.state == OPEN
    sending = delivery(app)
    sending.ensure_worker()
    time.sleep(0.6)  # a poll or two of the worker, within the cooldown
    assert sending.outbox.status(now=0)["attempts"] == 0
    assert len(simulator.calls_to(ATTRIBUTIONS)) == 1
    simulator.faults.clear()
    deadline = time.monotonic() + 5
    while sending.outbox.status(now=0)["depth"]:
        assert time.monotonic() < deadline, "the worker did not deliver after the cooldown"
        time.sleep(0.05)
    assert len(simulator.attribution_events(USER)) == 1
    assert kard(app).protection.breaker.state == CLOSED


def test_past_the_bound_a_call_is_503_and_sends_nothing(make_app, kard_url, simulator, as_user):
    app = make_app(KARD_API_URL=kard_url, KARD_MAX_CONCURRENCY="2")
    client = app.test_client()
    user = as_user(USER, client)
    assert _offers(client, user)[0].status_code == 200  # the token is in hand
    simulator.faults.inject(delay=1.5, path=OFFERS)
    with ThreadPoolExecutor(2) as pool:
        slow = [pool.submit(lambda: app.test_client().get("/api/v1/offers", headers=user))]
        slow.append(pool.submit(lambda: app.test_client().get("/api/v1/offers", headers=user)))
        deadline = time.monotonic() + 5
        while len(simulator.calls_to(OFFERS)) < 3:  # both slow calls have reached Kard
            assert time.monotonic() < deadline
            time.sleep(0.01)
        response = client.get("/api/v1/offers", headers=user)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert len(simulator.calls_to(OFFERS)) == 3
        assert [future.result().status_code for future in slow] == [200, 200]
    assert kard(app).protection.breaker.state == CLOSED  # a full bound is not Kard failing
