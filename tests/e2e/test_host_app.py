"""The example host app (examples/host_app) in Chromium: its own page signs in, lists the user's
offers from kard-bff at /rewards, activates one and opens the WebView, with the session cookie and
`X-Kard-BFF`; a page of another origin cannot act for the signed-in user."""

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from bench.harness import free_port
from bff.workers import stop_workers
from examples.host_app.app import create_app
from tests.servers import serve


@pytest.fixture
def live_host(state_dir):
    """The example host app on a free loopback port (told it as PORT); yields its base URL."""
    port = free_port()
    app = create_app({"PORT": str(port), "BFF_STATE_DIR": str(state_dir), "KARD_ENV": "sandbox"})
    try:
        with serve(app, port=port) as url:
            yield url
    finally:
        stop_workers(app)


def sign_in(page: Page, live_host: str, username: str = "ada") -> None:
    page.goto(live_host + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "rewards")
    page.click("button:text('Sign in')")
    expect(page.locator("#user-name")).to_have_text("Ada Lovelace")


def test_the_hosts_page_lists_activates_and_opens_the_webview(page, live_host, problems):
    sign_in(page, live_host)
    offers = page.locator("#offers li")
    expect(page.locator("#status")).to_have_text("10 offers for you.")
    first = offers.first.locator("button")
    first.click()
    expect(first).to_have_text("Activated")
    page.click("#open-webview")
    page.wait_for_url(f"{live_host}/rewards/sandbox/webview?token=*")
    expect(page.locator("#offers .offer").first).to_be_visible()  # the stand-in, under /rewards


def test_another_origins_form_cannot_act_for_the_signed_in_user(page, live_host, problems):
    sign_in(page, live_host)
    other = Flask("other")  # another origin of the same site: the cookie goes with its POST

    @other.get("/")
    def tempting():
        action = f"{live_host}/rewards/api/v1/webview/session"
        return (
            '<link rel="icon" href="data:,">'
            f'<form method="post" action="{action}"><button>Win a prize</button></form>'
        )

    problems.allow_failed_loads("/rewards/api/v1/webview/session")  # its 403
    problems.allow_failed_loads("/favicon.ico")  # of that answer, shown as a page
    with serve(other) as elsewhere:
        page.goto(elsewhere + "/")
        page.click("text=Win a prize")
        expect(page.locator("body")).to_contain_text('"status":"403"')
