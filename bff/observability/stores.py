"""The gauges read from the durable stores when `/metrics` is scraped, not kept by a worker: so
they are right whichever process accepted the work, and with Redis the same on every instance
(the fleet's backlog: take their `max`, not their `sum`)."""

import logging
from collections.abc import Callable, Iterator
from typing import Any

from bff.attributions.outbox.store import Outbox
from bff.redact import redact_text
from bff.webhooks.inbox.store import Inbox

log = logging.getLogger(__name__)


class StoreGauges:
    """A prometheus-client collector of the attribution outbox's and the webhook inbox's
    backlogs. A store that cannot be read (Redis down) leaves its gauges out of the scrape."""

    def __init__(
        self,
        outbox: Callable[[], Outbox],
        inbox: Callable[[], Inbox],
        clock: Callable[[], float],
    ):
        self._outbox = outbox
        self._inbox = inbox
        self._clock = clock

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        def gauge(name: str, help_text: str, value: float) -> Any:
            return GaugeMetricFamily(name, help_text, value=value)

        if backlog := self._read("outbox", lambda: self._outbox().backlog(now=self._clock())):
            yield gauge(
                "kard_bff_outbox_pending_events",
                "Attribution events accepted, not yet taken by Kard, and still tried.",
                backlog.events,
            )
            yield gauge(
                "kard_bff_outbox_oldest_age_seconds",
                "How long the oldest of them has waited (0 when none waits).",
                backlog.oldest_age_seconds,
            )
            yield gauge(
                "kard_bff_outbox_dead_letters",
                "Attribution chunks given up on, kept until replayed or purged.",
                backlog.dead_letters,
            )
        if handoffs := self._read("inbox", lambda: self._inbox().handoffs(now=self._clock())):
            yield gauge(
                "kard_bff_webhook_handoffs_pending",
                "Kard notifications accepted and not yet handed on.",
                handoffs.pending,
            )
            yield gauge(
                "kard_bff_webhook_handoffs_oldest_age_seconds",
                "How long the oldest of them has waited since Kard sent it (0 when none waits).",
                handoffs.oldest_age_seconds,
            )
            yield gauge(
                "kard_bff_webhook_dead_letters",
                "Kard notifications given up on, kept until replayed or purged.",
                handoffs.dead_letters,
            )

    @staticmethod
    def _read(store: str, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except Exception as error:  # Redis or the state file cannot be read: the rest is served
            reason = redact_text(f"{type(error).__name__}: {error}")
            log.warning("the %s gauges are left out of this scrape: %s", store, reason)
            return None
