"""The `kard-bff` command line, one module per command group.

`main(obj=config)` (or `CliRunner().invoke(main, args, obj=config)`) runs a command on `config`,
environment-style names as `create_app` takes them, instead of the process environment. `serve`
reads only the environment, as each of its worker processes does; `sandbox` takes no settings.
"""

import click

from bff.cli import history, outbox, serve, themes, token, webhooks


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kard-bff: a backend for frontend in front of the Kard rewards API."""


for command in (
    serve.serve,
    serve.sandbox,
    themes.theme,
    token.token,
    outbox.outbox,
    webhooks.webhooks,
    history.history,
):
    main.add_command(command)
