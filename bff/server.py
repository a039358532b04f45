"""The production server behind `kard-bff serve`: granian, whose Rust side holds the connections.

A connection costs no Python thread until its request has arrived whole, body included (granian's
RSGI interface, with the bridge in bff.rsgi), so idle or slow clients never stop others from being
served; a client that takes longer than the header timeout to send its request line and headers,
or than the body timeout to send its body, is cut off. See docs/serving.md.
"""

import copy
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LOGGING_CONFIG
from granian.server import Server

from bff import current, start_workers
from bff.access_log import AccessLog, write_in_background
from bff.api.bodies import MAX_BODY_BYTES
from bff.observability.metrics import MULTIPROCESS_DIRECTORY
from bff.rsgi import RsgiBridge

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_BODY_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 4096  # per worker; more wait in the kernel's listen queue
GRANIAN_FORMAT = LOGGING_CONFIG["formatters"]["generic"]["fmt"]  # its own lines, as text


@contextmanager
def worker_metrics() -> Iterator[None]:
    """Give the workers about to start a folder of their own for their metrics files
    (prometheus-client's multiprocess mode: a scrape of any worker sums them all), removed when
    serving ends; unless PROMETHEUS_MULTIPROC_DIR names one already. Enter it before anything
    imports prometheus-client, which reads the variable when imported."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="kard-bff-metrics-") as directory:
        os.environ[MULTIPROCESS_DIRECTORY] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIRECTORY]


def serve(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    header_timeout: float,
    body_timeout: float = DEFAULT_BODY_TIMEOUT_SECONDS,
    log_format: str = "text",
) -> None:
    """Serve the BFF (configured from the environment) until SIGTERM or SIGINT, logging in
    `log_format` (`BFF_LOG_FORMAT`)."""
    Server(
        "bff.server:worker_app",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        # HTTP/1.1 alone: "auto" waits, with no timeout, for a first byte to tell the version by.
        http=HTTPModes.http1,
        websockets=False,
        workers=workers,
        # Granian's backpressure caps a worker's open connections (idle ones too), not its
        # requests: high, as they cost little; requests past the threads wait in the bridge's
        # queue, their bodies already read.
        backlog=MAX_CONNECTIONS,
        backpressure=MAX_CONNECTIONS,
        http1_settings=HTTP1Settings(header_read_timeout=round(header_timeout * 1000)),
        log_access=False,  # the app writes it: bff.access_log
        log_dictconfig=_log_config(log_format),
    ).serve(
        # Every worker builds its own app, and starts its background threads; the app's threads
        # are the bridge's pool (granian gives an RSGI app no blocking threads of its own).
        target_loader=functools.partial(worker_app, threads, body_timeout),
        wrap_loader=False,
    )


def worker_app(threads: int = 8, body_timeout: float = DEFAULT_BODY_TIMEOUT_SECONDS) -> RsgiBridge:
    """The app of one worker process, with its attribution delivery and webhook dispatch running,
    and its access log, behind the bridge that reads request bodies with a deadline."""
    from bff import create_app
    from bff.observability import tracing

    # Tracing is set up here, in the worker: the batch exporter's thread does not cross a fork.
    app = create_app(tracer_provider=tracing.from_environment())
    # Each worker delivers what the outbox holds, including what earlier runs left there.
    start_workers(app)
    write_in_background()
    return RsgiBridge(
        AccessLog(app), threads=threads, body_timeout=body_timeout, body_limit=_body_limit(app)
    )


def _body_limit(app: Flask) -> Callable[[str], int]:
    """How many bytes of body a request to a path may send: kard-bff's limit, and in sandbox up
    to 5 GB for the simulator's S3 uploads (the simulator is imported only in sandbox)."""
    limit = MAX_BODY_BYTES
    if not current.settings(app).sandbox:
        return lambda path: limit
    from bff.sandbox import MAX_OBJECT_BYTES, upload_path_prefix

    uploads = upload_path_prefix(app)
    return lambda path: MAX_OBJECT_BYTES if uploads and path.startswith(uploads) else limit


def _log_config(log_format: str) -> dict[str, Any]:
    """Granian's logging (it replaces whole sections) in `log_format`, with the app's access log
    beside its own."""
    config = copy.deepcopy(LOGGING_CONFIG)
    handler = {"log_format": log_format, "stream": "ext://sys.stdout"}
    config["handlers"] = {
        "console": {"()": "bff.observability.logs.handler", **handler, "text": GRANIAN_FORMAT},
        "access": {"()": "bff.observability.logs.access_handler", **handler},
    }
    config["loggers"]["bff.access"] = {"handlers": ["access"], "level": "INFO", "propagate": False}
    return config
