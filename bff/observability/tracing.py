"""Traces with OpenTelemetry: a span per request (Flask's instrumentation), one per request to
Kard and to the webhook forward URL (httpx's), the caller's W3C `traceparent` continued.

Off unless an exporter is configured, and then configured only by OpenTelemetry's own
variables, read as its SDK reads them: `OTEL_TRACES_EXPORTER` (`otlp`, `console` or `none`;
`otlp` when only an endpoint is given), `OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (OTLP over HTTP), `OTEL_SERVICE_NAME` (default `kard-bff`),
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, `OTEL_PROPAGATORS`.
`from_environment` builds a provider in each worker process, once it has forked: the batch
processor's thread does not cross a fork.

Spans carry no token and no user ID: a Kard span names its operation (`kard get_offers`), its
URL the path's template (`/v2/issuers/{org}/users/{user}/offers`, no query); a request span's
query values are redacted as the access log's are.
"""

import os
import re
from collections.abc import Mapping
from typing import Any

import httpx
from flask import Blueprint, Flask, request
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor, SyncOpenTelemetryTransport
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from bff.access_log import TRACE_ENVIRON
from bff.kard.client import OPERATION_EXTENSION, route_template
from bff.redact import redact_query, redact_url
from bff.settings import ConfigError

EXPORTERS = ("otlp", "console", "none")
ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
UNTRACED_PATHS = "healthz,readyz,metrics"  # probes and scrapes: many, and of no interest
# Attributes that hold a request's query, in the old HTTP conventions and the stable ones.
QUERY_ATTRIBUTES = ("http.target", "http.url", "url.query", "url.full")


def from_environment(environ: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """A tracer provider exporting as the OTEL_* variables say; None when none names an
    exporter (tracing off). A bad value is a `ConfigError` naming its variable."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = [name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [name for name in named if name] or (
        ["otlp"] if any(environ.get(variable) for variable in ENDPOINTS) else []
    )
    unknown = [name for name in names if name not in EXPORTERS]
    if unknown:
        raise ConfigError(
            f"OTEL_TRACES_EXPORTER must list {', '.join(EXPORTERS)}, not {unknown[0]!r}"
        )
    exporters = [_exporter(name, environ) for name in names if name != "none"]
    if not exporters:
        return None
    service = environ.get("OTEL_SERVICE_NAME", "").strip() or "kard-bff"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class HttpTracing:
    """What traces the app's HTTP clients: a span per request, `traceparent` sent on."""

    def __init__(self, provider: TracerProvider):
        self._provider = provider
        self.tracer = provider.get_tracer("kard-bff")  # the spans the app starts itself

    def transport(self, transport: httpx.BaseTransport) -> httpx.BaseTransport:
        """`transport`, each request it sends traced."""
        return SyncOpenTelemetryTransport(
            transport, tracer_provider=self._provider, request_hook=_client_span
        )

    def client(self, client: httpx.Client) -> None:
        """Trace every request `client` sends, through any of its transports."""
        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=self._provider, request_hook=_client_span
        )


def init_app(
    app: Flask, scope: Flask | Blueprint, provider: TracerProvider, url_prefix: str = ""
) -> None:
    """Trace the app's requests (only those under `url_prefix`, when kard-bff has one in a host
    app: the host's own are the host's to trace), and name their trace in the access log."""
    excluded = UNTRACED_PATHS
    if url_prefix:  # a URL whose path is not under the prefix; the instrumentation splits on ","
        excluded += rf",^[^:/]+://[^/]+(?!{re.escape(url_prefix)}(?:[/?]|$))"
    FlaskInstrumentor.instrument_app(
        app, tracer_provider=provider, response_hook=_server_span, excluded_urls=excluded
    )
    scope.after_request(_note_trace)


def _server_span(span: trace.Span, status: str, headers: list) -> None:
    """Redact the query values of a request's span (a WebView `token=`, a CTA's `sig=`), once
    Flask's instrumentation has set them all."""
    if span.is_recording():
        _redact_queries(span)


def _client_span(span: trace.Span, request_info: Any) -> None:
    """Name a Kard request's span by its operation, and give its URL as the path's template."""
    if not span.is_recording():
        return
    url = httpx.URL(request_info.url)
    operation = (request_info.extensions or {}).get(OPERATION_EXTENSION)
    if operation is not None:
        span.update_name(f"kard {operation}")
        span.set_attribute("kard.operation", operation)
        template = f"{url.scheme}://{url.netloc.decode()}{route_template(url.path)}"
        for name in ("http.url", "url.full"):
            if name in span.attributes:
                span.set_attribute(name, template)
    else:
        _redact_queries(span)


def _redact_queries(span: trace.Span) -> None:
    for name in QUERY_ATTRIBUTES:
        value = span.attributes.get(name)
        if isinstance(value, str) and value:
            span.set_attribute(
                name, redact_query(value) if name == "url.query" else redact_url(value)
            )


def _note_trace(response: Any) -> Any:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        request.environ[TRACE_ENVIRON] = trace.format_trace_id(context.trace_id)
    return response


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol.strip() != "http/protobuf":
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf (OTLP over HTTP), not {protocol!r}"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()
