"""Kard's notification webhook: signatures, rotation, parsing, once per ID, and handing on."""

import copy
import json
import sqlite3
import threading
import time

import pytest
import redis
from click.testing import CliRunner
from flask import Flask, request

from bff.cli import main
from bff.settings import ConfigError
from bff.webhooks.dispatch import Dispatcher
from bff.webhooks.extension import dispatcher
from bff.webhooks.inbox import open_inbox
from bff.webhooks.inbox.redis import DEAD, DUE, RedisInbox
from bff.webhooks.inbox.sqlite import LEASE, SqliteInbox
from bff.webhooks.inbox.store import DeadLetter, Handoffs
from bff.webhooks.signature import sign
from tests import webhook_hooks
from tests.json_documents import wrong_types_everywhere
from tests.scrapes import grew, value
from tests.servers import serve

KEY = "whsec-current-0123456789"
OLD_KEY = "whsec-previous-9876543210"
URL = "/webhooks/kard"
REWARD = {
    "message": "You earned $5 at Old Navy",
    "name": "Old Navy",
    "attributionUrl": "https://attribution.getkard.com/n/abc",
}
COMMISSION = {"type": "cents", "value": 500}
USER_TXN = {
    "user": {"data": {"type": "user", "id": "user-1"}},
    "transaction": {"data": {"type": "transaction", "id": "txn-1"}},
}
USER_OFFER_TXN = {**USER_TXN, "offer": {"data": {"type": "standardOffer", "id": "offer-1"}}}
FAILED = {
    "message": "Your purchase did not qualify",
    "reason": "Ineligible MCC",
    "name": "Old Navy",
}
EXAMPLES = {
    "earnedRewardApproved": (REWARD, USER_TXN),
    "earnedRewardSettled": ({**REWARD, "commissionEarned": COMMISSION}, USER_TXN),
    "validTransaction": (
        {**REWARD, "commissionEarned": {"issuer": COMMISSION, "user": COMMISSION}},
        USER_OFFER_TXN,
    ),
    "failedTransaction": (FAILED, USER_OFFER_TXN),
    "clawback": (FAILED, USER_OFFER_TXN),
    "auditUpdate": (
        {
            "status": "CLOSED",
            "auditCode": 3006,
            "merchantName": "Old Navy",
            "auditDescription": "No cashback",
            "transactionId": "txn-1",
            "resolutionCode": 5004,
            "resolutionDescription": "Reward dispute resolved",
            "resolutionTimeStamp": "2026-11-20T10:00:00Z",
        },
        {"user": USER_TXN["user"], "audit": {"data": {"type": "audit", "id": "audit-1"}}},
    ),
    "fileProcessingResult": (
        {
            "fileName": "historical_transactions_2024-10-15.jsonl",
            "sentAt": "2025-03-09T21:56:23Z",
            "lastModified": "2025-03-19T21:56:23Z",
            "downloadUrl": "https://s3.amazonaws.com/kard-results/xyz789/results.json?X-Amz-Signature=1",
        },
        None,
    ),
}


def payload(kind: str = "earnedRewardApproved", notification_id: str = "n-1") -> dict:
    attributes, relationships = copy.deepcopy(EXAMPLES[kind])
    data = {"type": kind, "id": notification_id, "attributes": attributes}
    if relationships is not None:
        data["relationships"] = relationships
    return {"data": data, "meta": {"issuerId": "org-sandbox", "issuerName": "Sandbox Issuer"}}


