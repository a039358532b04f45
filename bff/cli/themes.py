"""`kard-bff theme`: encode, decode and try out WebView themes."""

import json
from pathlib import Path
from typing import NoReturn

import click

from bff import current
from bff.cli.common import Config, build_app, fail, failing_on_kard_errors
from bff.kard.extension import webview_tokens
from bff.themes import codec
from bff.webview import absolute_webview_url, session_url


@click.group()
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
        decoded = codec.decode(value_or_url)
    except codec.ThemeError as error:
        _fail_invalid("invalid theme value", error)
    click.echo(json.dumps(decoded, indent=2, ensure_ascii=False))


@theme.command("url")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", "user_id", required=True, help="The Kard user ID to mint a token for.")
@click.option(
    "--base-url",
    show_default="BFF_PUBLIC_URL",
    help="Where this BFF serves, for a KARD_WEBVIEW_URL that is a path (the sandbox stand-in).",
)
@click.pass_obj
def theme_url(config: Config, file: Path, user_id: str, base_url: str | None) -> None:
    """Print a WebView URL for a user, with a fresh token and the theme in FILE."""
    value = _encoded_theme(file)
    app = build_app(config, public_url=base_url.rstrip("/") if base_url else None)
    with app.app_context(), failing_on_kard_errors():
        minted = webview_tokens().get(user_id)
        settings = current.settings()
        webview_url = absolute_webview_url(settings.kard_webview_url, settings.public_url)
    click.echo(session_url(webview_url, minted.token, value))


def _encoded_theme(file: Path) -> str:
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{file}: no such file")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{file}: cannot read it ({error})")
    except json.JSONDecodeError as error:
        fail(f"{file}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})")
    try:
        return codec.encode(raw)[0]
    except codec.ThemeError as error:
        _fail_invalid(f"{file}: invalid theme", error)


def _fail_invalid(message: str, error: codec.ThemeError) -> NoReturn:
    """Fail with `message` and, a line each, what is wrong with the theme."""
    problems = [f"  {problem.pointer or '/'}: {problem.detail}" for problem in error.problems]
    fail("\n".join([message, *problems]))
