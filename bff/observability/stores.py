"""The gauges read from the durable stores when `/metrics` is scraped, not kept by a worker: so
they are right whichever process accepted the work, and with Redis the same on every instance
(the fleet's backlog: take their `max`, not their `sum`)."""

import logging
from collections.abc import Callable, Iterator
from typing import Any

from bff.attributions.outbox.store import Outbox
from bff.redact import redact_text

log = logging.getLogger(__name__)


class StoreGauges:
    """A prometheus-client collector of the attribution outbox's backlog."""

    def __init__(self, outbox: Callable[[], Outbox], clock: Callable[[], float]):
        self._outbox = outbox
        self._clock = clock

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            backlog = self._outbox().backlog(now=self._clock())
        except Exception as error:  # Redis or the state file cannot be read: the rest is served
            reason = redact_text(f"{type(error).__name__}: {error}")
            log.warning("the outbox gauges are left out of this scrape: %s", reason)
            return
        yield GaugeMetricFamily(
            "kard_bff_outbox_pending_events",
            "Attribution events accepted and not yet taken by Kard.",
            value=backlog.events,
        )
        yield GaugeMetricFamily(
            "kard_bff_outbox_oldest_age_seconds",
            "How long the oldest of them has waited (0 when none waits).",
            value=backlog.oldest_age_seconds,
        )