def compact(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


@pytest.fixture(autouse=True)
def _fresh_hook():
    webhook_hooks.reset()
    yield
    webhook_hooks.reset()


@pytest.fixture
def make_app(make_app):
    """The shared `make_app`, with the webhook key and the recording hook unless told otherwise."""
    return lambda **config: make_app(
        **{"KARD_WEBHOOK_KEY": KEY, "BFF_WEBHOOK_HOOK": "tests.webhook_hooks:record", **config}
    )


@pytest.fixture
def app(make_app):
    return make_app()


def post(client, body: bytes, signature: str | None, header: str = "notify-signature"):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[header] = signature
    return client.post(URL, data=body, headers=headers)


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; received {received_ids()}"
        time.sleep(0.02)


def received_ids() -> list[str]:
    return [notification.id for notification in webhook_hooks.received]


def test_a_correctly_signed_notification_is_accepted_and_handed_to_the_hook(client):
    body = compact(payload())
    response = post(client, body, sign(KEY, body))
    assert response.status_code == 200
    assert response.get_json() == {
        "data": {"id": "n-1", "type": "earnedRewardApproved", "duplicate": False}
    }
    wait_for(lambda: received_ids() == ["n-1"])
    notification = webhook_hooks.received[0]
    assert notification.user_id == "user-1"
    assert notification.related == {"user": "user-1", "transaction": "txn-1"}
    assert notification.attributes["message"] == "You earned $5 at Old Navy"
    assert notification.body == body


@pytest.mark.parametrize("header", ["Notify-Signature", "NOTIFY-SIGNATURE", "notify-signature"])
def test_the_signature_header_name_is_case_insensitive(client, header):
    body = compact(payload())
    assert post(client, body, sign(KEY, body), header=header).status_code == 200


def test_a_bad_signature_is_refused_with_401_naming_the_header(client):
    body = compact(payload())
    response = post(client, body, sign("some-other-key", body))
    assert response.status_code == 401
    (error,) = response.get_json()["errors"]
    assert error["source"] == {"header": "notify-signature"}
    assert "does not match" in error["detail"]
    assert "WWW-Authenticate" not in response.headers


def test_a_signature_over_a_changed_body_is_refused(client):
    body = compact(payload())
    tampered = body.replace(b"$5", b"$500")
    assert post(client, tampered, sign(KEY, body)).status_code == 401
    assert received_ids() == []


LONE_SURROGATE = b'{"a": "\\ud800"}'  # JSON's escape of half a UTF-16 pair


def test_a_lone_surrogate_under_a_bad_signature_is_a_401(client):
    response = post(client, LONE_SURROGATE, sign("some-other-key", LONE_SURROGATE))
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["source"] == {"header": "notify-signature"}


@pytest.mark.parametrize(
    "signed",
    [LONE_SURROGATE, b'{"a":"\\ud800"}'],  # the raw body; JSON.stringify's compact form
    ids=["raw", "node-compact"],
)
def test_a_signed_lone_surrogate_is_a_400_in_the_error_shape(client, signed):
    response = post(client, LONE_SURROGATE, sign(KEY, signed))
    assert response.status_code == 400
    (error,) = response.get_json()["errors"]
    assert error["status"] == "400" and error["source"] == {"pointer": ""}
    assert received_ids() == []


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_a_missing_signature_is_refused_with_401(client, signature):
    body = compact(payload())
    response = post(client, body, signature)
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["detail"] == "The notify-signature header is missing."


def test_without_a_webhook_key_the_endpoint_answers_503(make_app):
    client = make_app(KARD_WEBHOOK_KEY="").test_client()
    body = compact(payload())
    response = post(client, body, sign(KEY, body))
    assert response.status_code == 503
    assert "KARD_WEBHOOK_KEY" in response.get_json()["errors"][0]["detail"]
    assert response.headers["Retry-After"]


def test_while_a_key_is_rotated_both_keys_are_accepted(make_app):
    client = make_app(KARD_WEBHOOK_KEY=f"{KEY}, {OLD_KEY}").test_client()
    first, second, third = (compact(payload(notification_id=f"n-{i}")) for i in range(3))
    assert post(client, first, sign(KEY, first)).status_code == 200
    assert post(client, second, sign(OLD_KEY, second)).status_code == 200
    assert post(client, third, sign("retired-key-000000", third)).status_code == 401


def _assert_nothing_is_left_to_hand_on(make_app, *apps, **config) -> None:
    """Stop the dispatch threads of `apps`, so what they took is settled; then nothing waits in
    their inbox, and a dispatch pass over it (another process's, built with `config`) hands
    nothing on."""
    for app in apps:
        dispatcher(app).stop_worker()
    other = dispatcher(make_app(**config))
    assert other.inbox.status(now=time.time())["pending"] == 0
    assert other.deliver_due() == 0


def test_a_duplicate_notification_id_is_processed_once(app, make_app):
    client = app.test_client()
    body = compact(payload(notification_id="dup-1"))
    first = post(client, body, sign(KEY, body))
    second = post(client, body, sign(KEY, body))
    assert first.get_json()["data"]["duplicate"] is False
    assert second.status_code == 200
    assert second.get_json()["data"]["duplicate"] is True
    wait_for(lambda: received_ids() == ["dup-1"])
    _assert_nothing_is_left_to_hand_on(make_app, app)
    assert received_ids() == ["dup-1"]


def test_the_id_is_remembered_across_restarts(make_app):
    body = compact(payload(notification_id="durable-1"))
    assert post(make_app().test_client(), body, sign(KEY, body)).get_json()["data"] == {
        "id": "durable-1",
        "type": "earnedRewardApproved",
        "duplicate": False,
    }
    again = post(make_app().test_client(), body, sign(KEY, body))
    assert again.get_json()["data"]["duplicate"] is True


def test_the_raw_body_is_what_is_verified_even_when_reserialized_json_would_differ(client):
    # Spacing, key order, escapes and a float that JSON.stringify would all write differently.
    body = (
        b'{ "meta": {"issuerName": "Caf\\u00e9 Bank", "issuerId": "org-sandbox"},\n'
        b'  "data": {"id": "raw-1", "type": "earnedRewardApproved", "score": 1.0,\n'
        b'    "attributes": {"message": "You earned \\u20ac5", "name": "Old Navy",'
        b' "attributionUrl": "https://attribution.getkard.com/n/abc"},\n'
        b'    "relationships": {"user": {"data": {"type": "user", "id": "user-1"}},'
        b' "transaction": {"data": {"type": "transaction", "id": "txn-1"}}}}}'
    )
    reserialized = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert reserialized != body
    response = post(client, body, sign(KEY, body))
    assert response.status_code == 200
    wait_for(lambda: received_ids() == ["raw-1"])
    assert webhook_hooks.received[0].body == body  # handed on byte for byte


def test_a_digest_of_the_compact_reserialization_is_accepted_as_kards_node_recipe_computes_it(
    client,
):
    body = b'{"data": {"id": "node-1", "type": "earnedRewardApproved", "attributes": ' + (
        json.dumps(REWARD).encode() + b', "relationships": ' + json.dumps(USER_TXN).encode() + b"}}"
    )
    node_stringify = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
    assert post(client, body, sign(KEY, node_stringify.encode())).status_code == 200
    pretty = json.dumps(json.loads(body), indent=2, sort_keys=True).encode()
    assert post(client, body, sign(KEY, pretty)).status_code == 401


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_documented_type_is_parsed(client, kind):
    document = payload(kind, notification_id=f"{kind}-1")
    body = compact(document)
    response = post(client, body, sign(KEY, body))
    assert response.status_code == 200, response.get_json()
    wait_for(lambda: received_ids() == [f"{kind}-1"])
    notification = webhook_hooks.received[0]
    assert notification.type == kind and notification.documented
    assert notification.attributes == EXAMPLES[kind][0]


@pytest.mark.parametrize(
    ("kind", "remove", "pointer"),
    [
        ("earnedRewardSettled", "commissionEarned", "/data/attributes/commissionEarned"),
        ("failedTransaction", "reason", "/data/attributes/reason"),
        ("fileProcessingResult", "downloadUrl", "/data/attributes/downloadUrl"),
        ("auditUpdate", "status", "/data/attributes/status"),
    ],
)
def test_a_signed_payload_missing_a_documented_field_gets_422_with_a_pointer(
    client, kind, remove, pointer
):
    document = payload(kind)
    document["data"]["attributes"] = {
        key: value for key, value in document["data"]["attributes"].items() if key != remove
    }
    body = compact(document)
    response = post(client, body, sign(KEY, body))
    assert response.status_code == 422
    assert pointer in [error["source"]["pointer"] for error in response.get_json()["errors"]]
    assert received_ids() == []


def test_a_missing_relationship_and_a_bad_commission_are_pointed_at(client):
    document = payload("validTransaction")
    del document["data"]["relationships"]["offer"]
    document["data"]["attributes"]["commissionEarned"]["user"] = {"type": "dollars", "value": 5}
    body = compact(document)
    errors = post(client, body, sign(KEY, body)).get_json()["errors"]
    assert {error["source"]["pointer"] for error in errors} == {
        "/data/relationships/offer",
        "/data/attributes/commissionEarned/user/type",
    }


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            b"not json",
            {
                "status": "400",
                "title": "Bad request",
                "detail": "The request body is not valid JSON.",
                "source": {"pointer": ""},
            },
        ),
        (
            b"[1, 2]",
            {
                "status": "422",
                "title": "Unprocessable entity",
                "detail": "data must be an object",
                "source": {"pointer": "/data"},
            },
        ),
    ],
)
def test_a_signed_body_that_is_no_notification_gets_one_error(client, body, error):
    response = post(client, body, sign(KEY, body))
    assert response.status_code == int(error["status"])
    assert response.get_json() == {"errors": [error]}
    assert received_ids() == []


