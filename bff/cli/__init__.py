"""The `kard-bff` command line, one module per command group.

`main(obj=config)` (or `CliRunner().invoke(main, args, obj=config)`) runs a command on `config`,
environment-style names as `create_app` takes them, instead of the process environment. `serve`
reads only the environment, as each of its worker processes does; `sandbox` takes no settings.
"""

import click
import redis

from bff.cli import history, outbox, sandbox, serve, themes, token, webhooks
from bff.cli.common import fail
from bff.redact import redact_text


class _Commands(click.Group):
    """The command group, reporting an unreachable Redis (`REDIS_URL`: the outbox, the inbox)
    as one line and exit code 2 rather than a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except redis.exceptions.RedisError as error:
            fail(f"Redis (REDIS_URL) cannot be used: {redact_text(str(error))}", code=2)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kard-bff: a backend for frontend in front of the Kard rewards API."""


for command in (
    serve.serve,
    sandbox.sandbox,
    themes.theme,
    token.token,
    outbox.outbox,
    webhooks.webhooks,
    history.history,
):
    main.add_command(command)
