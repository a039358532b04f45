"""Kard's outbound notification webhooks: HMAC-signed JSON POSTs, retried, and logged."""

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

SIGNATURE_HEADER = "notify-signature"
ISSUER_NAME = "Sandbox Issuer"
ATTEMPTS = 3
BACKOFF = (0.2, 0.5)  # seconds to wait before the second and third attempts
TIMEOUT = 10.0
MAX_LOGGED = 10_000  # the delivery log keeps the latest
MAX_QUEUED = 10_000  # notifications waiting to be sent; past it, the sender waits its turn


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


class Notifier:
    """Sends signed webhooks and keeps the log of the latest deliveries.

    `send` delivers at once; `post` queues a delivery for the one sender thread, so whoever
    caused the event (a request, a clock step) does not wait for the receiver, and each
    receiver gets the notifications in the order they were posted. `clear` forgets the log and
    what is still queued (a reset sends nothing of before it).
    """

    def __init__(self, key: str | bytes) -> None:
        self.key = key
        self._log: deque[Delivery] = deque(maxlen=MAX_LOGGED)
        self._queue: queue.Queue[tuple[int, str, Sequence[Target], dict[str, Any]]] = queue.Queue(
            MAX_QUEUED
        )
        self._generation = 0  # moved on by `clear`: what was queued before is not sent
        self._lock = threading.Lock()
        self._sender: threading.Thread | None = None

    def send(self, event: str, targets: Sequence[Target], payload: dict[str, Any]) -> None:
        """POST the payload to every target (logging that it went nowhere when there is none)."""
        with self._lock:
            generation = self._generation
        self._deliver(generation, event, targets, payload)

    def post(self, event: str, targets: Sequence[Target], payload: dict[str, Any]) -> None:
        """Queue the notification for the sender thread."""
        with self._lock:
            if self._sender is None:
                self._sender = threading.Thread(
                    target=self._send_queued, name="kard-simulator-webhooks", daemon=True
                )
                self._sender.start()
            generation = self._generation
        self._queue.put((generation, event, targets, payload))

    def wait(self, timeout: float) -> None:
        """Return once every posted notification is sent; TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                raise TimeoutError(f"webhooks still being sent after {timeout} s")
            time.sleep(0.01)

    @property
    def deliveries(self) -> list[Delivery]:
        """Return the logged deliveries, oldest first."""
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        """Forget every delivery, and every notification still queued."""
        with self._lock:
            self._log.clear()
            self._generation += 1

    def _deliver(
        self, generation: int, event: str, targets: Sequence[Target], payload: dict[str, Any]
    ) -> None:
        """Send to each target and log it, unless a `clear` came since it was posted."""
        body = encode(payload)
        signed = signature(self.key, body)
        if not targets:
            delivery = Delivery(event, None, payload, signed, error=f"no webhook URL for {event}")
            self._record(generation, delivery)
        for target in targets:
            if not self._current(generation):
                return
            delivery = Delivery(
                event, target.url, payload, signed, in_process=target.transport is not None
            )
            _post(target, body, delivery)
            self._record(generation, delivery)

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _record(self, generation: int, delivery: Delivery) -> None:
        with self._lock:
            if generation == self._generation:
                self._log.append(delivery)

    def _send_queued(self) -> None:
        while True:
            generation, event, targets, payload = self._queue.get()
            try:
                self._deliver(generation, event, targets, payload)
            finally:
                self._queue.task_done()


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