def test_a_type_kard_adds_later_is_accepted_and_handed_on(client):
    body = compact({"data": {"type": "payoutReconciliationFile", "id": "new-1", "attributes": {}}})
    assert post(client, body, sign(KEY, body)).status_code == 200
    wait_for(lambda: received_ids() == ["new-1"])
    assert not webhook_hooks.received[0].documented


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 422),
        (b'{"data": {"type": "clawback"}}', 422),
        (b"[" * 100_000, 400),
        (b'{"data": "x"}', 422),
        (b'{"data": {"type": ["clawback"], "id": "n-1", "attributes": {}}}', 422),
        (b'{"data": {"type": {}, "id": [], "attributes": [], "relationships": 1}}', 422),
        (b'{"data": {"type": "clawback", "id": "n-1"}, "meta": []}', 422),
    ],
)
def test_signed_garbage_gets_a_clear_error_not_a_500(client, body, status):
    response = post(client, body, sign(KEY, body))
    assert response.status_code == status
    assert response.get_json()["errors"]


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_any_value_of_the_wrong_json_type_anywhere_is_a_422_or_taken_never_a_500(client, kind):
    document = payload(kind)
    answered = set()
    for changed in wrong_types_everywhere(document):
        body = compact(changed)
        response = post(client, body, sign(KEY, body))
        assert response.status_code in (200, 422), (body, response.get_data())
        answered.add(response.status_code)
    assert answered == {200, 422}


def test_a_body_over_one_megabyte_gets_413(client):
    body = b'{"data": "' + b"x" * 1_100_000 + b'"}'
    assert post(client, body, sign(KEY, body)).status_code == 413


def test_a_failing_hook_is_retried_until_it_takes_the_notification(make_app):
    webhook_hooks.reset(failures=1)
    client = make_app(BFF_WEBHOOK_HOOK="tests.webhook_hooks:flaky").test_client()
    body = compact(payload(notification_id="retry-1"))
    assert post(client, body, sign(KEY, body)).status_code == 200  # answered before the hook
    wait_for(lambda: received_ids() == ["retry-1"], timeout=15)


