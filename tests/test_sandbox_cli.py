"""`kard-bff sandbox`: the simulator served alone with the credentials it is given, and the
commands that drive a running sandbox for scripts (a test purchase, the clock)."""

import os

import httpx

from bff.cli import main
from tests.sandbox.helpers import CREDENTIALS, USER, plain, sole
from tests.servers import ServerProcess


def test_a_test_purchase_and_the_clock_from_the_command_line(runner, simulator, kard_url):
    simulator.enroll(USER)
    offer = sole(simulator, plain)
    bought = runner.invoke(main, ["sandbox", "purchase", USER, offer.id, "--url", kard_url])
    assert bought.exit_code == 0, bought.output
    (reward,) = simulator.rewards(USER)
    assert f"earned {reward.user_cents} cents, reward {reward.id}" in bought.output

    advanced = runner.invoke(main, ["sandbox", "advance", "30d", "--url", kard_url])
    assert advanced.exit_code == 0, advanced.output
    assert "The sandbox's clock is now" in advanced.output
    simulator.wait_for_notifications()
    assert simulator.webhooks[-1].event == "earnedRewardSettled"
    assert reward.paid_at is not None


def test_a_purchase_that_earns_nothing_says_so(runner, simulator, kard_url):
    simulator.enroll(USER)
    locked = sole(simulator, lambda o: o.requires_activation and not o.min_transaction_cents)
    answer = runner.invoke(main, ["sandbox", "purchase", USER, locked.id, "--url", kard_url])
    assert answer.exit_code == 0 and "no reward" in answer.output


def test_mistakes_are_one_line_each(runner, simulator, kard_url):
    unknown = runner.invoke(main, ["sandbox", "purchase", USER, "no-such-offer", "--url", kard_url])
    assert unknown.exit_code == 1 and "Offer no-such-offer does not exist" in unknown.output
    stranger = sole(simulator, plain).id
    answer = runner.invoke(
        main, ["sandbox", "purchase", "never-enrolled", stranger, "--url", kard_url]
    )
    assert answer.exit_code == 1 and "not enrolled" in answer.output
    vague = runner.invoke(main, ["sandbox", "advance", "a month", "--url", kard_url])
    assert vague.exit_code == 2 and "30d" in vague.output
    gone = runner.invoke(main, ["sandbox", "advance", "1d", "--url", "http://127.0.0.1:9"])
    assert gone.exit_code == 1 and "cannot be reached" in gone.output


def test_the_simulator_alone_takes_the_credentials_it_is_given():
    env = {**os.environ, "KARD_CLIENT_ID": "issuer-7", "KARD_CLIENT_SECRET": "its-secret"}
    with ServerProcess(["sandbox"], env=env, health_path="/") as server:
        token_url = f"{server.url}/v2/auth/token"
        assert httpx.post(token_url, json=CREDENTIALS).status_code == 401
        given = {"client_id": "issuer-7", "client_secret": "its-secret"}
        assert httpx.post(token_url, json=given).status_code == 200
    assert "client issuer-7 of org-sandbox" in server.output
    assert "its-secret" not in server.output
