"""Attribution batches against the simulator: checks, chunks, duplicates, and the outbox."""

import email.utils
import json
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bff.attributions.delivery import Delivery
from bff.attributions.extension import delivery
from bff.attributions.outbox import open_outbox
from bff.attributions.outbox.sqlite import SqliteOutbox
from bff.attributions.outbox.store import Bounds
from bff.cli import main
from bff.errors import MAX_REPORTED_ERRORS, UpstreamError
from bff.kard.extension import kard
from tests.json_documents import wrong_types_everywhere
from tests.scrapes import grew, value

USER = "sandbox-demo-new-customer"
ATTRIBUTIONS = r"/attributions$"
NEVER_DEAD = {"lease_seconds": 60, "max_attempts": 500, "max_age": 259_200}  # in these tests


def _event(number: int, **changes) -> dict:
    attributes = {
        "entityId": f"offer-{number:04d}",
        "eventCode": "IMPRESSION",
        "medium": "BROWSE",
        "eventDate": "2026-11-20T10:00:00Z",
        "state": {"rank": number % 20 + 1},
        **changes,
    }
    return {"type": "offerAttribution", "attributes": attributes}


def _post(client, headers, events):
    return client.post("/api/v1/attributions", headers=headers, json={"data": events})


def _received(simulator):
    return [event["attributes"]["entityId"] for event in simulator.attribution_events(USER)]


def test_250_events_go_in_three_calls_each_once(client, as_user, simulator):
    response = _post(client, as_user(USER), [_event(n) for n in range(250)])
    assert response.status_code == 202
    assert response.get_json()["data"] == {
        "received": 250,
        "accepted": 250,
        "duplicates": 0,
        "forwarded": 250,
        "queued": 0,
        "rejected": [],
    }
    calls = simulator.calls_to(ATTRIBUTIONS)
    assert sorted(len(call.json["data"]) for call in calls) == [50, 100, 100]
    assert all(call.path == f"/v2/issuers/org-sandbox/users/{USER}/attributions" for call in calls)
    received = _received(simulator)
    assert len(received) == 250 and len(set(received)) == 250


def test_invalid_events_are_reported_by_index_while_the_valid_ones_go(client, as_user, simulator):
    events = [_event(n) for n in range(10)]
    events[2] = _event(2, eventCode="CLICK")
    events[5] = _event(5, medium="PUSH", eventDate="yesterday")
    events[7] = {"type": "notificationAttribution", "attributes": _event(7)["attributes"]}
    events[8] = "not an event"
    body = _post(client, as_user(USER), events).get_json()["data"]
    assert (body["received"], body["accepted"], body["forwarded"]) == (10, 6, 6)
    assert [item["index"] for item in body["rejected"]] == [2, 5, 7, 8]
    pointers = {
        item["index"]: [e["source"]["pointer"] for e in item["errors"]] for item in body["rejected"]
    }
    assert pointers == {
        2: ["/data/2/attributes/eventCode"],
        5: ["/data/5/attributes/medium", "/data/5/attributes/eventDate"],
        7: ["/data/7/attributes/medium"],
        8: ["/data/8"],
    }
    assert len(_received(simulator)) == 6


OUT_OF_RANGE_DATES = [
    "0001-01-01T00:00:00+00:01",  # before year 1 in UTC
    "0001-01-01T00:00:00Z",
    "1999-12-31T23:59:59.999Z",  # before the earliest date Kard is sent
    "9999-12-31T23:59:59-23:59",  # after year 9999 in UTC
]


@pytest.mark.parametrize("date", OUT_OF_RANGE_DATES)
def test_an_out_of_range_date_is_its_events_422_and_its_neighbours_go(
    client, as_user, simulator, date
):
    events = [_event(0), _event(1, eventDate=date), _event(2)]
    response = _post(client, as_user(USER), events)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()["data"]
    assert (body["accepted"], body["forwarded"]) == (2, 2)
    ((error,),) = [item["errors"] for item in body["rejected"] if item["index"] == 1]
    assert error["source"] == {"pointer": "/data/1/attributes/eventDate"}
    assert error["detail"].startswith("eventDate is out of range")
    assert _received(simulator) == ["offer-0000", "offer-0002"]


