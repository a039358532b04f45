"""What the commands share: the app they build, and how they fail."""

import dataclasses
import json
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn

import click
from flask import Flask

from bff import create_app, current
from bff.attributions.outbox.store import Outbox
from bff.errors import KardUnreachable, UpstreamError, UpstreamRejected
from bff.settings import ConfigError, load_settings
from bff.webhooks.inbox.store import Inbox

# What `main` is given as its `obj`: environment-style names, as `create_app` takes them (tests),
# or None for the process environment.
Config = Mapping[str, str] | None


def build_app(config: Config = None, *, public_url: str | None = None) -> Flask:
    """Build the BFF as the commands use it, from `config` or the environment.

    In sandbox without KARD_API_URL, Kard is the simulator of the BFF serving at BFF_PUBLIC_URL
    (or `public_url`): one of this process's own would know nothing of the running sandbox's
    users, tokens, uploads or outbox."""
    with stopping_on_config_errors():
        settings = load_settings(config)
    if public_url is not None:
        settings = dataclasses.replace(settings, public_url=public_url)
    if settings.kard_api_url is None:
        settings = dataclasses.replace(settings, kard_api_url=_running_sandbox(settings.public_url))
    with stopping_on_config_errors():
        return create_app(settings)


def echo_status(store: Outbox | Inbox) -> None:
    """Print what a durable store holds now, as indented JSON."""
    click.echo(json.dumps(store.status(now=time.time()), indent=2))


@contextmanager
def failing_on_kard_errors() -> Iterator[None]:
    """Report Kard's failures, and files that cannot be read, as one line and exit code 2."""
    try:
        yield
    except KardUnreachable as error:
        settings = current.settings()
        if settings.sandbox and settings.kard_api_url == _running_sandbox(settings.public_url):
            fail(
                f"no sandbox is serving at {settings.public_url}; start it with `make run`, "
                "or set PORT or BFF_PUBLIC_URL to where it serves",
                code=2,
            )
        fail(f"{error.title}: {error.errors[0]['detail']}", code=2)
    except UpstreamError as error:
        first = error.errors[0]
        said = f"{first.get('title') or error.title}: {first.get('detail') or ''}".rstrip(": ")
        if isinstance(error, UpstreamRejected):
            said = f"Kard refused the request ({error.status}): {said}"
        fail(said, code=2)
    except OSError as error:
        fail(f"{error.filename or 'file'}: {error.strerror or error}", code=2)


@contextmanager
def stopping_on_config_errors() -> Iterator[None]:
    """Stop the command with the configuration's problems, named in one line."""
    try:
        yield
    except ConfigError as error:
        sys.exit(f"kard-bff: configuration error: {error}")


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print `message` (its lines) on stderr as kard-bff's, and exit with `code`."""
    click.echo(f"kard-bff: {message}", err=True)
    sys.exit(code)


def _running_sandbox(public_url: str | None) -> str:
    return f"{public_url}/sandbox/kard"
