"""The production server behind `kard-bff serve`: granian, whose Rust side holds the connections.

A connection costs no Python thread until its request has arrived whole, so idle or slow clients
never stop others from being served; a client that takes longer than the header timeout to send
its request line and headers is cut off. See docs/serving.md.
"""

import copy
import logging
from typing import Any

from flask import Flask
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LOGGING_CONFIG
from granian.server import Server

from bff import extensions
from bff.redact import redact_query

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 4096  # per worker; more wait in the kernel's listen queue
# Granian fills `%(...)s` from its own atoms; `request` is the redacted request line, added by
# RedactedRequestLine since granian logs the path and the query apart.
ACCESS_LOG_FORMAT = '%(addr)s - [%(time)s] "%(request)s" %(status)d %(dt_ms).1fms'


def serve(*, host: str, port: int, workers: int, threads: int, header_timeout: float) -> None:
    """Serve the BFF (configured from the environment) until SIGTERM or SIGINT."""
    Server(
        "bff.server:worker_app",
        factory=True,  # every worker builds its own app, and starts its background threads
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        # HTTP/1.1 alone: "auto" waits, with no timeout, for a first byte to tell the version by.
        http=HTTPModes.http1,
        workers=workers,
        blocking_threads=threads,
        # Granian's backpressure caps a worker's open connections (idle ones too), not its
        # requests: high, as they cost little in Rust; requests past the threads wait there.
        backlog=MAX_CONNECTIONS,
        backpressure=MAX_CONNECTIONS,
        http1_settings=HTTP1Settings(header_read_timeout=round(header_timeout * 1000)),
        log_access=True,
        log_access_format=ACCESS_LOG_FORMAT,
        log_dictconfig=_log_config(),
    ).serve()


def worker_app() -> Flask:
    """The app of one worker process, with its attribution delivery and webhook dispatch running."""
    from bff import create_app

    app = create_app()
    # Each worker delivers what the outbox holds, including what earlier runs left there.
    extensions.start_workers(app)
    return app


class RedactedRequestLine(logging.Filter):
    """Give an access-log record its request line, with the query's values redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms: dict[str, Any] = record.args  # type: ignore[assignment]
        query = redact_query(atoms["query_string"])
        target = f"{atoms['path']}?{query}" if query else atoms["path"]
        atoms["request"] = f"{atoms['method']} {target} {atoms['protocol']}"
        return True


def _log_config() -> dict[str, Any]:
    """Granian's logging (it replaces whole sections), with the access log's request line."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_line": {"()": RedactedRequestLine}}
    config["loggers"]["granian.access"]["filters"] = ["request_line"]
    return config