def test_the_earliest_date_is_accepted(client, as_user, simulator):
    response = _post(client, as_user(USER), [_event(1, eventDate="2000-01-01T00:00:00Z")])
    assert response.status_code == 202
    (sent,) = simulator.attribution_events(USER)
    assert sent["attributes"]["eventDate"] == "2000-01-01T00:00:00.000Z"


def test_exact_duplicates_are_sent_once(client, as_user, simulator):
    event = _event(1)
    reordered = {
        "attributes": dict(reversed(list(event["attributes"].items()))),
        "type": event["type"],
    }
    body = _post(client, as_user(USER), [event, _event(2), reordered, event]).get_json()["data"]
    assert (body["accepted"], body["duplicates"], body["forwarded"]) == (2, 2, 2)
    assert Counter(_received(simulator)) == {"offer-0001": 1, "offer-0002": 1}


def test_a_missing_event_date_is_the_receipt_time(client, as_user, simulator):
    event = _event(1)
    del event["attributes"]["eventDate"]
    assert _post(client, as_user(USER), [event]).status_code == 202
    (sent,) = simulator.attribution_events(USER)
    assert sent["attributes"]["eventDate"].endswith("Z")


def test_event_dates_are_read_on_the_apps_clock(make_app, kard_url, clock, as_user, simulator):
    clock.now = 1_795_168_800.25  # 2026-11-20T10:00:00.250Z
    client = make_app(KARD_API_URL=kard_url, clock=clock).test_client()
    undated = _event(1)
    del undated["attributes"]["eventDate"]
    a_day_ahead = _event(2, eventDate="2026-11-21T10:00:00.250Z")
    further = _event(3, eventDate="2026-11-21T10:00:01Z")
    body = _post(client, as_user(USER, client), [undated, a_day_ahead, further]).get_json()
    assert [rejected["index"] for rejected in body["data"]["rejected"]] == [2]
    dates = [event["attributes"]["eventDate"] for event in simulator.attribution_events(USER)]
    assert dates == ["2026-11-20T10:00:00.250Z", "2026-11-21T10:00:00.250Z"]


def test_over_1000_events_is_413(client, as_user, simulator):
    response = _post(client, as_user(USER), [_event(n) for n in range(1001)])
    assert response.status_code == 413
    assert response.get_json()["errors"] == [
        {
            "status": "413",
            "title": "Payload too large",
            "detail": "A batch holds at most 1000 events, not 1001.",
            "source": {"pointer": "/data"},
        }
    ]
    assert simulator.calls_to(ATTRIBUTIONS) == []


def test_over_a_megabyte_is_413(client, as_user):
    padding = "x" * 1100
    events = [_event(n, entityId=f"{n}-{padding}"[:128]) for n in range(1000)]
    huge = {"data": events, "padding": "y" * 1_000_000}
    response = client.post("/api/v1/attributions", headers=as_user(USER), json=huge)
    assert response.status_code == 413


def test_all_invalid_is_422(client, as_user, simulator):
    response = _post(client, as_user(USER), [_event(1, medium="TV"), _event(2, eventCode="")])
    assert response.status_code == 422
    pointers = [error["source"]["pointer"] for error in response.get_json()["errors"]]
    assert pointers == ["/data/0/attributes/medium", "/data/1/attributes/eventCode"]
    assert simulator.calls_to(ATTRIBUTIONS) == []


@pytest.mark.parametrize("body", [{}, {"data": []}, {"data": {"type": "x"}}, {"events": []}])
def test_a_batch_needs_a_data_list(client, as_user, body):
    response = client.post("/api/v1/attributions", headers=as_user(USER), json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {
            "status": "422",
            "title": "Unprocessable entity",
            "detail": 'Send {"data": [event, ...]} with 1 to 1,000 attribution events.',
            "source": {"pointer": "/data"},
        }
    ]


