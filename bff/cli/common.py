"""What the commands share: the app they build, how they fail, and the dead letter commands' ways
of listing, replaying and purging what a durable store gave up on."""

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from flask import Flask

from bff import create_app, current
from bff.attributions.outbox.store import Outbox
from bff.background import POLL_SECONDS
from bff.errors import KardUnreachable, UpstreamError, UpstreamRejected
from bff.settings import ConfigError, load_settings
from bff.webhooks.inbox.store import Inbox

# What `main` is given as its `obj`: environment-style names, as `create_app` takes them (tests),
# or None for the process environment.
Config = Mapping[str, str] | None

ids_argument = click.argument("ids", metavar="[ID]...", nargs=-1)
yes_option = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print them as JSON, each error whole."
)
limit_option = click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Show at most this many, the oldest deaths first.",
)


def every_option(verb: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--all` (as `every`): `verb` every dead letter."""
    return click.option("--all", "every", is_flag=True, help=f"{verb} every dead letter.")


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


def commands_kard_url(config: Config = None) -> str:
    """The Kard the commands call: KARD_API_URL; else, in sandbox, the simulator of the sandbox
    serving at BFF_PUBLIC_URL (`make run`, with the same PORT)."""
    with stopping_on_config_errors():
        settings = load_settings(config)
    return settings.kard_api_url or _running_sandbox(settings.public_url)


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


def echo_dead_letters(
    store: Outbox | Inbox,
    *,
    limit: int,
    as_json: bool,
    columns: Sequence[str],
    row: Callable[[Any], Sequence[str]],
    document: Callable[[Any], dict[str, object]],
) -> None:
    """Print the store's first `limit` dead letters as JSON (each `document`), or as a table
    (each `row`, under `columns`; the last cell is the error), saying when there are more."""
    letters = store.dead_letters(limit=limit)
    if as_json:
        click.echo(json.dumps([document(letter) for letter in letters], indent=2))
    elif not letters:
        click.echo("No dead letters.")
    else:
        click.echo(_table([tuple(columns), *(tuple(row(letter)) for letter in letters)]))
        total = store.status(now=time.time())["deadLetters"]
        if total > len(letters):
            click.echo(f"(the {len(letters)} oldest of {total}; --limit shows more)")


def replay_dead_letters(
    store: Outbox | Inbox, ids: tuple[str, ...], every: bool, *, then: str, unknown: str
) -> None:
    """Requeue the dead letters named (or every one, with `every`), saying what a running
    kard-bff `then` does with them; exit 2 naming those that are none (`unknown`: why not)."""
    chosen = _chosen(ids, every)
    count, missing = _settle(chosen, lambda some: store.replay(some, now=time.time()))
    click.echo(
        f"Requeued {_dead_letters(count)}; a running kard-bff {then} within {POLL_SECONDS:g} s."
    )
    _fail_on_missing(missing, unknown)


def purge_dead_letters(
    store: Outbox | Inbox, ids: tuple[str, ...], every: bool, *, yes: bool, unknown: str
) -> None:
    """Remove the dead letters named (or every one, with `every`) after asking unless `yes`;
    exit 2 naming those that are none (`unknown`: why not)."""
    chosen = _chosen(ids, every)
    if chosen is None:
        total = store.status(now=time.time())["deadLetters"]
        if not total:
            click.echo("No dead letters.")
            return
    if not yes:
        named = ", ".join(chosen) if chosen is not None else f"all {_dead_letters(total)}"
        click.confirm(f"Purge {named}? They cannot be replayed afterwards.", abort=True)
    count, missing = _settle(chosen, store.purge)
    click.echo(f"Purged {_dead_letters(count)}.")
    _fail_on_missing(missing, unknown)


def _chosen(ids: tuple[str, ...], every: bool) -> list[str] | None:
    """The IDs named (each once), or None for --all; one or the other."""
    if every == bool(ids):
        raise click.UsageError("Name dead letters by ID, or pass --all.")
    return None if every else list(dict.fromkeys(ids))


def _settle(
    chosen: list[str] | None, act: Callable[[list[str] | None], int]
) -> tuple[int, list[str]]:
    """Act on every dead letter, or on each chosen one alone, to know which are none: how many
    there were, and the chosen IDs that were no dead letter."""
    if chosen is None:
        return act(None), []
    missing = [item_id for item_id in chosen if not act([item_id])]
    return len(chosen) - len(missing), missing


def _fail_on_missing(missing: list[str], unknown: str) -> None:
    if missing:
        fail(f"no dead letter {', '.join(missing)} ({unknown})", code=2)


def _dead_letters(count: int) -> str:
    return f"{count} dead letter" if count == 1 else f"{count} dead letters"


def _table(rows: list[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; only the first line of each error, the last column
    (--json has it whole: httpx adds a second, a link to a page about the status)."""
    rows = [(*row[:-1], (row[-1].splitlines() or [""])[0]) for row in rows]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]
        )
        for row in rows
    )


def _running_sandbox(public_url: str | None) -> str:
    return f"{public_url}/sandbox/kard"
