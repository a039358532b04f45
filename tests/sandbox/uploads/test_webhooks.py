"""The simulator's fileProcessingResult webhook, received by real HTTP servers started here."""

import json
from collections.abc import Iterator
from contextlib import contextmanager

import flask
import httpx

from bench.harness import free_port
from bff.sandbox import Simulator, init_app
from tests.sandbox.helpers import ORG
from tests.sandbox.uploads.helpers import authorized, jsonl, processed, put, record, upload_url
from tests.sandbox.webhooks import KEY, receiver, subscribe, verified
from tests.servers import serve


def test_subscribed_webhook_is_signed_and_parses(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    with receiver() as hook:
        subscribe(api, hook.url)
        item = upload_url(api, "signed.jsonl")
        put(item["attributes"]["url"], jsonl(record(1), record(2, currency="EUR")))
        entry = processed(simulator, item["id"])
    ((body, headers),) = hook.received
    payload = verified(body, headers)
    data = payload.data
    assert data.type == "fileProcessingResult"
    assert data.attributes.file_name == "signed.jsonl"
    assert data.attributes.download_url == entry["resultsUrl"]
    assert data.attributes.sent_at == entry["receivedAt"]
    assert data.attributes.last_modified == entry["processedAt"]
    assert payload.meta is not None and payload.meta.issuer_id == ORG
    assert payload.meta.issuer_name == "Sandbox Issuer"
    document = httpx.get(data.attributes.download_url).json()
    assert (
        document["data"]["id"] == data.id and document["data"]["attributes"]["fileId"] == item["id"]
    )
    assert [error["id"] for error in document["errors"]] == ["rec-2"]
    (delivery,) = httpx.get(f"{kard_url}/_sandbox/webhooks").json()["data"]
    assert (delivery["url"], delivery["status"], delivery["attempts"]) == (hook.url, 200, 1)
    assert delivery["event"] == "fileProcessingResult" and delivery["body"] == json.loads(body)
    assert delivery["inProcess"] is False and delivery["error"] is None


def test_the_webhook_key_is_settable(api: httpx.Client, simulator: Simulator) -> None:
    simulator.webhook_key = "issuer-key-123"
    try:
        with receiver() as hook:
            subscribe(api, hook.url)
            put(upload_url(api)["attributes"]["url"], jsonl(record()))
            simulator.wait_for_uploads(timeout=30)
        ((body, headers),) = hook.received
        verified(body, headers, key="issuer-key-123")
    finally:
        simulator.webhook_key = KEY


def test_failed_deliveries_are_retried(api: httpx.Client, simulator: Simulator) -> None:
    with receiver(503, 502) as hook:
        subscribe(api, hook.url)
        put(upload_url(api)["attributes"]["url"], jsonl(record()))
        simulator.wait_for_uploads(timeout=30)
    assert len(hook.received) == 3 and len({body for body, _ in hook.received}) == 1
    (delivery,) = simulator.webhooks
    assert (delivery.status, delivery.attempts, delivery.error) == (200, 3, None)


def test_a_4xx_answer_is_not_retried(api: httpx.Client, simulator: Simulator) -> None:
    with receiver(401) as hook:
        subscribe(api, hook.url)
        put(upload_url(api)["attributes"]["url"], jsonl(record()))
        simulator.wait_for_uploads(timeout=30)
    (delivery,) = simulator.webhooks
    assert (delivery.status, delivery.attempts, len(hook.received)) == (401, 1, 1)


def test_an_unreachable_receiver_is_logged(api: httpx.Client, simulator: Simulator) -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/kard"
    subscribe(api, url)
    put(upload_url(api)["attributes"]["url"], jsonl(record()))
    simulator.wait_for_uploads(timeout=30)
    (delivery,) = simulator.webhooks
    assert delivery.url == url and delivery.status is None and delivery.attempts == 3
    assert delivery.error and delivery.error.startswith("ConnectError")


def test_without_a_subscription_nothing_is_sent(api: httpx.Client, simulator: Simulator) -> None:
    with receiver() as hook:
        subscribe(api, hook.url, enabled=False)
        put(upload_url(api)["attributes"]["url"], jsonl(record()))
        simulator.wait_for_uploads(timeout=30)
    assert hook.received == []
    (delivery,) = simulator.webhooks
    assert delivery.url is None and delivery.error == "no webhook URL for fileProcessingResult"
    assert delivery.payload["data"]["type"] == "fileProcessingResult"


def test_another_organizations_subscription_is_not_used(make_kard) -> None:
    simulator, url = make_kard(target_issuers=("other-org",))
    with (
        receiver() as hook,
        authorized(url) as api,
        authorized(url, target_issuer="other-org") as other,
    ):
        subscribe(api, hook.url)
        item = upload_url(other, org="other-org")
        put(item["attributes"]["url"], jsonl(record()))
        simulator.wait_for_uploads(timeout=30)
    assert hook.received == []
    assert simulator.webhooks[0].payload["meta"]["issuerId"] == "other-org"


@contextmanager
def host_app(simulator: Simulator) -> Iterator[tuple[str, list[tuple[bytes, dict[str, str]]]]]:
    """A host app with its own /webhooks/kard, the simulator under /sandbox/kard, served."""
    app = flask.Flask("host")
    app.config["MAX_CONTENT_LENGTH"] = 1000  # the host's JSON limit; uploads are not JSON
    got: list[tuple[bytes, dict[str, str]]] = []

    @app.post("/webhooks/kard")
    def kard_webhook() -> tuple[str, int]:
        got.append((flask.request.get_data(), dict(flask.request.headers)))
        return "", 204

    init_app(app, simulator)
    with serve(app) as url:
        yield url, got


def test_mounted_in_a_host_app_the_webhook_goes_to_its_own_endpoint() -> None:
    simulator = Simulator(webhook_key="host-key")
    with host_app(simulator) as (base, got), authorized(f"{base}/sandbox/kard") as api:
        item = upload_url(api)
        url = item["attributes"]["url"]
        assert url.startswith(f"{base}/sandbox/kard/s3/kard-uploads/{item['id']}/")
        body = jsonl(*[record(n) for n in range(20)])
        assert len(body) > 1000
        assert put(url, body).status_code == 201
        entry = processed(simulator, item["id"])
        assert entry["resultsUrl"].startswith(f"{base}/sandbox/kard/s3/kard-results/")
        ((raw, headers),) = got
        payload = verified(raw, headers, key="host-key")
        assert httpx.get(payload.data.attributes.download_url).json()["errors"] == []
    (delivery,) = simulator.webhooks
    assert (delivery.url, delivery.status, delivery.in_process) == (
        f"{base}/webhooks/kard",
        204,
        True,
    )


def test_mounted_in_a_host_app_a_subscription_wins() -> None:
    simulator = Simulator()
    with (
        receiver() as hook,
        host_app(simulator) as (base, got),
        authorized(f"{base}/sandbox/kard") as api,
    ):
        subscribe(api, hook.url)
        put(upload_url(api)["attributes"]["url"], jsonl(record()))
        simulator.wait_for_uploads(timeout=30)
    assert got == [] and len(hook.received) == 1
    verified(*hook.received[0])