def test_any_value_of_the_wrong_json_type_anywhere_is_an_error_never_a_500(client, as_user):
    batch = {"data": [_event(1, state={"rank": 1, "filters": [{"name": "a", "value": "b"}]})]}
    for changed in wrong_types_everywhere(batch):
        response = client.post("/api/v1/attributions", json=changed, headers=as_user(USER))
        assert response.status_code in (202, 400, 422), (changed, response.get_data())


def test_only_the_session_user(client, as_user, simulator):
    event = _event(1)
    event["attributes"]["userId"] = "someone-else"
    body = _post(client, as_user(USER), [event, _event(2)]).get_json()["data"]
    assert body["rejected"][0]["errors"][0]["source"]["pointer"] == "/data/0/attributes/userId"
    users = {call.path.split("/")[5] for call in simulator.calls_to(ATTRIBUTIONS)}
    assert users == {USER}


def test_a_chunk_kard_refuses_is_rejected_not_retried(client, as_user, simulator, app):
    refusal = {"errors": [{"status": "400", "title": "Bad event", "detail": "no such offer"}]}
    simulator.faults.inject(400, body=refusal, times=1, path=ATTRIBUTIONS)
    body = _post(client, as_user(USER), [_event(n) for n in range(150)]).get_json()["data"]
    assert body["forwarded"] + body["queued"] == body["accepted"]
    assert len(body["rejected"]) == 100 or len(body["rejected"]) == 50
    assert body["rejected"][0]["errors"] == refusal["errors"]
    assert delivery(app).outbox.status(now=0)["depth"] == 0


def test_kard_down_means_202_queued_and_every_event_arrives_later(client, as_user, simulator, app):
    simulator.faults.inject(503, retry_after="1", path=ATTRIBUTIONS)
    body = _post(client, as_user(USER), [_event(n) for n in range(250)]).get_json()["data"]
    assert (body["accepted"], body["forwarded"], body["queued"]) == (250, 0, 250)
    view = client.post("/api/v1/offers/offer-0001/view", headers=as_user(USER))
    assert view.status_code == 202 and view.get_json()["queued"] is True
    status = delivery(app).outbox.status(now=0)
    assert (status["depth"], status["events"]) == (4, 251)
    assert "503" in status["lastError"]

    simulator.faults.clear()
    assert delivery(app).deliver_due(everything=True) == 4
    received = _received(simulator)
    assert len(received) == 251
    assert Counter(received)["offer-0001"] == 2  # the batch's impression and the view
    assert delivery(app).outbox.status(now=0)["depth"] == 0


def test_failed_retries_back_off(client, as_user, simulator, app):
    simulator.faults.inject(503, path=ATTRIBUTIONS)
    _post(client, as_user(USER), [_event(1)])
    sending = delivery(app)
    assert sending.deliver_due() == 1  # tried at once, failed again, now waiting
    assert sending.deliver_due() == 0  # not due yet: backing off
    assert sending.outbox.status(now=0)["attempts"] == 1


def test_a_retry_after_date_puts_the_chunk_off_until_then(app, simulator, tmp_path):
    now = 1_900_000_000.0  # the delivery's clock, which Retry-After's date is read against
    until = now + 3600
    date = email.utils.format_datetime(datetime.fromtimestamp(until, UTC), usegmt=True)
    simulator.faults.inject(503, retry_after=date, path=ATTRIBUTIONS)
    outbox = SqliteOutbox(tmp_path / "dated.sqlite3", Bounds(100, 100))
    outbox.put(USER, [_event(1)], now=now, error="503")
    sending = Delivery(kard(app), outbox, clock=lambda: now, **NEVER_DEAD)
    assert sending.deliver_due() == 1
    assert simulator.calls_to(ATTRIBUTIONS)[-1].status == 503
    assert outbox.next_due() >= until  # not a jittered second or two: the hour Kard asked for


class OutboxThatCannotNoteRetries(SqliteOutbox):
    """An outbox whose database refuses to note a failed send, as a locked one would."""

    def retry_later(self, chunk_id: str, *, at: float, error: str) -> None:
        raise sqlite3.OperationalError("database is locked")


