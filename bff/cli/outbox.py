"""`kard-bff outbox`: watch and drain the attribution outbox, and see to its dead letters."""

import json
import time

import click

from bff.attributions.extension import delivery
from bff.attributions.outbox.store import DeadLetter, Outbox
from bff.cli.common import (
    Config,
    build_app,
    echo_dead_letters,
    echo_status,
    every_option,
    failing_on_kard_errors,
    ids_argument,
    json_option,
    limit_option,
    purge_dead_letters,
    replay_dead_letters,
    yes_option,
)
from bff.timestamps import utc_timestamp

COLUMNS = ("ID", "EVENTS", "STORED", "DIED", "ATTEMPTS", "LAST ERROR")
UNKNOWN = "never queued, delivered, refused, or still queued"


@click.group()
def outbox() -> None:
    """Watch and drain the durable attribution outbox, and replay or purge the chunks given up
    on (dead letters)."""


@outbox.command("status")
@click.pass_obj
def outbox_status(config: Config) -> None:
    """Print the chunks still to be tried (depth, events, oldest age, attempts, last error),
    how many chunks were rejected and are dead letters, and the bounds."""
    echo_status(_outbox(config))


@outbox.command("drain")
@click.pass_obj
def outbox_drain(config: Config) -> None:
    """Try every queued chunk now, once, without waiting out its backoff (not the dead letters)."""
    app = build_app(config)
    sending = delivery(app)
    depth = sending.outbox.status(now=time.time())["depth"]
    with app.app_context(), failing_on_kard_errors():
        tried = sending.deliver_due(limit=depth, everything=True)
    left = sending.outbox.status(now=time.time())
    click.echo(json.dumps({"tried": tried, "left": left["depth"], "lastError": left["lastError"]}))


@outbox.command("dead")
@json_option
@limit_option
@click.pass_obj
def outbox_dead(config: Config, as_json: bool, limit: int) -> None:
    """List the dead letters: chunks no longer tried, kept with their events until replayed or
    purged."""
    echo_dead_letters(
        _outbox(config), limit=limit, as_json=as_json, columns=COLUMNS, row=_row, document=_document
    )


@outbox.command("replay")
@ids_argument
@every_option("Replay")
@click.pass_obj
def outbox_replay(config: Config, ids: tuple[str, ...], every: bool) -> None:
    """Requeue dead letters (each ID, or --all): due now, their attempts counted from 0 again.

    A running kard-bff sends them to Kard within its poll interval (or `outbox drain` does). An
    ID that is no dead letter is named, and the exit code is 2.
    """
    replay_dead_letters(_outbox(config), ids, every, then="sends them to Kard", unknown=UNKNOWN)


@outbox.command("purge")
@ids_argument
@every_option("Purge")
@yes_option
@click.pass_obj
def outbox_purge(config: Config, ids: tuple[str, ...], every: bool, yes: bool) -> None:
    """Remove dead letters (each ID, or --all) and their events for good, after asking unless
    --yes.

    Only dead letters are removed, never a chunk still queued; their events no longer count
    against the outbox's bounds. An ID that is no dead letter is named, and the exit code is 2.
    """
    purge_dead_letters(_outbox(config), ids, every, yes=yes, unknown=UNKNOWN)


def _outbox(config: Config) -> Outbox:
    return delivery(build_app(config)).outbox


def _row(letter: DeadLetter) -> tuple[str, ...]:
    return (
        letter.id,
        str(letter.events),
        utc_timestamp(letter.created_at),
        utc_timestamp(letter.died_at),
        str(letter.attempts),
        letter.last_error,
    )


def _document(letter: DeadLetter) -> dict[str, object]:
    return {
        "id": letter.id,
        "events": letter.events,
        "createdAt": utc_timestamp(letter.created_at),
        "diedAt": utc_timestamp(letter.died_at),
        "attempts": letter.attempts,
        "lastError": letter.last_error,
    }
