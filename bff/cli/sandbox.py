"""`kard-bff sandbox`: the Kard simulator served alone, and commands that drive a running
sandbox through its control API (`/_sandbox/...`), for scripts: a test purchase, the clock."""

import re

import click
import httpx

from bff.cli.common import Config, commands_kard_url, fail
from bff.cli.serve import GunicornServer
from bff.observability import logs
from bff.settings import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ORGANIZATION_ID,
    comma_items,
)

_DURATION = re.compile(r"(\d+)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--webhook-key",
    envvar="KARD_WEBHOOK_KEY",
    show_default="sandbox-webhook-key",
    help="Sign webhooks with this key (the first of KARD_WEBHOOK_KEY's, as the BFF expects).",
)
@click.option(
    "--client-id",
    envvar="KARD_CLIENT_ID",
    default=SANDBOX_CLIENT_ID,
    show_default=True,
    help="The client ID it takes (KARD_CLIENT_ID).",
)
@click.option(
    "--client-secret",
    envvar="KARD_CLIENT_SECRET",
    default=SANDBOX_CLIENT_SECRET,
    show_default=True,
    help="The client secret it takes (KARD_CLIENT_SECRET).",
)
@click.option(
    "--organization-id",
    envvar="KARD_ORGANIZATION_ID",
    default=SANDBOX_ORGANIZATION_ID,
    show_default=True,
    help="The issuer those credentials belong to (KARD_ORGANIZATION_ID).",
)
@click.option(
    "--target-issuer",
    "target_issuers",
    multiple=True,
    help="Another issuer the credentials may scope a token to (X-Kard-Target-Issuer); repeatable.",
)
@click.pass_context
def sandbox(
    context: click.Context,
    host: str,
    port: int,
    webhook_key: str | None,
    client_id: str,
    client_secret: str,
    organization_id: str,
    target_issuers: tuple[str, ...],
) -> None:
    """Serve the Kard simulator alone, for use as KARD_API_URL; or, with a command, act on a
    running sandbox as a test would (a purchase, the clock)."""
    if context.invoked_subcommand is not None:
        return
    from bff.sandbox import DEFAULT_WEBHOOK_KEY, Simulator, create_simulator_app

    logs.configure("text")
    click.echo(
        f"Kard simulator on http://{host}:{port} "
        f"(KARD_API_URL=http://{host}:{port}, token URL /v2/auth/token, "
        f"client {client_id} of {organization_id})",
        err=True,
    )
    keys = comma_items(webhook_key or "")
    simulator = Simulator(
        organization_id=organization_id,
        client_id=client_id,
        client_secret=client_secret,
        target_issuers=target_issuers,
        webhook_key=keys[0] if keys else DEFAULT_WEBHOOK_KEY,
    )
    app = create_simulator_app(simulator)
    GunicornServer(app, bind=f"{host}:{port}", workers=1, threads=16).run()


_KARD_URL = click.option(
    "--url",
    "kard_url",
    help="The sandbox's Kard (`kard-bff sandbox`'s, or a sandbox BFF's /sandbox/kard); by "
    "default KARD_API_URL, else the sandbox serving at BFF_PUBLIC_URL, as `make run` does.",
)


def _control(config: Config, kard_url: str | None, path: str, body: dict) -> dict:
    """POST to the sandbox's control API; fail with its error's detail."""
    kard_url = kard_url or commands_kard_url(config)
    try:
        response = httpx.post(f"{kard_url.rstrip('/')}/_sandbox/{path}", json=body, timeout=30)
    except httpx.HTTPError as error:
        fail(f"The sandbox at {kard_url} cannot be reached: {error}")
    if response.is_error:
        errors = response.json().get("errors", []) if response.content else []
        fail(errors[0]["detail"] if errors else f"The sandbox answered {response.status_code}")
    return response.json()


@sandbox.command()
@click.argument("user_id")
@click.argument("offer_id")
@click.option("--amount", default=5000, show_default=True, type=click.IntRange(1), help="Cents.")
@_KARD_URL
@click.pass_obj
def purchase(
    config: Config, user_id: str, offer_id: str, amount: int, kard_url: str | None
) -> None:
    """Make a test purchase: USER_ID buys at OFFER_ID's merchant, settled now."""
    body = {"userId": user_id, "offerId": offer_id, "amountInCents": amount}
    answer = _control(config, kard_url, "purchases", body)
    reward = answer["meta"]["reward"]
    transaction_id = answer["data"]["attributes"]["transactionId"]
    if reward is None:
        click.echo(f"{transaction_id}: no reward (is the offer activated, live, for this user?)")
    else:
        click.echo(f"{transaction_id}: earned {reward['userCents']} cents, reward {reward['id']}")


def _seconds(duration: str) -> int:
    match = _DURATION.fullmatch(duration.strip())
    if match is None:
        raise click.BadParameter("give a whole number and a unit: 90s, 15m, 12h or 30d")
    return int(match[1]) * _SECONDS[match[2]]


@sandbox.command()
@click.argument("duration")
@_KARD_URL
@click.pass_obj
def advance(config: Config, duration: str, kard_url: str | None) -> None:
    """Move the sandbox's clock on by DURATION (30d, 12h, 15m, 90s): rewards due are paid."""
    answer = _control(config, kard_url, "clock", {"advanceSeconds": _seconds(duration)})
    click.echo(f"The sandbox's clock is now {answer['data']['now']}")