def test_a_stopping_worker_hands_back_the_chunk_it_could_not_settle(app, simulator, tmp_path):
    simulator.faults.inject(503, path=ATTRIBUTIONS)
    outbox = OutboxThatCannotNoteRetries(tmp_path / "outbox.sqlite3", Bounds(100, 100))
    chunk_id = outbox.put(USER, [_event(1)], now=time.time(), error="503")
    sending = Delivery(kard(app), outbox, **NEVER_DEAD)
    sending.ensure_worker()
    deadline = time.monotonic() + 10
    while not simulator.calls_to(ATTRIBUTIONS):  # leased and sent; noting the 503 will fail
        assert time.monotonic() < deadline
        time.sleep(0.02)
    sending.stop_worker()
    chunk = outbox.lease("next-worker", now=time.time(), due_by=time.time(), seconds=60)
    assert (chunk.id, chunk.attempts) == (chunk_id, 1)  # due at once; the stopped try not counted


def test_outbox_status_and_drain_commands(make_app, kard_url, state_dir, simulator):
    config = {"KARD_API_URL": kard_url, "BFF_STATE_DIR": str(state_dir)}
    app = make_app(**config)
    simulator.faults.inject(503, path=ATTRIBUTIONS)
    delivery(app).send(USER, [(0, _event(1)), (1, _event(2))])
    runner = CliRunner()

    status = json.loads(runner.invoke(main, ["outbox", "status"], obj=config).output)
    assert (status["backend"], status["depth"], status["events"]) == ("sqlite", 1, 2)
    assert "503" in status["lastError"]

    simulator.faults.clear()
    drained = runner.invoke(main, ["outbox", "drain"], obj=config)
    assert drained.exit_code == 0
    assert json.loads(drained.output) == {"tried": 1, "left": 0, "lastError": None}
    assert sorted(_received(simulator)) == ["offer-0001", "offer-0002"]


def test_an_events_errors_are_bounded_and_so_is_an_all_rejected_batch(client, as_user, simulator):
    many_unknown = _event(1, **{f"k{number:04d}": 0 for number in range(200)})
    response = _post(client, as_user(USER), [_event(0), many_unknown])
    (rejected,) = response.get_json()["data"]["rejected"]
    assert len(rejected["errors"]) == MAX_REPORTED_ERRORS + 1
    assert rejected["errors"][-1]["detail"] == "... and 150 more problems."

    response = _post(client, as_user(USER), [_event(n, medium="TV") for n in range(100)])
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert len(errors) == MAX_REPORTED_ERRORS + 1
    assert errors[-1]["detail"] == "... and 50 more problems."


OTHER_USER = "sandbox-demo-lapsed-customer"


@pytest.fixture(params=["sqlite", "redis"])
def bounded_app(request, make_app, kard_url):
    """An app whose outbox holds at most 300 events per user and 500 in all, and whose circuit
    breaker stays closed through the failing sends that fill it."""
    config = {"KARD_API_URL": kard_url, "KARD_BREAKER_FAILURES": "100"}
    config |= {"BFF_OUTBOX_MAX_USER_EVENTS": "300", "BFF_OUTBOX_MAX_EVENTS": "500"}
    if request.param == "redis":
        config["REDIS_URL"] = request.getfixturevalue("clean_redis")
    return make_app(**config)


def _assert_full(response, whose: str) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    (error,) = response.get_json()["errors"]
    assert error["status"] == "503" and whose in error["detail"]