def _take_until_handing_on_fails(app, notification_id: str) -> None:
    """Post a notification, wait until handing it on has failed once, and stop the worker."""
    body = compact(payload(notification_id=notification_id))
    assert post(app.test_client(), body, sign(KEY, body)).status_code == 200
    wait_for(lambda: dispatcher(app).inbox.status(now=time.time())["lastError"] is not None)
    dispatcher(app).stop_worker()


def _webhooks(config: dict[str, str], *args: str, input: str | None = None):
    """Run `kard-bff webhooks ARGS` on `config`."""
    return CliRunner().invoke(main, ["webhooks", *args], obj=config, input=input)


def _webhooks_status(state_dir):
    return _webhooks({"KARD_ENV": "sandbox", "BFF_STATE_DIR": str(state_dir)}, "status")


def test_webhooks_status_shows_what_waits_and_why(make_app, state_dir):
    webhook_hooks.reset(failures=1_000)
    app = make_app(BFF_WEBHOOK_HOOK="tests.webhook_hooks:flaky")
    _take_until_handing_on_fails(app, "stuck-1")

    result = _webhooks_status(state_dir)
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert (status["backend"], status["pending"], status["deadLetters"]) == ("sqlite", 1, 0)
    assert status["oldestAgeSeconds"] >= 0
    assert status["lastError"].startswith("RuntimeError")


def test_what_a_stopped_process_left_is_handed_on_by_the_next(make_app):
    webhook_hooks.reset(failures=1_000)
    first = make_app(BFF_WEBHOOK_HOOK="tests.webhook_hooks:flaky")
    _take_until_handing_on_fails(first, "left-1")  # then the process stops
    webhook_hooks.reset()
    second = make_app()
    with second.app_context():
        dispatcher(second).inbox.retry_later("left-1", at=0, error="")  # skip the backoff
    dispatcher(second).ensure_worker()
    wait_for(lambda: received_ids() == ["left-1"])


def test_notifications_are_forwarded_signed_with_the_current_key(make_app):
    forwarded = []
    failures = {"count": 1}
    receiver = Flask(__name__)

    @receiver.post("/kard-events")
    def take():
        if failures["count"]:
            failures["count"] -= 1
            return "down", 503
        forwarded.append((request.get_data(), dict(request.headers)))
        return "", 204

    with serve(receiver) as receiver_url:
        app = make_app(
            BFF_WEBHOOK_HOOK="",
            BFF_WEBHOOK_FORWARD_URL=f"{receiver_url}/kard-events",
            KARD_WEBHOOK_KEY=f"{KEY},{OLD_KEY}",
        )
        body = compact(payload("clawback", notification_id="fwd-1"))
        assert post(app.test_client(), body, sign(OLD_KEY, body)).status_code == 200
        wait_for(lambda: len(forwarded) == 1, timeout=15)
    forwarded_body, headers = forwarded[0]
    assert forwarded_body == body
    assert headers["Notify-Signature"] == sign(KEY, body)
    assert headers["X-Kard-Notification-Id"] == "fwd-1"
    assert headers["X-Kard-Notification-Type"] == "clawback"


def test_a_failing_forward_url_is_logged_and_reported_without_its_credentials(
    make_app, state_dir, caplog
):
    receiver = Flask(__name__)
    receiver.post("/hook")(lambda: ("down", 503))
    with serve(receiver) as receiver_url:
        forward_url = receiver_url.replace("//", "//hook-user:SECRET-password@") + "/hook"
        app = make_app(
            BFF_WEBHOOK_HOOK="", BFF_WEBHOOK_FORWARD_URL=f"{forward_url}?apikey=SECRET-key"
        )
        _take_until_handing_on_fails(app, "creds-1")

    result = _webhooks_status(state_dir)
    last_error = json.loads(result.output)["lastError"]
    assert "503" in last_error
    assert "//***@127.0.0.1" in last_error
    assert "/hook?apikey=***" in last_error
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bff."))
    assert "not handed on yet" in logged
    assert "SECRET" not in logged + result.output


def test_with_nothing_to_hand_on_to_notifications_are_only_deduplicated(make_app):
    app = make_app(BFF_WEBHOOK_HOOK="")
    body = compact(payload(notification_id="plain-1"))
    assert post(app.test_client(), body, sign(KEY, body)).get_json()["data"]["duplicate"] is False
    assert post(app.test_client(), body, sign(KEY, body)).get_json()["data"]["duplicate"] is True
    assert dispatcher(app).inbox.status(now=time.time())["pending"] == 0


