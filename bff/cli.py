"""The `kard-bff` command line."""

import logging
import sys

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from bff.middleware import RequestIdFilter
from bff.settings import ConfigError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kard-bff: a backend for frontend in front of the Kard rewards API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (keep 1 in sandbox: the simulator's state lives in the process).",
)
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256))
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the BFF, configured from the environment."""
    _configure_logging()
    app = _build_app()
    click.echo(f"kard-bff serving on http://{host}:{port}", err=True)
    _GunicornServer(app, bind=f"{host}:{port}", workers=workers, threads=threads).run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9000, show_default=True, type=click.IntRange(1, 65535))
def sandbox(host: str, port: int) -> None:
    """Serve the Kard simulator alone, for use as KARD_API_URL."""
    from bff.sandbox import create_simulator_app

    _configure_logging()
    click.echo(
        f"Kard simulator on http://{host}:{port} "
        f"(KARD_API_URL=http://{host}:{port}, token URL /v2/auth/token)",
        err=True,
    )
    _GunicornServer(create_simulator_app(), bind=f"{host}:{port}", workers=1, threads=16).run()


def _build_app() -> Flask:
    from bff import create_app

    try:
        return create_app()
    except ConfigError as error:
        sys.exit(f"kard-bff: configuration error: {error}")


def _configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)


class _GunicornServer(BaseApplication):
    """Gunicorn running an app object we already built, with threaded workers."""

    def __init__(self, app: Flask, **options: object):
        self._app = app
        self._options = {"worker_class": "gthread", "accesslog": "-", **options}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


if __name__ == "__main__":
    main()
