"""Redis stops while the BFF serves: nothing accepted is lost, nothing answers 500, reads keep
working from Kard, `/readyz` names Redis, and the service recovers by itself when Redis is back.
(The same with a fleet of real processes behind nginx is tests/fleet/.)"""

import time

import pytest

from bff.attributions.extension import delivery
from bff.webhooks.signature import sign
from tests.test_webhooks import KEY, compact, payload

USER = "sandbox-demo-new-customer"
EVENT = {
    "type": "offerAttribution",
    "attributes": {"entityId": "offer-1", "eventCode": "IMPRESSION", "medium": "BROWSE"},
}


@pytest.fixture
def client(make_app, kard_url, own_redis):
    app = make_app(KARD_API_URL=kard_url, REDIS_URL=own_redis.url, KARD_WEBHOOK_KEY=KEY)
    return app.test_client()


def notification(notification_id: str) -> tuple[bytes, dict]:
    body = compact(payload(notification_id=notification_id))
    return body, {"Content-Type": "application/json", "notify-signature": sign(KEY, body)}


def test_while_redis_is_down_writes_wait_reads_work_and_readyz_says_why(client, as_user, own_redis):
    headers = as_user(USER, client)
    body, signed = notification("n-1")
    assert client.get("/readyz").status_code == 200
    own_redis.stop()

    for answer in (
        client.post("/api/v1/attributions", json={"data": [EVENT]}, headers=headers),
        client.post("/api/v1/offers/abc/view", headers=headers),
        client.post("/webhooks/kard", data=body, headers=signed),
    ):
        assert answer.status_code == 503, answer.get_json()
        assert answer.headers["Retry-After"].isdigit()
        (error,) = answer.get_json()["errors"]
        assert "Redis" in error["detail"]
    for path in ("/api/v1/offers", "/api/v1/locations", "/api/v1/rewards"):
        assert client.get(path, headers=headers).status_code == 200
    assert client.post("/api/v1/webview/token", headers=headers).status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "Redis" in ready.get_json()["errors"][0]["detail"]

    own_redis.start()
    time.sleep(2.1)  # the shared parts try Redis again after OUTAGE_SECONDS
    assert client.get("/readyz").status_code == 200
    answer = client.post("/api/v1/attributions", json={"data": [EVENT]}, headers=headers)
    assert answer.status_code == 202
    assert client.post("/webhooks/kard", data=body, headers=signed).status_code == 200


def test_what_was_queued_before_redis_stopped_is_delivered_after(
    client, as_user, own_redis, simulator
):
    headers = as_user(USER, client)
    simulator.faults.inject(503, path=r"/attributions$", times=1)
    answer = client.post("/api/v1/attributions", json={"data": [EVENT]}, headers=headers)
    assert answer.get_json()["data"]["queued"] == 1
    own_redis.stop()
    own_redis.start()
    delivered = delivery(client.application).deliver_due(everything=True)
    assert delivered == 1
    assert [e["attributes"]["entityId"] for e in simulator.attribution_events(USER)] == ["offer-1"]


@pytest.mark.parametrize(
    "command",
    [["outbox", "status"], ["outbox", "dead"], ["webhooks", "status"], ["webhooks", "dead"]],
)
def test_the_commands_say_in_one_line_that_redis_is_down(state_dir, command):
    from click.testing import CliRunner

    from bff.cli import main

    config = {"REDIS_URL": "redis://user:secret@127.0.0.1:1/0", "BFF_STATE_DIR": str(state_dir)}
    result = CliRunner().invoke(main, command, obj=config)
    assert result.exit_code == 2
    assert result.output.startswith("kard-bff: Redis (REDIS_URL) cannot be used: ")
    assert "Traceback" not in result.output and "secret" not in result.output
