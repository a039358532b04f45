"""The service's Prometheus metrics: what it counts, and their reading for `GET /metrics`.

Counters and histograms are prometheus-client's. Under `kard-bff serve` each worker process
writes them to its own files in `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess
mode, which `bff.server` sets up before any worker starts), so a scrape answered by any worker
sums every worker's, and the counts of a worker that exited stay in the sum. No gauge is kept by
a worker: the outbox's and the inbox's are read from the stores when scraped
(`bff.observability.stores`), so they are right across processes, and no worker leaves one behind.

Labels are bounded: a route is the URL rule that matched (`unmatched` for none), a method one of
HTTP's own (`other` for the rest), a Kard operation one of the client's names.
"""

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bff.kard.notifications import TYPES

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"  # where every worker's metrics files live
NOTIFICATION_TYPES = frozenset(TYPES)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"
# Seconds: a request served from a cache takes a millisecond, one that waits for Kard up to
# KARD_TIMEOUT (10 s).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Records what the service does when `enabled`; does nothing (and costs nothing) when not."""

    def __init__(self, enabled: bool):
        self._families = _families() if enabled else None

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count an answered request of `route` (a URL rule), and how long it took."""
        if self._families is None:
            return
        method = method if method in HTTP_METHODS else "other"
        self._families.http_requests.labels(method, route, str(status)).inc()
        self._families.http_duration.labels(method, route).observe(seconds)

    def kard_request(self, operation: str, status: int | str, seconds: float) -> None:
        """Count a request sent to Kard: its answer's status, or how it failed (`timeout`, ...)."""
        if self._families is None:
            return
        self._families.kard_requests.labels(operation, str(status)).inc()
        self._families.kard_duration.labels(operation).observe(seconds)

    def token_fetch(self, status: int | str) -> None:
        """Count a request for a Kard access token (one of the `kard_request`s too)."""
        if self._families is not None:
            self._families.token_fetches.labels(str(status)).inc()

    def webhook(self, kind: str, outcome: str) -> None:
        """Count a notification Kard sent, by type (Kard's documented ones, `other` for a new
        one, `unknown` when unread) and what became of it."""
        if self._families is not None:
            label = kind if kind in NOTIFICATION_TYPES or kind == "unknown" else "other"
            self._families.webhooks.labels(label, outcome).inc()

    def attribution_chunk(self, outcome: str) -> None:
        """Count what became of a queued attribution chunk when it was next tried: `delivered`,
        `retried`, `rejected` (Kard refused it) or `dead` (given up on)."""
        if self._families is not None:
            self._families.attribution_chunks.labels(outcome).inc()

    def rate_limited(self, scope: str) -> None:
        """Count a request refused with 429 (`scope`: `user` or `address`)."""
        if self._families is not None:
            self._families.rate_limited.labels(scope).inc()


def exposition(*collectors: Any) -> bytes:
    """The metrics of every worker of this instance and those of `collectors`, in Prometheus's
    text format."""
    from prometheus_client import generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    if MULTIPROCESS_DIRECTORY in os.environ:
        counted = MultiProcessCollector(None)
    else:
        counted = _families().registry
    return generate_latest(_Together([counted, *collectors]))


@dataclass(frozen=True)
class _Together:
    """Several collectors read as one registry."""

    collectors: Iterable[Any]

    def collect(self) -> Iterable[Any]:
        for collector in self.collectors:
            yield from collector.collect()


@dataclass(frozen=True)
class _Families:
    registry: Any
    http_requests: Any
    http_duration: Any
    kard_requests: Any
    kard_duration: Any
    token_fetches: Any
    webhooks: Any
    attribution_chunks: Any
    rate_limited: Any


@functools.cache
def _families() -> _Families:
    """The metric objects, made on first use. prometheus-client picks its storage, one process's
    or every worker's files, when it is imported: so not before `kard-bff serve` has set
    PROMETHEUS_MULTIPROC_DIR, which is why nothing imports it at module level."""
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry()

    def counter(name: str, help_text: str, labels: list[str]) -> Any:
        return Counter(name, help_text, labels, registry=registry)

    def histogram(name: str, help_text: str, labels: list[str]) -> Any:
        return Histogram(name, help_text, labels, registry=registry, buckets=DURATION_BUCKETS)

    return _Families(
        registry=registry,
        http_requests=counter(
            "kard_bff_http_requests", "Requests answered.", ["method", "route", "status"]
        ),
        http_duration=histogram(
            "kard_bff_http_request_duration_seconds", "Time to answer.", ["method", "route"]
        ),
        kard_requests=counter(
            "kard_bff_kard_requests", "Requests sent to Kard.", ["operation", "status"]
        ),
        kard_duration=histogram(
            "kard_bff_kard_request_duration_seconds", "Time Kard took.", ["operation"]
        ),
        token_fetches=counter(
            "kard_bff_kard_token_fetches", "Kard access tokens asked for.", ["status"]
        ),
        webhooks=counter(
            "kard_bff_webhooks",
            "Notifications Kard sent, and what became of them.",
            ["type", "outcome"],
        ),
        attribution_chunks=counter(
            "kard_bff_attribution_chunks",
            "Queued attribution chunks tried again, and what became of them.",
            ["outcome"],
        ),
        rate_limited=counter(
            "kard_bff_rate_limited", "Requests refused past a rate limit.", ["scope"]
        ),
    )
