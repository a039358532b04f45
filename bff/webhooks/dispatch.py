"""Hand Kard's notifications to the issuer's systems: a Python hook and/or a forward URL.

The webhook endpoint stores a notification and answers at once; this dispatcher's thread then
calls the hook (`BFF_WEBHOOK_HOOK`, `module:function`, given the parsed `Notification`) and POSTs
the body Kard sent, freshly signed with the current key, to `BFF_WEBHOOK_FORWARD_URL`. A failure
of either is retried with backoff, so each notification is handed on at least once (the forward
carries `X-Kard-Notification-Id` for the receiver to deduplicate), until it has been tried
`BFF_WEBHOOK_MAX_ATTEMPTS` times or was received `BFF_WEBHOOK_MAX_AGE` seconds ago: then it is a
dead letter, kept in the inbox until an operator replays or purges it (`kard-bff webhooks`).
"""

import contextlib
import importlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import httpx
import orjson
from opentelemetry import propagate, trace

from bff.background import Worker
from bff.kard.notifications import Notification, parse_notification
from bff.redact import redact_text
from bff.retries import retry_at
from bff.webhooks.inbox.store import Inbox, Pending
from bff.webhooks.signature import sign

if TYPE_CHECKING:
    from bff.observability.tracing import HttpTracing

log = logging.getLogger(__name__)

Hook = Callable[[Notification], None]
FORWARD_TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 60.0  # longer than a hook call and a forward should ever take


class HandoffObserver(Protocol):
    """What counts what became of each notification (the app's metrics)."""

    def webhook(self, kind: str, outcome: str) -> None: ...


class Dispatcher:
    """Accepts verified notifications once each, and hands them on in the background."""

    def __init__(
        self,
        inbox: Inbox,
        *,
        hook: Hook | None,
        forward_url: str | None,
        signing_key: str,
        max_attempts: int,
        max_age: float,
        clock: Callable[[], float] = time.time,
        observer: HandoffObserver | None = None,
        tracing: "HttpTracing | None" = None,
    ):
        self.inbox = inbox
        self._hook = hook
        self._forward_url = forward_url
        self._signing_key = signing_key
        self._max_attempts = max_attempts
        self._max_age = max_age
        self._clock = clock
        self._name = uuid.uuid4().hex
        self._held: set[str] = set()  # notifications this process leased and has not settled
        self._observer = observer
        self._tracing = tracing
        self._http = httpx.Client(timeout=FORWARD_TIMEOUT_SECONDS) if forward_url else None
        if self._http is not None and tracing is not None:
            tracing.client(self._http)
        self._worker = Worker("webhooks", self.deliver_due)

    @property
    def hands_on(self) -> bool:
        """Whether anything is configured to receive notifications."""
        return self._hook is not None or self._forward_url is not None

    def accept(self, notification: Notification, traceparent: str | None = None) -> bool:
        """Store a notification durably, to be handed on in the trace `traceparent` names (the
        request's that brought it); False when its ID was accepted before."""
        new = self.inbox.add(
            notification.id,
            notification.type,
            notification.body,
            now=self._clock(),
            pending=self.hands_on,
            traceparent=traceparent,
        )
        if new and self.hands_on:
            self._worker.ensure_started()
            self._worker.wake()
        return new

    def ensure_worker(self) -> None:
        """Start this process's dispatch thread (it also hands on what earlier runs left)."""
        if self.hands_on:
            self._worker.ensure_started()

    def stop_worker(self) -> None:
        """Stop this process's dispatch thread, letting it settle the notification it is handing
        on, then hand back what this process still holds: due again at once, for any worker."""
        if self._worker.stop(timeout=LEASE_SECONDS):
            for notification_id in list(self._held):
                self.inbox.release(notification_id, self._owner, now=self._clock())
                self._held.discard(notification_id)

    def deliver_due(self) -> int:
        """Hand on every due notification (until told to stop); return how many were tried."""
        tried = 0
        while not self._worker.stopping and (
            pending := self.inbox.lease(self._owner, now=self._clock(), seconds=LEASE_SECONDS)
        ):
            tried += 1
            self._held.add(pending.id)
            try:
                with self._span(pending):
                    self._hand_on(parse_notification(orjson.loads(pending.body), pending.body))
            except Exception as error:  # the issuer's hook or endpoint failed
                # httpx names the forward URL whole, with its userinfo and ?apikey=.
                self._failed(pending, redact_text(f"{type(error).__name__}: {error}"))
            else:
                self.inbox.handled(pending.id, now=self._clock())
                self._count(pending, "handed_on")
            self._held.discard(pending.id)  # kept when settling it failed: handed back at stop
        return tried

    def _failed(self, pending: Pending, reason: str) -> None:
        """Decide what becomes of a notification that could not be handed on: tried again later,
        or, once it has had its attempts or its time, a dead letter."""
        now = self._clock()
        if pending.attempts < self._max_attempts and now - pending.received_at < self._max_age:
            log.warning("notification %s not handed on yet: %s", pending.id, reason)
            at = retry_at(pending.attempts, now=now)
            self.inbox.retry_later(pending.id, at=at, error=reason)
            self._count(pending, "retried")
            return
        self.inbox.dead(pending.id, now=now, error=reason)
        self._count(pending, "dead")
        log.warning(
            "notification %s is a dead letter after %d attempts: %s",
            pending.id,
            pending.attempts,
            reason,
        )

    def _count(self, pending: Pending, outcome: str) -> None:
        if self._observer is not None:
            self._observer.webhook(pending.type, outcome)

    def _span(self, pending: Pending) -> contextlib.AbstractContextManager[object]:
        """A span for handing `pending` on, in the trace of the request that brought it."""
        if self._tracing is None:
            return contextlib.nullcontext()
        carrier = {"traceparent": pending.traceparent} if pending.traceparent else {}
        return self._tracing.tracer.start_as_current_span(
            "webhook hand-on",
            context=propagate.extract(carrier),
            kind=trace.SpanKind.CONSUMER,
            attributes={"kard.notification.type": pending.type, "attempt": pending.attempts},
        )

    @property
    def _owner(self) -> str:
        """This process's name on its leases; a forked child gets its own."""
        return f"{self._name}-{os.getpid()}"

    def _hand_on(self, notification: Notification) -> None:
        if self._hook is not None:
            self._hook(notification)
        if self._http is not None and self._forward_url is not None:
            response = self._http.post(
                self._forward_url,
                content=notification.body,
                headers={
                    "Content-Type": "application/json",
                    "notify-signature": sign(self._signing_key, notification.body),
                    "X-Kard-Notification-Id": notification.id,
                    "X-Kard-Notification-Type": notification.type,
                },
            )
            response.raise_for_status()


def load_hook(reference: str) -> Hook:
    """Import `package.module:function`; raise ValueError naming what is missing."""
    module_name, _, attribute = reference.partition(":")
    try:
        hook = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot import {reference}: {error}") from None
    if not callable(hook):
        raise ValueError(f"{reference} is not callable")
    return hook