def test_a_full_outbox_answers_503_and_loses_nothing_it_accepted(bounded_app, as_user, simulator):
    client, sending = bounded_app.test_client(), delivery(bounded_app)
    one, other = as_user(USER, client), as_user(OTHER_USER, client)
    simulator.faults.inject(503, path=ATTRIBUTIONS)
    for batch in range(3):  # up to the user's bound of 300
        body = _post(client, one, [_event(batch * 100 + n) for n in range(100)]).get_json()
        assert body["data"]["queued"] == 100
    calls = len(simulator.calls_to(ATTRIBUTIONS))

    _assert_full(_post(client, one, [_event(999)]), "user's queue")
    _assert_full(client.post("/api/v1/offers/offer-0001/view", headers=one), "user's queue")
    assert len(simulator.calls_to(ATTRIBUTIONS)) == calls  # nothing sent, nothing stored
    assert sending.outbox.status(now=0)["events"] == 300

    body = _post(client, other, [_event(n) for n in range(200)]).get_json()["data"]
    assert body["queued"] == 200  # another user still fits, up to the total bound of 500
    _assert_full(_post(client, other, [_event(999)]), "service's queue")
    _assert_full(_post(client, as_user("a-third-user", client), [_event(1)]), "service's queue")
    assert sending.outbox.status(now=0)["events"] == 500

    simulator.faults.clear()
    sending.deliver_due(everything=True)
    assert sending.outbox.status(now=0)["events"] == 0
    body = _post(client, one, [_event(n) for n in range(300, 400)]).get_json()["data"]
    assert body["forwarded"] == 100  # accepted again once the queue drained
    assert len(set(_received(simulator))) == 400
    others = {e["attributes"]["entityId"] for e in simulator.attribution_events(OTHER_USER)}
    assert len(others) == 200


@pytest.fixture(params=["sqlite", "redis"])
def outbox_config(request, state_dir, kard_url):
    """Settings of an app and its commands, on each store in turn, whose Kard is the simulator;
    its breaker stays shut however often Kard fails, so every failure here is an attempt."""
    config = {
        "KARD_API_URL": kard_url,
        "BFF_STATE_DIR": str(state_dir),
        "KARD_BREAKER_FAILURES": "1000",
    }
    if request.param == "redis":
        config["REDIS_URL"] = request.getfixturevalue("clean_redis")
    return config


def _outbox(config: dict[str, str], *args: str, input: str | None = None):
    """Run `kard-bff outbox ARGS` on `config`."""
    return CliRunner().invoke(main, ["outbox", *args], obj=config, input=input)


def _dying(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "dead letter" in r.getMessage()]


def test_a_chunk_kard_keeps_failing_dies_then_is_replayed_and_delivered_once(
    make_app, outbox_config, simulator, caplog
):
    config = {**outbox_config, "BFF_OUTBOX_MAX_ATTEMPTS": "2"}
    app = make_app(**config)
    sending, client = delivery(app), app.test_client()
    before = client.get("/metrics").text
    simulator.faults.inject(500, path=ATTRIBUTIONS)
    assert sending.send(USER, [(0, _event(1)), (1, _event(2))]).queued == 2
    assert sending.deliver_due(everything=True) == 2  # failed again, then given up on
    assert sending.deliver_due(everything=True) == 0  # the dead are not tried

    status = json.loads(_outbox(config, "status").output)
    assert (status["depth"], status["events"], status["deadLetters"]) == (0, 0, 1)
    assert sending.outbox.queued_events(USER) == (2, 2)  # still held against the bounds
    died = client.get("/metrics").text
    assert value(died, "kard_bff_outbox_dead_letters") == 1
    assert value(died, "kard_bff_outbox_pending_events") == 0
    assert grew(before, died, "kard_bff_attribution_chunks_total", outcome="dead") == 1
    listed = _outbox(config, "dead").output.splitlines()
    assert listed[0].split() == ["ID", "EVENTS", "STORED", "DIED", "ATTEMPTS", "LAST", "ERROR"]
    chunk_id, events, _, _, attempts, *error = listed[1].split()
    assert (events, attempts, " ".join(error)) == ("2", "2", "502 Kard error: Kard answered 500.")
    (document,) = json.loads(_outbox(config, "dead", "--json").output)
    assert (document["id"], document["lastError"]) == (chunk_id, " ".join(error))
    (dying,) = _dying(caplog)
    assert dying.startswith(f"attribution chunk {chunk_id} of 2 events is a dead letter after 2")
    assert USER not in dying and "offer-0001" not in dying

    simulator.faults.clear()
    replayed = _outbox(config, "replay", chunk_id)
    assert replayed.exit_code == 0, replayed.output
    assert replayed.output.startswith("Requeued 1 dead letter; a running kard-bff sends them")
    assert sending.deliver_due() == 1
    assert sorted(_received(simulator)) == ["offer-0001", "offer-0002"]  # exactly once
    assert _outbox(config, "dead").output == "No dead letters.\n"
    assert sending.outbox.queued_events(USER) == (0, 0)
    delivered = client.get("/metrics").text
    assert value(delivered, "kard_bff_outbox_dead_letters") == 0
    assert grew(died, delivered, "kard_bff_attribution_chunks_total", outcome="delivered") == 1


