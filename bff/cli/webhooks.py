"""`kard-bff webhooks`: watch Kard's notifications on their way on."""

import click

from bff.cli.common import Config, build_app, echo_status
from bff.webhooks.extension import dispatcher


@click.group()
def webhooks() -> None:
    """Watch Kard's notifications on their way to the issuer's hook or forward URL."""


@webhooks.command("status")
@click.pass_obj
def webhooks_status(config: Config) -> None:
    """Print how many notifications wait to be handed on, the oldest's age, and the last error."""
    echo_status(dispatcher(build_app(config)).inbox)
