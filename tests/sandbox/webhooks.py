"""A webhook receiver on a real port, and the checks of what Kard's notifications carry."""

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import flask
import httpx
from kard.notifications import NotificationPayload

from tests.sandbox.helpers import ORG
from tests.servers import serve

KEY = "sandbox-webhook-key"


@dataclass
class Receiver:
    """A webhook endpoint on a real port: what it received, and the statuses it will answer."""

    url: str
    answers: list[int] = field(default_factory=list)
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)


@contextmanager
def receiver(*answers: int) -> Iterator[Receiver]:
    """Serve a webhook receiver answering `answers` in turn, then 200."""
    app = flask.Flask("receiver")
    got = Receiver("", list(answers))

    @app.post("/hooks/kard")
    def receive() -> tuple[str, int]:
        got.received.append((flask.request.get_data(), dict(flask.request.headers)))
        return "", got.answers.pop(0) if got.answers else 200

    with serve(app) as url:
        got.url = f"{url}/hooks/kard"
        yield got


def signed(body: bytes, headers: dict[str, str], key: str = KEY) -> dict:
    """Check the HMAC of the raw body against `notify-signature`; return the payload."""
    expected = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["Notify-Signature"] == expected
    assert headers["Content-Type"] == "application/json"
    # Kard's recipe re-serialises the parsed body with JSON.stringify: the bytes must survive it.
    assert json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode() == body
    return json.loads(body)


def verified(body: bytes, headers: dict[str, str], key: str = KEY) -> NotificationPayload:
    """Check the signature, and parse the payload with the official SDK."""
    signed(body, headers, key)
    return NotificationPayload.model_validate_json(body)


def subscribe(
    api: httpx.Client, url: str, enabled: bool = True, event: str = "fileProcessingResult"
) -> None:
    """Subscribe `url` to the organization's `event` notifications."""
    attributes = {"eventName": event, "webhookUrl": url, "enabled": enabled}
    body = {"data": [{"type": "subscription", "attributes": attributes}]}
    assert api.post(f"/v2/issuers/{ORG}/subscriptions", json=body).status_code == 201
