"""`kard-bff webhooks`: watch Kard's notifications on their way on, and see to the dead letters."""

import json
import time
from collections.abc import Callable

import click

from bff.background import POLL_SECONDS
from bff.cli.common import Config, build_app, echo_status, fail
from bff.timestamps import utc_timestamp
from bff.webhooks.extension import dispatcher
from bff.webhooks.inbox.store import DeadLetter, Inbox

COLUMNS = ("ID", "TYPE", "RECEIVED", "DIED", "ATTEMPTS", "LAST ERROR")

_ids_argument = click.argument("ids", metavar="[ID]...", nargs=-1)


@click.group()
def webhooks() -> None:
    """Watch Kard's notifications on their way to the issuer's hook or forward URL, and replay
    or purge those given up on (dead letters)."""


@webhooks.command("status")
@click.pass_obj
def webhooks_status(config: Config) -> None:
    """Print how many notifications wait to be handed on, the oldest's age, the last error, and
    how many are dead letters."""
    echo_status(_inbox(config))


@webhooks.command("dead")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON, each error whole.")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Show at most this many, the oldest deaths first.",
)
@click.pass_obj
def webhooks_dead(config: Config, as_json: bool, limit: int) -> None:
    """List the dead letters: notifications no longer tried, kept until replayed or purged."""
    inbox = _inbox(config)
    letters = inbox.dead_letters(limit=limit)
    if as_json:
        click.echo(json.dumps([_document(letter) for letter in letters], indent=2))
    elif not letters:
        click.echo("No dead letters.")
    else:
        click.echo(_table(letters))
        total = inbox.status(now=time.time())["deadLetters"]
        if total > len(letters):
            click.echo(f"(the {len(letters)} oldest of {total}; --limit shows more)")


@webhooks.command("replay")
@_ids_argument
@click.option("--all", "every", is_flag=True, help="Replay every dead letter.")
@click.pass_obj
def webhooks_replay(config: Config, ids: tuple[str, ...], every: bool) -> None:
    """Requeue dead letters (each ID, or --all): due now, their attempts counted from 0 again.

    A running kard-bff hands them on within its poll interval. An ID that is no dead letter is
    named, and the exit code is 2.
    """
    chosen = _chosen(ids, every)
    inbox = _inbox(config)
    count, unknown = _settle(chosen, lambda some: inbox.replay(some, now=time.time()))
    click.echo(
        f"Requeued {_dead_letters(count)}; a running kard-bff hands them on within"
        f" {POLL_SECONDS:g} s."
    )
    _fail_on_unknown(unknown)


@webhooks.command("purge")
@_ids_argument
@click.option("--all", "every", is_flag=True, help="Purge every dead letter.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def webhooks_purge(config: Config, ids: tuple[str, ...], every: bool, yes: bool) -> None:
    """Remove dead letters (each ID, or --all) for good, after asking unless --yes.

    Only dead letters are removed, never a notification still to be handed on. Their IDs stay
    remembered, so Kard sending one again is still a duplicate. An ID that is no dead letter is
    named, and the exit code is 2.
    """
    chosen = _chosen(ids, every)
    inbox = _inbox(config)
    if chosen is None:
        total = inbox.status(now=time.time())["deadLetters"]
        if not total:
            click.echo("No dead letters.")
            return
    if not yes:
        named = ", ".join(chosen) if chosen is not None else f"all {_dead_letters(total)}"
        click.confirm(f"Purge {named}? They cannot be replayed afterwards.", abort=True)
    count, unknown = _settle(chosen, inbox.purge)
    click.echo(f"Purged {_dead_letters(count)}.")
    _fail_on_unknown(unknown)


def _inbox(config: Config) -> Inbox:
    return dispatcher(build_app(config)).inbox


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
    unknown = [notification_id for notification_id in chosen if not act([notification_id])]
    return len(chosen) - len(unknown), unknown


def _fail_on_unknown(unknown: list[str]) -> None:
    if unknown:
        fail(
            f"no dead letter {', '.join(unknown)} (never received, handed on, or still pending)",
            code=2,
        )


def _dead_letters(count: int) -> str:
    return f"{count} dead letter" if count == 1 else f"{count} dead letters"


def _document(letter: DeadLetter) -> dict[str, object]:
    return {
        "id": letter.id,
        "type": letter.type,
        "receivedAt": utc_timestamp(letter.received_at),
        "diedAt": utc_timestamp(letter.died_at),
        "attempts": letter.attempts,
        "lastError": letter.last_error,
    }


def _table(letters: list[DeadLetter]) -> str:
    """Columns padded to their widest cell; only the first line of each error (--json has it
    whole: httpx adds a second, a link to a page about the status)."""
    rows = [COLUMNS] + [
        (
            letter.id,
            letter.type,
            utc_timestamp(letter.received_at),
            utc_timestamp(letter.died_at),
            str(letter.attempts),
            (letter.last_error.splitlines() or [""])[0],
        )
        for letter in letters
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]
        )
        for row in rows
    )
