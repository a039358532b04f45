"""The service's log lines: plain text, or one JSON object per line (`BFF_LOG_FORMAT=json`).

Every handler this builds carries the request's ID (`request_id`, "-" outside a request), the
trace's when a span is recording (`trace_id`), and redacts the URLs in a message
(`bff.redact`). JSON lines are python-json-logger's, encoded by orjson: `time`, `level`,
`logger`, `message`, and what a record carries besides (the access log's `method`, `path`,
`status`, `duration_ms`, `user`, ...).
"""

import logging
from typing import IO

from opentelemetry import trace
from pythonjsonlogger.orjson import OrjsonFormatter

from bff.middleware import RequestIdFilter
from bff.redact import RedactingFilter, redact_logs

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "{levelname}{name}{message}"
JSON_NAMES = {"levelname": "level", "name": "logger"}


def configure(log_format: str) -> None:
    """Log INFO and above to standard error in `log_format`, with every URL redacted (httpx's
    request lines only from WARNING: each names a URL)."""
    logging.basicConfig(level=logging.INFO, handlers=[handler(log_format)], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    redact_logs()


def formatter(log_format: str, text: str = TEXT_FORMAT) -> logging.Formatter:
    """A formatter of lines in `log_format` (`json`, or `text` laid out as `text` says)."""
    if log_format == "json":
        # `time`: ISO 8601 in UTC, first.
        return OrjsonFormatter(JSON_FIELDS, style="{", rename_fields=JSON_NAMES, timestamp="time")
    return logging.Formatter(text)


def handler(
    log_format: str, stream: IO[str] | None = None, *, text: str = TEXT_FORMAT
) -> logging.Handler:
    """A handler writing to `stream` (standard error by default) in `log_format`."""
    built = logging.StreamHandler(stream)
    built.setFormatter(formatter(log_format, text))
    for line_filter in (RequestIdFilter(), TraceIdFilter(), RedactingFilter()):
        built.addFilter(line_filter)
    return built


def access_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler of the access log's lines (`bff.access_log`): they carry their own request and
    trace IDs, and redact their own request target."""
    built = logging.StreamHandler(stream)
    built.setFormatter(formatter(log_format, "%(message)s"))
    return built


class TraceIdFilter(logging.Filter):
    """Add `trace_id` to a record logged while a span records (tracing on, in a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid and not hasattr(record, "trace_id"):
            record.trace_id = trace.format_trace_id(context.trace_id)
        return True
