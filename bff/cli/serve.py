"""`kard-bff serve` and `kard-bff sandbox`: the servers."""

import logging

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from bff import create_app, server
from bff.cli.common import stopping_on_config_errors
from bff.observability import logs, tracing
from bff.redact import GunicornLogger
from bff.server import DEFAULT_BODY_TIMEOUT_SECONDS, DEFAULT_HEADER_TIMEOUT_SECONDS
from bff.settings import load_settings

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (keep 1 in sandbox: the simulator's state lives in the process).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Python threads per worker that run requests (connections cost none while they wait).",
)
@click.option(
    "--header-timeout",
    envvar="BFF_HEADER_TIMEOUT",
    default=DEFAULT_HEADER_TIMEOUT_SECONDS,
    show_default=True,
    type=click.FloatRange(0.001, 60),
    help="Seconds a client has to send its request line and headers (env BFF_HEADER_TIMEOUT).",
)
@click.option(
    "--body-timeout",
    envvar="BFF_BODY_TIMEOUT",
    default=DEFAULT_BODY_TIMEOUT_SECONDS,
    show_default=True,
    type=click.FloatRange(0.001, 600),
    help="Seconds a client has to send its request body, once its headers are in "
    "(env BFF_BODY_TIMEOUT).",
)
def serve(
    host: str, port: int, workers: int, threads: int, header_timeout: float, body_timeout: float
) -> None:
    """Serve the BFF, configured from the environment."""
    with server.worker_metrics():
        # The environment, not `main`'s config: every worker is a process that builds its own
        # app from it (bff.server.worker_app). This one stops on a configuration error.
        with stopping_on_config_errors():
            settings = load_settings()
            logs.configure(settings.log_format)
            create_app(settings)
            _check_tracing()
        log.info("kard-bff serving on http://%s:%s", host, port)
        server.serve(
            host=host,
            port=port,
            workers=workers,
            threads=threads,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            log_format=settings.log_format,
        )


def _check_tracing() -> None:
    """Stop on a bad OTEL_* variable here, not in every worker (which traces on its own)."""
    provider = tracing.from_environment()
    if provider is not None:
        provider.shutdown()


class GunicornServer(BaseApplication):
    """Gunicorn running an app object we already built, with threaded workers."""

    def __init__(self, app: Flask, **options: object):
        self._app = app
        self._options = {
            "worker_class": "gthread",
            "accesslog": "-",
            "logger_class": GunicornLogger,
            # No runtime control socket: one path ($HOME/.gunicorn/gunicorn.ctl) would be shared,
            # and taken over, by every server on the machine.
            "control_socket_disable": True,
            **options,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app