def test_redis_keeps_ids_and_hands_on_once_across_instances(make_app, clean_redis):
    one, two = make_app(REDIS_URL=clean_redis), make_app(REDIS_URL=clean_redis)
    body = compact(payload(notification_id="redis-1"))
    answers = [
        post(app.test_client(), body, sign(KEY, body)).get_json()["data"]["duplicate"]
        for app in (one, two, one)
    ]
    assert answers == [False, True, True]
    wait_for(lambda: received_ids() == ["redis-1"])
    _assert_nothing_is_left_to_hand_on(make_app, one, two, REDIS_URL=clean_redis)
    assert received_ids() == ["redis-1"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a reference", "BFF_WEBHOOK_HOOK must name a function"),
        ("tests.no_such_module:record", "BFF_WEBHOOK_HOOK: cannot import"),
        ("tests.webhook_hooks:missing", "BFF_WEBHOOK_HOOK: cannot import"),
        ("tests.webhook_hooks:not_callable", "is not callable"),
    ],
)
def test_a_bad_hook_stops_start_up_with_one_line(make_app, value, message):
    with pytest.raises(ConfigError, match=message):
        make_app(BFF_WEBHOOK_HOOK=value)


def test_the_forward_url_must_be_http(make_app):
    with pytest.raises(ConfigError, match="BFF_WEBHOOK_FORWARD_URL"):
        make_app(BFF_WEBHOOK_FORWARD_URL="ftp://example.com/x")


def test_a_notification_id_is_remembered_for_30_days_then_forgotten(tmp_path):
    inbox = SqliteInbox(tmp_path / "webhooks.sqlite3")
    assert inbox.add("n-old", "clawback", b"{}", now=0, pending=False)
    day = 24 * 3600
    assert not inbox.add("n-old", "clawback", b"{}", now=29 * day, pending=False)
    assert inbox.add("n-new", "clawback", b"{}", now=31 * day, pending=False)  # prunes
    assert inbox.add("n-old", "clawback", b"{}", now=31 * day + 1, pending=False)


@pytest.fixture(params=["sqlite", "redis"])
def make_inbox(request, tmp_path):
    """`make_inbox()` opens the test's inbox; call it twice for two processes' views of it."""
    if request.param == "sqlite":
        return lambda: SqliteInbox(tmp_path / "webhooks.sqlite3")
    url = request.getfixturevalue("clean_redis")
    return lambda: RedisInbox(url)


def test_a_released_notification_is_due_at_once_for_anyone_and_its_attempt_is_not_counted(
    make_inbox,
):
    first, second = make_inbox(), make_inbox()
    now = time.time()
    assert first.add("n-1", "clawback", b"{}", now=now, pending=True)
    assert first.lease("a", now=now, seconds=60).attempts == 1
    first.release("n-1", "b", now=now)  # "b" holds no lease on it: nothing changes
    assert second.lease("b", now=now, seconds=60) is None
    first.release("n-1", "a", now=now)  # "a" stops without handing it on
    again = second.lease("b", now=now, seconds=60)
    assert (again.id, again.attempts) == ("n-1", 1)
    second.handled("n-1", now=now)
    second.release("n-1", "b", now=now)  # handed on: releasing it changes nothing
    assert first.lease("a", now=now, seconds=60) is None
    assert first.status(now=now)["pending"] == 0


def test_an_inbox_file_from_before_lease_owners_is_migrated(tmp_path):
    path = tmp_path / "webhooks.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE notifications (id TEXT PRIMARY KEY, type TEXT NOT NULL,"
            " body BLOB NOT NULL, received_at REAL NOT NULL, handled_at REAL,"
            " attempts INTEGER NOT NULL DEFAULT 0, due_at REAL NOT NULL,"
            " lease_until REAL NOT NULL DEFAULT 0, last_error TEXT);"
            "INSERT INTO notifications (id, type, body, received_at, due_at)"
            " VALUES ('n-1', 'clawback', x'7b7d', 100, 100);"
        )
    db.close()
    inbox = SqliteInbox(path)
    assert inbox.lease("a", now=100, seconds=60).id == "n-1"
    inbox.release("n-1", "a", now=100)
    assert inbox.lease("b", now=100, seconds=60).attempts == 1


def _dead_letter(inbox, notification_id: str, *, now: float, error: str = "503 down") -> None:
    """Store a notification, lease it, and give it up as a dead letter at `now`."""
    assert inbox.add(notification_id, "clawback", b"{}", now=now - 10, pending=True)
    assert inbox.lease("a", now=now, seconds=60).id == notification_id
    inbox.dead(notification_id, now=now, error=error)


def test_a_dead_letter_is_kept_never_leased_and_listed_oldest_death_first(make_inbox):
    first, second = make_inbox(), make_inbox()
    _dead_letter(first, "n-2", now=1_000, error="503 later")
    _dead_letter(first, "n-1", now=1_001, error="RuntimeError: down\nsecond line")
    assert first.add("n-3", "clawback", b"{}", now=1_002, pending=True)
    assert [letter.id for letter in second.dead_letters(limit=1)] == ["n-2"]
    assert second.dead_letters(limit=10)[1] == DeadLetter(
        id="n-1",
        type="clawback",
        received_at=991,
        died_at=1_001,
        attempts=1,
        last_error="RuntimeError: down\nsecond line",
    )
    assert second.lease("b", now=5_000, seconds=60).id == "n-3"
    assert second.lease("b", now=5_000, seconds=60) is None  # the dead are not leased
    status = second.status(now=1_002)
    assert (status["pending"], status["oldestAgeSeconds"], status["deadLetters"]) == (1, 0, 2)


