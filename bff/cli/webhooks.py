"""`kard-bff webhooks`: watch Kard's notifications on their way on, and see to the dead letters."""

import click

from bff.cli.common import (
    Config,
    build_app,
    echo_dead_letters,
    echo_status,
    every_option,
    ids_argument,
    json_option,
    limit_option,
    purge_dead_letters,
    replay_dead_letters,
    yes_option,
)
from bff.timestamps import utc_timestamp
from bff.webhooks.extension import dispatcher
from bff.webhooks.inbox.store import DeadLetter, Inbox

COLUMNS = ("ID", "TYPE", "RECEIVED", "DIED", "ATTEMPTS", "LAST ERROR")
UNKNOWN = "never received, handed on, or still pending"


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
@json_option
@limit_option
@click.pass_obj
def webhooks_dead(config: Config, as_json: bool, limit: int) -> None:
    """List the dead letters: notifications no longer tried, kept until replayed or purged."""
    echo_dead_letters(
        _inbox(config), limit=limit, as_json=as_json, columns=COLUMNS, row=_row, document=_document
    )


@webhooks.command("replay")
@ids_argument
@every_option("Replay")
@click.pass_obj
def webhooks_replay(config: Config, ids: tuple[str, ...], every: bool) -> None:
    """Requeue dead letters (each ID, or --all): due now, their attempts counted from 0 again.

    A running kard-bff hands them on within its poll interval. An ID that is no dead letter is
    named, and the exit code is 2.
    """
    replay_dead_letters(_inbox(config), ids, every, then="hands them on", unknown=UNKNOWN)


@webhooks.command("purge")
@ids_argument
@every_option("Purge")
@yes_option
@click.pass_obj
def webhooks_purge(config: Config, ids: tuple[str, ...], every: bool, yes: bool) -> None:
    """Remove dead letters (each ID, or --all) for good, after asking unless --yes.

    Only dead letters are removed, never a notification still to be handed on. Their IDs stay
    remembered, so Kard sending one again is still a duplicate. An ID that is no dead letter is
    named, and the exit code is 2.
    """
    purge_dead_letters(_inbox(config), ids, every, yes=yes, unknown=UNKNOWN)


def _inbox(config: Config) -> Inbox:
    return dispatcher(build_app(config)).inbox


def _row(letter: DeadLetter) -> tuple[str, ...]:
    return (
        letter.id,
        letter.type,
        utc_timestamp(letter.received_at),
        utc_timestamp(letter.died_at),
        str(letter.attempts),
        letter.last_error,
    )


def _document(letter: DeadLetter) -> dict[str, object]:
    return {
        "id": letter.id,
        "type": letter.type,
        "receivedAt": utc_timestamp(letter.received_at),
        "diedAt": utc_timestamp(letter.died_at),
        "attempts": letter.attempts,
        "lastError": letter.last_error,
    }
