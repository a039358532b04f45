"""Kard's outbound notification webhooks: HMAC-signed JSON POSTs, retried, and logged."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

SIGNATURE_HEADER = "notify-signature"
ISSUER_NAME = "Sandbox Issuer"
ATTEMPTS = 3
BACKOFF = (0.2, 0.5)  # seconds to wait before the second and third attempts
TIMEOUT = 10.0


def signature(key: str | bytes, body: bytes) -> str:
    """Return the `notify-signature` of a body: base64 of its HMAC-SHA256 under the webhook key."""
    secret = key.encode() if isinstance(key, str) else key
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def encode(payload: dict[str, Any]) -> bytes:
    """Serialise a payload the way JavaScript's JSON.stringify does, as Kard's recipe verifies."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Target:
    """Where to POST a webhook; `transport` delivers it in-process (to a host app) when set."""

    url: str
    transport: httpx.BaseTransport | None = None

    @classmethod
    def in_process(cls, url: str, app: Any) -> "Target":
        """Deliver to a WSGI app in this process, whatever host name it was reached by."""
        return cls(url, httpx.WSGITransport(app=app))


@dataclass
class Delivery:
    """One webhook Kard sent (or could not send): where, what, and how it went."""

    event: str
    url: str | None
    payload: dict[str, Any]
    signature: str
    status: int | None = None
    error: str | None = None
    attempts: int = 0
    in_process: bool = False

    def to_json(self) -> dict[str, Any]:
        """Render the delivery for the HTTP control surface."""
        return {
            "event": self.event,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "attempts": self.attempts,
            "inProcess": self.in_process,
            "signature": self.signature,
            "body": self.payload,
        }


@dataclass
class Notifier:
    """Sends signed webhooks and keeps the log of every delivery."""

    key: str | bytes
    _log: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, event: str, targets: Sequence[Target], payload: dict[str, Any]) -> None:
        """POST the payload to every target (logging that it went nowhere when there is none)."""
        body = encode(payload)
        signed = signature(self.key, body)
        if not targets:
            self._record(
                Delivery(event, None, payload, signed, error=f"no webhook URL for {event}")
            )
        for target in targets:
            delivery = Delivery(
                event, target.url, payload, signed, in_process=target.transport is not None
            )
            _post(target, body, delivery)
            self._record(delivery)

    @property
    def deliveries(self) -> list[Delivery]:
        """Return every delivery so far, oldest first."""
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        """Forget every delivery."""
        with self._lock:
            self._log.clear()

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self._log.append(delivery)


def _post(target: Target, body: bytes, delivery: Delivery) -> None:
    """POST with up to ATTEMPTS tries, retrying connection errors and 5xx answers."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: delivery.signature}
    with httpx.Client(transport=target.transport, timeout=TIMEOUT) as client:
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(BACKOFF[attempt - 1])
            delivery.attempts = attempt + 1
            try:
                response = client.post(target.url, content=body, headers=headers)
            except Exception as error:  # a failed delivery is logged, never raised
                delivery.status, delivery.error = None, f"{type(error).__name__}: {error}"
                continue
            delivery.status, delivery.error = response.status_code, None
            if response.status_code < 500:
                return