class Outcomes(list):
    """An observer that notes each queued chunk's outcome."""

    def attribution_chunk(self, outcome: str) -> None:
        self.append(outcome)


@pytest.mark.parametrize(
    ("bounds", "waited"),
    [
        ({"max_attempts": 2, "max_age": 259_200}, 10),  # tried twice
        ({"max_attempts": 500, "max_age": 60}, 60),  # stored a minute ago
    ],
    ids=["attempts", "age"],
)
def test_a_chunk_past_its_bound_dies_at_its_failure_and_is_tried_no_more(
    app, simulator, tmp_path, clock, caplog, bounds, waited
):
    simulator.faults.inject(503, path=ATTRIBUTIONS)
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite3", Bounds(100, 100))
    chunk_id = outbox.put(USER, [_event(1)], now=clock(), error="503")
    outcomes = Outcomes()
    sending = Delivery(
        kard(app), outbox, lease_seconds=60, clock=clock, observer=outcomes, **bounds
    )
    assert sending.deliver_due() == 1  # failed once: due again within a few seconds
    assert outbox.status(now=clock())["deadLetters"] == 0
    clock.advance(waited)
    assert sending.deliver_due() == 1
    (letter,) = outbox.dead_letters(limit=10)
    assert (letter.id, letter.events, letter.attempts, letter.died_at) == (chunk_id, 1, 2, clock())
    assert letter.last_error.startswith("503 ")  # as Kard answered
    clock.advance(86_400)
    assert sending.deliver_due(everything=True) == 0
    assert outcomes == ["retried", "dead"]
    assert _dying(caplog) == [
        f"attribution chunk {chunk_id} of 1 events is a dead letter after 2 attempts:"
        f" {letter.last_error}"
    ]


def test_a_chunk_the_breaker_kept_from_kard_is_not_an_attempt_and_does_not_die(
    app, simulator, tmp_path
):
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite3", Bounds(100, 100))
    outbox.put(USER, [_event(1)], now=time.time(), error="503")
    sending = Delivery(kard(app), outbox, lease_seconds=60, max_attempts=1, max_age=259_200)
    breaker = kard(app).protection.breaker
    while breaker.admits():  # Kard fails until the breaker opens
        simulator.faults.inject(503, times=1, path=ATTRIBUTIONS)
        with pytest.raises(UpstreamError):
            kard(app).create_attributions(USER, [_event(2)])
    assert sending.deliver_due(everything=True) == 0  # nothing leased while it is open
    status = outbox.status(now=time.time())
    assert (status["depth"], status["attempts"], status["deadLetters"]) == (1, 0, 0)


def test_the_observer_hears_what_became_of_each_queued_chunk(app, simulator, tmp_path):
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite3", Bounds(100, 100))
    for number in range(3):
        outbox.put(USER, [_event(number)], now=time.time(), error="503")
    refusal = {"errors": [{"status": "400", "title": "Bad event", "detail": "no such offer"}]}
    simulator.faults.inject(400, body=refusal, times=1, path=ATTRIBUTIONS)
    simulator.faults.inject(500, times=1, path=ATTRIBUTIONS)
    outcomes = Outcomes()
    sending = Delivery(kard(app), outbox, observer=outcomes, **NEVER_DEAD)
    assert sending.deliver_due(everything=True) == 4
    assert Counter(outcomes) == {"rejected": 1, "retried": 1, "delivered": 2}


