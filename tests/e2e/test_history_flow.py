"""Historical transactions end to end, across real processes and real HTTP.

An operator runs `kard-bff history upload`; Kard (the simulator) stores and processes the file,
then sends its signed `fileProcessingResult` webhook to a `kard-bff serve` process, which checks
the signature and forwards the notification to the issuer's own receiver; the operator then runs
`kard-bff history results` on the notification's download URL.
"""

import os
import queue
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from flask import Flask, request

from bff.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from bff.webhooks.signature import verify
from tests.servers import ServerProcess, kard_bff, serve
from tests.test_history import line, write

# Mid-rotation: Kard still signs with the old key; the BFF takes both, and signs with the first.
OLD_KEY, NEW_KEY = "issuer-webhook-key-2025", "issuer-webhook-key-2026"
FUTURE = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def receiver():
    """The issuer's own endpoint behind BFF_WEBHOOK_FORWARD_URL: queues what it is sent."""
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    app = Flask("issuer")

    @app.post("/kard-notifications")
    def notifications():
        received.put((dict(request.headers), request.get_data()))
        return "", 204

    with serve(app) as url:
        yield f"{url}/kard-notifications", received


@pytest.fixture
def env(kard_url, tmp_path):
    """The settings both the CLI and the BFF process run with: the test's simulator as Kard."""
    return {
        **os.environ,
        "KARD_ENV": "sandbox",
        "KARD_API_URL": kard_url,
        "KARD_WEBHOOK_KEY": f"{NEW_KEY},{OLD_KEY}",
        "BFF_STATE_DIR": str(tmp_path / "state"),
    }


def subscribe(kard_url: str, webhook_url: str) -> None:
    """Point Kard's fileProcessingResult notifications at the BFF, as an issuer's operator does."""
    token = httpx.post(
        f"{kard_url}/v2/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
    ).json()["access_token"]
    body = {
        "data": [
            {
                "type": "subscription",
                "attributes": {
                    "eventName": "fileProcessingResult",
                    "webhookUrl": webhook_url,
                    "enabled": True,
                },
            }
        ]
    }
    answer = httpx.post(
        f"{kard_url}/v2/issuers/org-sandbox/subscriptions",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text


def test_a_history_upload_from_refusal_to_results(
    simulator, kard_url, env, receiver, tmp_path, monkeypatch
):
    monkeypatch.setattr(simulator, "webhook_key", OLD_KEY)
    forward_url, received = receiver
    source = tmp_path / "history-2026.jsonl"

    # 1. Lines the BFF can tell are wrong: refused with their line numbers, nothing sent.
    write(
        source,
        line(1),
        line(2, amount="12.50"),
        line(3),
        b"{not json\n",
        line(5, currency="EUR"),
        line(6, direction="SIDEWAYS"),
        line(7, merchant={"name": "CORNER SHOP", "addrState": "ZZ"}),
        line(8, authorizationDate=FUTURE),
    )
    refused = kard_bff(env, "history", "upload", str(source))
    assert refused.returncode == 1, refused.stderr
    assert [row.split(": ")[0] for row in refused.stdout.splitlines()] == [
        f"{source}:2",
        f"{source}:4",
        f"{source}:6",
    ]
    assert "/attributes/amount must be an integer" in refused.stdout
    assert simulator.calls_to(r"/transactions/uploads$") == []

    # 2. Fixed: what only Kard knows (currency, state, a date in the future) is still in it.
    write(
        source,
        line(1),
        line(2),
        line(3),
        line(4),
        line(5, currency="EUR"),
        line(6),
        line(7, merchant={"name": "CORNER SHOP", "addrState": "ZZ"}),
        line(8, authorizationDate=FUTURE),
    )
    with ServerProcess(["serve"], env={**env, "BFF_WEBHOOK_FORWARD_URL": forward_url}) as bff:
        subscribe(kard_url, f"{bff.url}/webhooks/kard")
        uploaded = kard_bff(env, "history", "upload", str(source))
        assert uploaded.returncode == 0, uploaded.stderr
        simulator.wait_for_uploads(60)
        headers, body = received.get(timeout=30)

    # 3. Kard signed its webhook; the BFF verified it and answered 2xx; the receiver got it.
    (sent,) = simulator.webhooks
    assert (sent.url, sent.status) == (f"{bff.url}/webhooks/kard", 200)
    assert verify(sent.signature, body, [OLD_KEY])  # the very bytes Kard signed
    assert verify(headers["Notify-Signature"], body, [NEW_KEY])
    notification = orjson.loads(body)
    assert notification["data"]["type"] == "fileProcessingResult"
    assert headers["X-Kard-Notification-Id"] == notification["data"]["id"]

    # 4. The results name each remaining error at its line of the original file.
    url = notification["data"]["attributes"]["downloadUrl"]
    results = kard_bff(env, "history", "results", url)
    assert results.returncode == 1, results.stderr
    assert results.stdout.splitlines() == [
        f"{source}:5: Invalid request: .attributes.currency must be USD, the only currency the "
        "sandbox supports",
        f"{source}:7: Invalid request: .attributes.merchant.addrState must be a US state code, "
        "like PA",
        f"{source}:8: Invalid request: .attributes.authorizationDate must not be in the future",
    ]
    records = [orjson.loads(text) for text in source.read_bytes().splitlines()]
    users = {record["attributes"]["userId"] for record in records}
    accepted = [found["id"] for user in users for found in simulator.historical_transactions(user)]
    assert sorted(accepted) == sorted(records[n]["id"] for n in (0, 1, 2, 3, 5))


def test_a_standalone_simulator_signs_with_the_first_webhook_key(env, receiver, tmp_path):
    forward_url, received = receiver
    keys = {**os.environ, "KARD_WEBHOOK_KEY": f" ,{NEW_KEY},{OLD_KEY}"}  # read as the BFF does
    with ServerProcess(["sandbox"], env=keys, health_path="/") as kard:
        subscribe(kard.url, forward_url)
        source = write(tmp_path / "one.jsonl", line(1))
        uploaded = kard_bff({**env, "KARD_API_URL": kard.url}, "history", "upload", str(source))
        assert uploaded.returncode == 0, uploaded.stderr
        headers, body = received.get(timeout=30)
    assert orjson.loads(body)["data"]["type"] == "fileProcessingResult"
    assert verify(headers["Notify-Signature"], body, [NEW_KEY])
