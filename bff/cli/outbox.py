"""`kard-bff outbox`: watch and drain the durable attribution outbox."""

import json
import time

import click

from bff.attributions.extension import delivery
from bff.cli.common import Config, build_app, echo_status, failing_on_kard_errors


@click.group()
def outbox() -> None:
    """Watch and drain the durable attribution outbox."""


@outbox.command("status")
@click.pass_obj
def outbox_status(config: Config) -> None:
    """Print the outbox's depth, oldest age, attempts, last error and rejected chunks."""
    echo_status(delivery(build_app(config)).outbox)


@outbox.command("drain")
@click.pass_obj
def outbox_drain(config: Config) -> None:
    """Try every queued chunk now, once, without waiting out its backoff."""
    app = build_app(config)
    sending = delivery(app)
    depth = sending.outbox.status(now=time.time())["depth"]
    with app.app_context(), failing_on_kard_errors():
        tried = sending.deliver_due(limit=depth, everything=True)
    left = sending.outbox.status(now=time.time())
    click.echo(json.dumps({"tried": tried, "left": left["depth"], "lastError": left["lastError"]}))
