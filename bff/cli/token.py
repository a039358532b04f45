"""`kard-bff token`: mint a Kard WebView token."""

import json

import click

from bff.cli.common import Config, build_app, failing_on_kard_errors
from bff.kard.extension import webview_tokens
from bff.timestamps import utc_timestamp


@click.command()
@click.argument("user_id")
@click.pass_obj
def token(config: Config, user_id: str) -> None:
    """Print a Kard WebView token for USER_ID (Kard configured from the environment)."""
    app = build_app(config)
    with app.app_context(), failing_on_kard_errors():
        minted = webview_tokens().get(user_id)
    answer = {"token": minted.token, "expiresAt": utc_timestamp(minted.expires_at)}
    click.echo(json.dumps(answer, indent=2))