def test_handoffs_count_the_pending_the_oldest_and_the_dead_for_every_process(make_inbox):
    accepting, scraping = make_inbox(), make_inbox()
    assert scraping.handoffs(now=1_000) == Handoffs(pending=0, oldest_age_seconds=0, dead_letters=0)
    _dead_letter(accepting, "n-dead", now=1_000)
    assert accepting.add("n-old", "clawback", b"{}", now=970, pending=True)
    assert accepting.add("n-new", "clawback", b"{}", now=990, pending=True, traceparent="00-a-b-01")
    assert accepting.add("n-kept", "clawback", b"{}", now=995, pending=False)  # nothing hands on
    leased = scraping.lease("w", now=1_000, seconds=60)  # a lease leaves it pending
    assert leased.id == "n-old" and leased.traceparent is None
    assert scraping.handoffs(now=1_000) == Handoffs(2, 30, 1)
    scraping.handled("n-old", now=1_001)
    assert scraping.lease("w", now=1_001, seconds=60).traceparent == "00-a-b-01"
    assert scraping.handoffs(now=1_010) == Handoffs(1, 20, 1)


def test_replay_makes_dead_letters_due_now_with_their_attempts_from_zero(make_inbox):
    inbox = make_inbox()
    _dead_letter(inbox, "n-1", now=1_000)
    _dead_letter(inbox, "n-2", now=1_000)
    assert inbox.add("n-pending", "clawback", b"{}", now=1_000, pending=True)
    assert inbox.replay(["n-1", "n-pending", "n-never"], now=2_000) == 1
    assert [letter.id for letter in inbox.dead_letters(limit=10)] == ["n-2"]
    assert inbox.lease("b", now=2_000, seconds=60).id == "n-pending"  # untouched: due earlier
    replayed = inbox.lease("b", now=2_000, seconds=60)
    assert (replayed.id, replayed.attempts) == ("n-1", 1)
    for notification_id in ("n-pending", "n-1"):
        inbox.handled(notification_id, now=2_000)
    assert inbox.replay(None, now=3_000) == 1
    assert inbox.lease("c", now=3_000, seconds=60).id == "n-2"
    assert inbox.status(now=3_000)["deadLetters"] == 0


def test_purge_removes_only_dead_letters_and_their_ids_stay_seen(make_inbox):
    inbox = make_inbox()
    _dead_letter(inbox, "n-dead", now=1_000)
    _dead_letter(inbox, "n-other", now=1_001)
    assert inbox.add("n-pending", "clawback", b"{}", now=1_000, pending=True)
    assert inbox.purge(["n-dead", "n-pending", "n-never"]) == 1
    assert inbox.purge(None) == 1
    assert inbox.purge(None) == 0
    assert inbox.dead_letters(limit=10) == []
    assert inbox.replay(["n-dead"], now=2_000) == 0
    assert not inbox.add("n-dead", "clawback", b"{}", now=2_000, pending=True)  # a duplicate
    assert inbox.lease("b", now=2_000, seconds=60).id == "n-pending"
    status = inbox.status(now=2_000)
    assert (status["pending"], status["deadLetters"]) == (1, 0)


def test_only_a_pending_notification_dies_and_a_late_success_still_counts(make_inbox):
    inbox = make_inbox()
    assert inbox.add("n-1", "clawback", b"{}", now=1_000, pending=True)
    inbox.lease("a", now=1_000, seconds=60)
    inbox.handled("n-1", now=1_001)
    inbox.dead("n-1", now=1_002, error="late")  # handed on already: stays handed on
    _dead_letter(inbox, "n-2", now=1_000)
    inbox.dead("n-2", now=2_000, error="again")  # dead already: dies once
    inbox.handled("n-2", now=2_001)  # a hand-off that outlived its lease went through after all
    assert inbox.dead_letters(limit=10) == []
    assert inbox.status(now=2_001)["pending"] == 0


def test_in_redis_a_notification_is_always_either_due_or_dead(clean_redis):
    """Dying and replaying are each one step: a reader never sees both sets hold it, or none."""
    inbox = RedisInbox(clean_redis)
    assert inbox.add("n-1", "clawback", b"{}", now=0, pending=True)
    client = redis.Redis.from_url(clean_redis)
    seen, done = set(), threading.Event()

    def watch():
        while not done.is_set():
            with client.pipeline(transaction=True) as pipe:
                pipe.zscore(DUE, "n-1")
                pipe.zscore(DEAD, "n-1")
                due, dead = pipe.execute()
            seen.add((due is not None, dead is not None))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for round_ in range(300):
            inbox.dead("n-1", now=round_, error="down")
            assert inbox.replay(["n-1"], now=round_) == 1
    finally:
        done.set()
        watcher.join()
    assert seen == {(True, False), (False, True)}