def _dead_chunk(outbox, events: int = 1) -> str:
    """Queue a chunk of `events` events, lease it and give it up as a dead letter."""
    now = time.time()
    chunk_id = outbox.put(USER, [_event(n) for n in range(events)], now=now, error="503")
    assert outbox.lease("a", now=now, due_by=float("inf"), seconds=60).id == chunk_id
    outbox.dead(chunk_id, now=now, error="500 Kard error: down")
    return chunk_id


def _open(config: dict[str, str]):
    return open_outbox(Path(config["BFF_STATE_DIR"]), config.get("REDIS_URL"), Bounds(100, 100))


def test_outbox_purge_asks_first_removes_only_dead_letters_and_frees_their_room(outbox_config):
    outbox = _open(outbox_config)
    dead = _dead_chunk(outbox, events=3)
    queued = outbox.put(USER, [_event(9)], now=time.time(), error="503")
    assert outbox.queued_events(USER) == (4, 4)

    declined = _outbox(outbox_config, "purge", "--all", input="n\n")
    assert declined.exit_code == 1
    assert "Purge all 1 dead letter? They cannot be replayed afterwards." in declined.output
    assert outbox.status(now=time.time())["deadLetters"] == 1

    purged = _outbox(outbox_config, "purge", dead, input="y\n")
    assert purged.exit_code == 0, purged.output
    assert f"Purge {dead}?" in purged.output and purged.output.endswith("Purged 1 dead letter.\n")
    assert outbox.queued_events(USER) == (1, 1)  # their room is free again

    refused = _outbox(outbox_config, "purge", queued, "--yes")
    assert refused.exit_code == 2
    assert refused.stdout == "Purged 0 dead letters.\n"
    assert refused.stderr.startswith(f"kard-bff: no dead letter {queued} (never queued,")
    assert outbox.status(now=time.time())["depth"] == 1
    assert _outbox(outbox_config, "purge", "--all").output == "No dead letters.\n"


def test_outbox_replay_all_requeues_every_dead_letter_and_an_unknown_id_exits_2(outbox_config):
    outbox = _open(outbox_config)
    first = _dead_chunk(outbox)
    _dead_chunk(outbox)
    replayed = _outbox(outbox_config, "replay", "--all")
    assert replayed.exit_code == 0, replayed.output
    assert replayed.output.startswith("Requeued 2 dead letters;")
    status = outbox.status(now=time.time())
    assert (status["depth"], status["attempts"], status["deadLetters"]) == (2, 0, 0)
    unknown = _outbox(outbox_config, "replay", first, "never")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith(f"kard-bff: no dead letter {first}, never")
    usage = _outbox(outbox_config, "replay")
    assert usage.exit_code == 2 and "Name dead letters by ID, or pass --all." in usage.stderr


def test_outbox_dead_lists_the_oldest_deaths_first_up_to_its_limit(outbox_config):
    outbox = _open(outbox_config)
    chunk_ids = [_dead_chunk(outbox, events) for events in (1, 2, 3)]
    lines = _outbox(outbox_config, "dead", "--limit", "2").output.splitlines()
    assert [line.split()[:2] for line in lines[1:3]] == [[chunk_ids[0], "1"], [chunk_ids[1], "2"]]
    assert lines[3:] == ["(the 2 oldest of 3; --limit shows more)"]
    documents = json.loads(_outbox(outbox_config, "dead", "--json").output)
    assert [(document["id"], document["events"]) for document in documents] == list(
        zip(chunk_ids, (1, 2, 3), strict=True)
    )


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("dead", "List the dead letters"),
        ("replay", "Requeue dead letters"),
        ("purge", "Remove dead letters"),
    ],
)
def test_each_outbox_dead_letter_command_says_what_it_does(command, says):
    result = _outbox({}, command, "--help")
    assert result.exit_code == 0
    assert says in result.output
