"""The stand-in WebView's "Make a test purchase" in Chromium: the purchase earns its reward,
"My rewards" shows it, and Kard's notification reaches the BFF's webhook."""

import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from bench.harness import free_port
from bff.sandbox.blueprint import NAME as SIMULATOR
from tests import webhook_hooks
from tests.servers import serve

USER = "sandbox-demo-new-customer"


@pytest.fixture
def sandbox(make_app):
    """The sandbox BFF with a webhook key, its notifications handed to the recording hook."""
    webhook_hooks.reset()
    port = free_port()  # told as PORT: the stand-in's URL is on it
    app = make_app(
        PORT=str(port),
        KARD_WEBHOOK_KEY="purchase-key",
        BFF_WEBHOOK_HOOK="tests.webhook_hooks:record",
    )
    with serve(app, port=port) as url:
        yield app, url
    webhook_hooks.reset()


def open_webview(page: Page, url: str) -> None:
    token = httpx.post(f"{url}/dev/session", json={"userId": USER}).json()["token"]
    session = httpx.post(
        f"{url}/api/v1/webview/session", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert session.status_code == 200, session.text
    page.goto(session.json()["url"])
    expect(page.locator("#offers .offer").first).to_be_visible()


def test_a_test_purchase_shows_its_reward_and_notifies_the_bff(page, sandbox, problems):
    app, url = sandbox
    open_webview(page, url)
    expect(page.locator("#rewards-status")).to_have_text(
        "No rewards yet. Make a test purchase on an offer below."
    )
    # An offer that earns as it is: no activation needed.
    card = (
        page.locator("#offers .offer")
        .filter(has_not=page.get_by_role("button", name="Tap to activate"))
        .first
    )
    name = card.locator(".offer-name").inner_text()
    card.get_by_role("button", name="Make a test purchase").click()

    expect(card.locator(".card-note")).to_contain_text("Test purchase made: $")
    reward = page.locator("#rewards .reward-item")
    expect(reward).to_have_count(1)
    expect(reward.locator(".reward-merchant")).to_have_text(name)
    expect(reward.locator(".reward-state")).to_have_text("Pending payout")

    simulator = app.extensions[SIMULATOR]
    simulator.wait_for_notifications()
    deadline = time.monotonic() + 10
    while len(webhook_hooks.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    kinds = [notification.type for notification in webhook_hooks.received]
    assert kinds == ["earnedRewardApproved", "validTransaction"]
    assert {notification.user_id for notification in webhook_hooks.received} == {USER}


def test_an_offer_to_activate_earns_once_activated(page, sandbox, problems):
    _, url = sandbox
    open_webview(page, url)
    activate = page.get_by_role("button", name="Tap to activate").first
    offer_id = (
        page.locator("#offers .offer").filter(has=activate).first.get_attribute("data-offer-id")
    )
    card = page.locator(f'#offers .offer[data-offer-id="{offer_id}"]')
    card.get_by_role("button", name="Make a test purchase").click()
    expect(card.locator(".card-note")).to_contain_text("it earns no reward")
    expect(page.locator("#rewards .reward-item")).to_have_count(0)

    card.get_by_role("button", name="Tap to activate").click()
    expect(card.locator(".tag", has_text="Activated")).to_be_visible()
    card.get_by_role("button", name="Make a test purchase").click()
    expect(card.locator(".card-note")).to_contain_text("earned")
    expect(page.locator("#rewards .reward-item")).to_have_count(1)
