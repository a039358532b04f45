"""The access log of `kard-bff serve`: one line per request, written by the app as it answers.

    127.0.0.1 - [2026-12-02 01:02:03 +0000] "GET /embed?token=*** HTTP/1.1" 200 0.4ms

Granian's own access log built a dictionary, a date and a log record with its caller's frame on
every request, and its filter redacted the query again each time: a fifth of a proxied request's
CPU. Here the date is formatted once a second, a query's redaction is remembered (a bounded
cache: apps send the same few queries), and the record skips the caller lookup, which an access
line has no use for. Lines go to the `bff.access` logger, so any handler or formatter applies.

Under load, request threads queued on the stream handler's lock while one of them wrote and
flushed its line (a quarter of a worker's samples in py-spy): `write_in_background` hands the
lines to a thread of their own, the logging cookbook's QueueHandler and QueueListener.

Each record also carries the line's parts as fields, for JSON lines (`bff.observability.logs`):
`remote_addr`, `method`, `path` (redacted), `status`, `duration_ms`, `request_id` (the answer's
`X-Request-ID`), and when known `user` (a keyed hash of the session user, never the ID: see
`USER_ENVIRON`) and `trace_id`.
"""

import functools
import logging
import queue
import re
import time
from collections.abc import Callable, Iterable
from logging.handlers import QueueHandler, QueueListener
from typing import Any
from urllib.parse import quote

from bff.background import at_process_exit
from bff.redact import redact_query

log = logging.getLogger("bff.access")

LINE = '%s - [%s] "%s %s %s" %s %.1fms'
# A path printed as it came when it is plain; else percent-encoded, so a decoded newline or
# quote in PATH_INFO cannot forge a line or end the quoted request early.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/._~!$&'()*+,;=:@%-]*")
_PATH_SAFE = "/._~!$&'()*+,;=:@-"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# What the app leaves in the environ for the line: the session user's hash, the trace's ID.
USER_ENVIRON = "bff.user"
TRACE_ENVIRON = "bff.trace_id"
_REQUEST_ID = "x-request-id"


class AccessLog:
    """WSGI middleware writing one access-log line per request, once the app has answered."""

    def __init__(self, app: WsgiApp):
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if not log.isEnabledFor(logging.INFO):
            return self._app(environ, start_response)
        started = time.perf_counter()
        status, request_id = "-", "-"

        def start(status_line: str, headers: list, exc_info: Any = None) -> Any:
            nonlocal status, request_id
            status = status_line[:3]
            request_id = next((v for k, v in headers if k.lower() == _REQUEST_ID), "-")
            return start_response(status_line, headers, exc_info)

        try:
            return self._app(environ, start)
        finally:
            write(environ, status, (time.perf_counter() - started) * 1000, request_id)


def write(environ: dict[str, Any], status: str, elapsed_ms: float, request_id: str = "-") -> None:
    """Write the access-log line of the request `environ` describes."""
    remote, method, target = (
        environ.get("REMOTE_ADDR", "-"),
        environ.get("REQUEST_METHOD", "-"),
        request_target(environ),
    )
    args = (remote, _now(), method, target, environ.get("SERVER_PROTOCOL", "-"), status, elapsed_ms)
    fields = {
        "request_id": request_id,
        "remote_addr": remote,
        "method": method,
        "path": target,
        "status": int(status) if status.isdigit() else None,
        "duration_ms": round(elapsed_ms, 1),
    }
    for field, key in (("user", USER_ENVIRON), ("trace_id", TRACE_ENVIRON)):
        if key in environ:
            fields[field] = environ[key]
    record = log.makeRecord(log.name, logging.INFO, __file__, 0, LINE, args, None, extra=fields)
    log.handle(record)


def write_in_background() -> None:
    """Write the access log's lines from a listener thread, through the handlers it has now;
    what is still queued when the process ends is written then."""
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(lines, *log.handlers, respect_handler_level=True)
    log.handlers = [_Enqueue(lines)]
    listener.start()
    at_process_exit(listener.stop)


class _Enqueue(QueueHandler):
    """A QueueHandler for access lines: no lock (the queue is thread-safe), and the line is
    formatted by the listener, as its arguments are strings and a number, never changed."""

    def createLock(self) -> None:
        self.lock = None

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def request_target(environ: dict[str, Any]) -> str:
    """The request's path and query as they can be printed: the query's values redacted."""
    path = environ.get("PATH_INFO", "")
    if not _PLAIN_PATH.fullmatch(path):
        path = quote(path.encode("latin-1", "replace"), safe=_PATH_SAFE)
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{_redacted_query(query)}" if query else path


@functools.lru_cache(maxsize=1024)
def _redacted_query(query: str) -> str:
    return quote(redact_query(query), safe="&=%*[]+,;:@/?!$'()~.-_")


def _now() -> str:
    second = int(time.time())
    return _format_second(second)


@functools.lru_cache(maxsize=2)
def _format_second(second: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(second))