def test_an_inbox_file_from_before_dead_letters_is_migrated_and_leases_by_its_index(tmp_path):
    path = tmp_path / "webhooks.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE notifications (id TEXT PRIMARY KEY, type TEXT NOT NULL,"
            " body BLOB NOT NULL, received_at REAL NOT NULL, handled_at REAL,"
            " attempts INTEGER NOT NULL DEFAULT 0, due_at REAL NOT NULL, lease_owner TEXT,"
            " lease_until REAL NOT NULL DEFAULT 0, last_error TEXT);"
            "CREATE INDEX notifications_pending ON notifications (due_at)"
            " WHERE handled_at IS NULL;"
            "INSERT INTO notifications (id, type, body, received_at, due_at, attempts)"
            " VALUES ('n-1', 'clawback', x'7b7d', 100, 100, 3);"
            "INSERT INTO notifications (id, type, body, received_at, handled_at, due_at)"
            " VALUES ('n-2', 'clawback', x'7b7d', 100, 101, 100);"
        )
    db.close()
    inbox = SqliteInbox(path)
    assert inbox.lease("a", now=200, seconds=60).attempts == 4
    inbox.dead("n-1", now=200, error="down")
    assert [letter.id for letter in inbox.dead_letters(limit=10)] == ["n-1"]
    assert inbox.status(now=200)["deadLetters"] == 1
    with sqlite3.connect(path) as db:
        indexes = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
        plan = db.execute(f"EXPLAIN QUERY PLAN {LEASE}", {"owner": "", "until": 0, "now": 0})
        plan = " ".join(row[3] for row in plan)
    db.close()
    assert "notifications_pending" not in indexes
    assert "USING INDEX notifications_due" in plan


@pytest.mark.parametrize(
    ("bounds", "waited"),
    [
        ({"max_attempts": 2, "max_age": 86_400}, 10),  # tried twice
        ({"max_attempts": 20, "max_age": 60}, 60),  # received a minute ago
    ],
    ids=["attempts", "age"],
)
def test_a_notification_past_its_bound_dies_at_its_failure_and_is_tried_no_more(
    make_inbox, clock, caplog, bounds, waited
):
    webhook_hooks.reset(failures=1_000)
    sending = Dispatcher(
        make_inbox(),
        hook=webhook_hooks.flaky,
        forward_url=None,
        signing_key=KEY,
        clock=clock,
        **bounds,
    )
    body = compact(payload(notification_id="doomed-1"))
    assert sending.inbox.add("doomed-1", "earnedRewardApproved", body, now=clock(), pending=True)
    assert sending.deliver_due() == 1  # failed once: due again within 2 s
    assert sending.inbox.status(now=clock())["deadLetters"] == 0
    clock.advance(waited)
    assert sending.deliver_due() == 1
    (letter,) = sending.inbox.dead_letters(limit=10)
    assert (letter.id, letter.attempts, letter.died_at) == ("doomed-1", 2, clock())
    assert letter.last_error == "RuntimeError: the issuer's system is down"
    clock.advance(86_400)
    assert sending.deliver_due() == 0
    dying = [r.getMessage() for r in caplog.records if "dead letter" in r.getMessage()]
    assert dying == [
        "notification doomed-1 is a dead letter after 2 attempts:"
        " RuntimeError: the issuer's system is down"
    ]
    assert [r.levelname for r in caplog.records if r.name == "bff.webhooks.dispatch"] == [
        "WARNING",
        "WARNING",
    ]


def test_a_dead_letter_is_listed_then_replayed_and_handed_on_once(make_app, state_dir, caplog):
    answer, tries, taken = {"status": 500}, [], []
    receiver = Flask(__name__)

    @receiver.post("/kard-events")
    def take():
        tries.append(request.headers["X-Kard-Notification-Id"])
        if answer["status"] != 200:
            return "down", answer["status"]
        taken.append(request.headers["X-Kard-Notification-Id"])
        return "", 200

    config = {"KARD_ENV": "sandbox", "BFF_STATE_DIR": str(state_dir)}
    with serve(receiver) as receiver_url:
        app = make_app(
            BFF_WEBHOOK_HOOK="",
            BFF_WEBHOOK_FORWARD_URL=f"{receiver_url}/kard-events",
            BFF_WEBHOOK_MAX_ATTEMPTS="2",
        )
        client = app.test_client()
        before = client.get("/metrics").text
        body = compact(payload(notification_id="dead-1"))
        assert post(client, body, sign(KEY, body)).status_code == 200
        wait_for(lambda: dispatcher(app).inbox.status(now=time.time())["deadLetters"] == 1)
        assert tries == ["dead-1", "dead-1"]
        died = client.get("/metrics").text
        assert value(died, "kard_bff_webhook_dead_letters") == 1
        assert value(died, "kard_bff_webhook_handoffs_pending") == 0
        for outcome, times in (("accepted", 1), ("retried", 1), ("dead", 1), ("handed_on", 0)):
            labels = {"type": "earnedRewardApproved", "outcome": outcome}
            assert grew(before, died, "kard_bff_webhooks_total", **labels) == times

        listed = _webhooks(config, "dead")
        assert listed.exit_code == 0, listed.output
        header, row = listed.output.splitlines()
        assert header.split() == ["ID", "TYPE", "RECEIVED", "DIED", "ATTEMPTS", "LAST", "ERROR"]
        assert row.split()[:2] == ["dead-1", "earnedRewardApproved"]
        assert row.split()[4] == "2"
        assert "HTTPStatusError: Server error '500 INTERNAL SERVER ERROR'" in row
        (letter,) = json.loads(_webhooks(config, "dead", "--json").output)
        assert letter["attempts"] == 2 and "500" in letter["lastError"]
        assert letter["receivedAt"] <= letter["diedAt"]

        answer["status"] = 200
        replayed = _webhooks(config, "replay", "dead-1")
        assert replayed.exit_code == 0, replayed.output
        assert replayed.output.startswith("Requeued 1 dead letter;")
        wait_for(lambda: taken == ["dead-1"])
        _assert_nothing_is_left_to_hand_on(make_app, app)
        handed_on = client.get("/metrics").text
        assert value(handed_on, "kard_bff_webhook_dead_letters") == 0
        labels = {"type": "earnedRewardApproved", "outcome": "handed_on"}
        assert grew(before, handed_on, "kard_bff_webhooks_total", **labels) == 1
    assert taken == ["dead-1"]
    assert _webhooks(config, "dead").output == "No dead letters.\n"
    dying = [r for r in caplog.records if "dead letter" in r.getMessage()]
    assert [r.levelname for r in dying] == ["WARNING"]
    assert "notification dead-1 is a dead letter after 2 attempts: HTTPStatusError" in (
        dying[0].getMessage()
    )
    assert "Old Navy" not in dying[0].getMessage()  # never the body


