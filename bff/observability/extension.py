"""The app's metrics, its requests counted by URL rule as they are answered, and its tracing
(none unless a tracer provider is given: `bff.observability.tracing`)."""

import functools
import re
import time
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response, g, request

from bff.current import parts
from bff.mount import UNROUTED
from bff.observability.metrics import UNMATCHED_ROUTE, Metrics
from bff.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from bff.observability.tracing import HttpTracing

_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")  # `<any(activate, boost):action>`


def init_app(
    app: Flask,
    scope: Flask | Blueprint,
    settings: Settings,
    tracer_provider: "TracerProvider | None",
    url_prefix: str = "",
) -> None:
    """Keep the app's metrics, on when they can be read (`Settings.metrics`), and count every
    request of `scope` from the first of its `before_request` functions to its answer; trace
    its requests (those under `url_prefix` when it has one) and its HTTP clients' with
    `tracer_provider`."""
    parts(app)["metrics"] = Metrics(settings.metrics)
    if settings.metrics:
        scope.before_request_funcs.setdefault(None, []).insert(0, _started)
        scope.after_request(_answered)
    parts(app)["http_tracing"] = None
    if tracer_provider is not None:
        from bff.observability import tracing

        tracing.init_app(app, scope, tracer_provider, url_prefix)
        parts(app)["http_tracing"] = tracing.HttpTracing(tracer_provider)


def metrics(app: Flask | None = None) -> Metrics:
    """The app's metrics (the current app's by default)."""
    return parts(app)["metrics"]


def http_tracing(app: Flask | None = None) -> "HttpTracing | None":
    """What traces the app's HTTP clients; None when tracing is off."""
    return parts(app)["http_tracing"]


def _started() -> None:
    g.started = time.perf_counter()


def _answered(response: Response) -> Response:
    started = g.get("started")
    if started is not None:  # None: the answer came before the request's functions ran
        rule = request.url_rule
        routed = rule is not None and rule.endpoint != UNROUTED
        route = route_label(rule.rule) if routed else UNMATCHED_ROUTE
        seconds = time.perf_counter() - started
        metrics().http_request(request.method, route, response.status_code, seconds)
    return response


@functools.lru_cache(maxsize=512)  # one per URL rule of the app
def route_label(rule: str) -> str:
    """A URL rule as a label, its converters left out: `/api/v1/offers/<offer_id>/<action>`."""
    return _CONVERTER.sub(r"<\1>", rule)
