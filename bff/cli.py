"""The `kard-bff` command line."""

import json
import logging
import sys
import time
from pathlib import Path
from typing import NoReturn
from urllib.parse import urljoin

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from bff import extensions, themes
from bff.errors import BffError
from bff.middleware import RequestIdFilter
from bff.settings import ConfigError
from bff.timestamps import utc_timestamp
from bff.webview import WebViewToken, session_url

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
    _GunicornServer(
        app,
        bind=f"{host}:{port}",
        workers=workers,
        threads=threads,
        # Each worker delivers what the outbox holds, including what earlier runs left there.
        post_worker_init=lambda worker: extensions.delivery(app).ensure_worker(),
    ).run()


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


@main.group()
def theme() -> None:
    """Encode, decode and try out WebView themes."""


@theme.command("encode")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def encode_theme(file: Path) -> None:
    """Print the base64url value of the theme in FILE (JSON)."""
    click.echo(_encoded_theme(file))


@theme.command("decode")
@click.argument("value_or_url")
def decode_theme(value_or_url: str) -> None:
    """Print the theme JSON of a base64url VALUE_OR_URL (a bare value or a WebView URL)."""
    try:
        decoded = themes.decode(value_or_url)
    except themes.ThemeError as error:
        _fail("invalid theme value", error)
    click.echo(json.dumps(decoded, indent=2, ensure_ascii=False))


@theme.command("url")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", "user_id", required=True, help="The Kard user ID to mint a token for.")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where this BFF serves, for a KARD_WEBVIEW_URL that is a path (the sandbox stand-in).",
)
def theme_url(file: Path, user_id: str, base_url: str) -> None:
    """Print a WebView URL for a user, with a fresh token and the theme in FILE."""
    value = _encoded_theme(file)
    app = _build_app()
    with app.app_context():
        token = _webview_token(user_id)
        webview_url = urljoin(base_url, extensions.settings().kard_webview_url)
    click.echo(session_url(webview_url, token.token, value))


@main.command()
@click.argument("user_id")
def token(user_id: str) -> None:
    """Print a Kard WebView token for USER_ID (Kard configured from the environment)."""
    app = _build_app()
    with app.app_context():
        minted = _webview_token(user_id)
    answer = {"token": minted.token, "expiresAt": utc_timestamp(minted.expires_at)}
    click.echo(json.dumps(answer, indent=2))


@main.group()
def outbox() -> None:
    """Watch and drain the durable attribution outbox."""


@outbox.command("status")
def outbox_status() -> None:
    """Print the outbox's depth, oldest age, attempts, last error and rejected chunks."""
    app = _build_app()
    status = extensions.delivery(app).outbox.status(now=time.time())
    click.echo(json.dumps(status, indent=2))


@outbox.command("drain")
def outbox_drain() -> None:
    """Try every queued chunk now, once, without waiting out its backoff."""
    app = _build_app()
    sending = extensions.delivery(app)
    depth = sending.outbox.status(now=time.time())["depth"]
    with app.app_context():
        tried = sending.deliver_due(limit=depth, everything=True)
    left = sending.outbox.status(now=time.time())
    click.echo(json.dumps({"tried": tried, "left": left["depth"], "lastError": left["lastError"]}))


def _encoded_theme(file: Path) -> str:
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"{file}: no such file")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"{file}: cannot read it ({error})")
    except json.JSONDecodeError as error:
        _fail(f"{file}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})")
    try:
        return themes.encode(raw)[0]
    except themes.ThemeError as error:
        _fail(f"{file}: invalid theme", error)


def _webview_token(user_id: str) -> WebViewToken:
    try:
        return extensions.webview_tokens().get(user_id)
    except BffError as error:
        _fail(f"Kard did not give a WebView token: {error.errors[0]['detail']}")


def _fail(message: str, error: themes.ThemeError | None = None) -> NoReturn:
    lines = [f"kard-bff: {message}"]
    if error is not None:
        lines += [f"  {problem.pointer or '/'}: {problem.detail}" for problem in error.problems]
    click.echo("\n".join(lines), err=True)
    sys.exit(1)


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
