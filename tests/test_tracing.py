"""Traces with OpenTelemetry: a request's spans, its caller's trace continued to Kard, and no
token or user ID in any span; configured by the OTEL_* variables alone."""

import io
import json
import logging
import time

import orjson
import pytest
from flask import Flask, request
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bff import create_app, stop_workers
from bff.observability import logs
from bff.observability.tracing import from_environment
from bff.settings import ConfigError
from bff.webhooks.signature import sign
from tests.servers import serve
from tests.test_webhooks import payload

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
CALLER = f"00-{TRACE_ID}-{PARENT_ID}-01"
USER = "u-traced-5c1e"


@pytest.fixture
def spans():
    return InMemorySpanExporter()


@pytest.fixture
def traced_app(kard_url, state_dir, spans):
    """`traced_app(**config)`: a sandbox BFF, Kard the simulator on its port, tracing into
    `spans`; its background threads stop when the test ends."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    apps = []

    def make(**config: str):
        base = {"KARD_API_URL": kard_url, "BFF_STATE_DIR": str(state_dir)}
        apps.append(create_app({**base, **config}, tracer_provider=provider))
        return apps[-1]

    yield make
    for app in apps:
        stop_workers(app)


@pytest.fixture
def traced(traced_app):
    return traced_app().test_client()


def test_a_request_continues_its_callers_trace_to_kard(traced, spans, simulator):
    token = traced.post("/dev/session", json={"userId": USER}).json["token"]
    spans.clear()
    simulator.calls.clear()
    response = traced.get(
        "/api/v1/offers?page[size]=5",
        headers={"Authorization": f"Bearer {token}", "traceparent": CALLER},
    )
    assert response.status_code == 200

    finished = spans.get_finished_spans()
    [server] = [span for span in finished if span.kind == trace.SpanKind.SERVER]
    assert server.name == "GET /api/v1/offers"
    assert trace.format_trace_id(server.context.trace_id) == TRACE_ID
    assert trace.format_span_id(server.parent.span_id) == PARENT_ID
    [kard] = [span for span in finished if span.name == "kard get_offers"]
    assert kard.kind == trace.SpanKind.CLIENT and kard.parent.span_id == server.context.span_id
    assert kard.attributes["kard.operation"] == "get_offers"

    [call] = simulator.calls_to(rf"/users/{USER}/offers$")
    headers = {name.lower(): value for name, value in call.headers.items()}
    sent = headers["traceparent"]  # Kard is told the trace, and the span that called it
    assert sent.split("-")[1:3] == [TRACE_ID, trace.format_span_id(kard.context.span_id)]

    for span in finished:
        text = repr(dict(span.attributes)) + span.name
        assert USER not in text and token not in text and "Bearer" not in text


def test_lines_logged_in_a_traced_request_carry_its_trace_id(traced, simulator):
    token = traced.post("/dev/session", json={"userId": USER}).json["token"]
    written = io.StringIO()
    handler = logs.handler("json", written)
    kard_log = logging.getLogger("bff.kard.client")
    kard_log.addHandler(handler)
    simulator.faults.inject(500, path=r"/offers$", times=1)  # the client logs a warning
    try:
        headers = {"Authorization": f"Bearer {token}", "traceparent": CALLER}
        answer = traced.get("/api/v1/offers", headers={**headers, "X-Request-ID": "req-traced"})
    finally:
        kard_log.removeHandler(handler)
    assert answer.status_code == 502
    [line] = [json.loads(text) for text in written.getvalue().splitlines()]
    assert (line["trace_id"], line["request_id"]) == (TRACE_ID, "req-traced")


def test_a_webhook_is_handed_on_in_the_trace_kard_sent_it_in(traced_app, spans):
    seen = []
    receiver = Flask(__name__)

    @receiver.post("/kard-events")
    def take():
        seen.append(request.headers.get("traceparent"))
        return "", 200

    with serve(receiver) as receiver_url:
        app = traced_app(
            KARD_WEBHOOK_KEY="whsec-traced-0123456789",
            BFF_WEBHOOK_FORWARD_URL=f"{receiver_url}/kard-events",
        )
        body = orjson.dumps(payload(notification_id="n-traced"))
        headers = {"notify-signature": sign("whsec-traced-0123456789", body), "traceparent": CALLER}
        assert (
            app.test_client().post("/webhooks/kard", data=body, headers=headers).status_code == 200
        )
        deadline = time.monotonic() + 10
        while not seen:
            assert time.monotonic() < deadline, "the notification was not handed on"
            time.sleep(0.02)

    [sent] = seen
    assert sent.split("-")[1] == TRACE_ID  # the receiver continues Kard's trace
    [hand_on] = [s for s in spans.get_finished_spans() if s.name == "webhook hand-on"]
    assert trace.format_trace_id(hand_on.context.trace_id) == TRACE_ID


def test_a_query_token_is_redacted_in_the_span(traced, spans):
    traced.get("/embed?token=secret-webview-token&theme=abc").close()
    [server] = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert "secret-webview-token" not in repr(dict(server.attributes))


def test_tracing_is_off_unless_an_exporter_is_configured():
    assert from_environment({}) is None
    assert from_environment({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert (
        from_environment({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}) is None
    )
    provider = from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "kard-bff"
    provider.shutdown()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "PROTOCOL"),
    ],
)
def test_a_bad_otel_variable_is_a_configuration_error(environ, named):
    with pytest.raises(ConfigError, match=named):
        from_environment(environ)