@pytest.fixture(params=["sqlite", "redis"])
def inbox_config(request, state_dir):
    """Settings of the commands, on each store in turn, and the inbox they name."""
    config = {"KARD_ENV": "sandbox", "BFF_STATE_DIR": str(state_dir)}
    if request.param == "redis":
        config["REDIS_URL"] = request.getfixturevalue("clean_redis")
    return config, open_inbox(state_dir, config.get("REDIS_URL"))


def test_purge_asks_first_and_removes_only_dead_letters(inbox_config):
    config, inbox = inbox_config
    _dead_letter(inbox, "n-dead", now=time.time())
    assert inbox.add("n-pending", "clawback", b"{}", now=time.time(), pending=True)

    declined = _webhooks(config, "purge", "--all", input="n\n")
    assert declined.exit_code == 1
    assert "Purge all 1 dead letter? They cannot be replayed afterwards." in declined.output
    assert inbox.status(now=time.time())["deadLetters"] == 1

    purged = _webhooks(config, "purge", "--all", input="y\n")
    assert purged.exit_code == 0, purged.output
    assert purged.output.endswith("Purged 1 dead letter.\n")
    status = inbox.status(now=time.time())
    assert (status["pending"], status["deadLetters"]) == (1, 0)
    assert not inbox.add("n-dead", "clawback", b"{}", now=time.time(), pending=True)

    refused = _webhooks(config, "purge", "n-pending", "--yes")
    assert refused.exit_code == 2
    assert refused.stdout == "Purged 0 dead letters.\n"
    assert refused.stderr.startswith("kard-bff: no dead letter n-pending")
    assert inbox.status(now=time.time())["pending"] == 1
    assert _webhooks(config, "purge", "--all").output == "No dead letters.\n"


def test_replay_all_requeues_every_dead_letter_and_an_unknown_id_exits_2(inbox_config):
    config, inbox = inbox_config
    for notification_id in ("n-1", "n-2"):
        _dead_letter(inbox, notification_id, now=time.time())

    replayed = _webhooks(config, "replay", "--all")
    assert replayed.exit_code == 0, replayed.output
    assert replayed.output.startswith("Requeued 2 dead letters;")
    status = inbox.status(now=time.time())
    assert (status["pending"], status["deadLetters"]) == (2, 0)
    unknown = _webhooks(config, "replay", "n-1", "n-never")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("kard-bff: no dead letter n-1, n-never")
    for wrong in ([], ["--all", "n-1"]):
        usage = _webhooks(config, "replay", *wrong)
        assert usage.exit_code == 2
        assert "Name dead letters by ID, or pass --all." in usage.stderr


def test_webhooks_dead_lists_the_oldest_deaths_first_up_to_its_limit(inbox_config):
    config, inbox = inbox_config
    now = time.time()
    for offset, notification_id in enumerate(["n-b", "n-a", "n-c"]):
        _dead_letter(inbox, notification_id, now=now + offset)
    listed = _webhooks(config, "dead", "--limit", "2")
    lines = listed.output.splitlines()
    assert [line.split()[0] for line in lines[1:3]] == ["n-b", "n-a"]
    assert lines[3:] == ["(the 2 oldest of 3; --limit shows more)"]
    documents = json.loads(_webhooks(config, "dead", "--json").output)
    assert [document["id"] for document in documents] == ["n-b", "n-a", "n-c"]


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("dead", "List the dead letters"),
        ("replay", "Requeue dead letters"),
        ("purge", "Remove dead letters"),
    ],
)
def test_each_dead_letter_command_says_what_it_does(command, says):
    result = _webhooks({}, command, "--help")
    assert result.exit_code == 0
    assert says in result.output
