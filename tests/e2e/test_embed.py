"""The web embed example (/embed) with the WebView stand-in (/sandbox/webview) in Chromium.

The embed page frames the stand-in and bridges location per Kard's Location Message Passing
Contract; messages from any other window or origin are ignored.
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

NEW_YORK = {"latitude": 40.7420, "longitude": -73.9930}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 900},
        "geolocation": NEW_YORK,
        "permissions": ["geolocation"],
    }


def log_entries(page: Page, direction: str, message_type: str):
    return page.locator(
        f'#message-log li[data-direction="{direction}"][data-type="{message_type}"]'
    )


def load(page: Page, live_bff: str, theme: str = "none") -> None:
    page.goto(live_bff + "/embed")
    expect(page.locator("#user-id")).to_have_value("sandbox-demo-new-customer")
    if theme != "none":
        expect(page.locator(f'#theme option[value="{theme}"]')).to_be_attached()
        page.select_option("#theme", theme)
    page.click("#load")


def test_the_webview_gets_a_location_and_lists_nearby_offers(page, live_bff, artifacts, problems):
    load(page, live_bff, theme="branding")
    frame = page.frame_locator("#webview")
    locations = frame.locator("#nearby .location")
    expect(locations.first).to_be_visible()

    expect(log_entries(page, "in", "REQUEST_LOCATION")).to_have_count(1)
    expect(log_entries(page, "out", "LOCATION_RESPONSE")).to_have_count(1)
    origin = live_bff
    expect(log_entries(page, "in", "REQUEST_LOCATION").locator(".origin")).to_have_text(origin)
    expect(log_entries(page, "out", "LOCATION_RESPONSE").locator(".origin")).to_have_text(origin)
    assert page.locator("#message-log li").count() == 2  # in, then out: nothing else

    miles = [
        float(value) for value in locations.evaluate_all("els => els.map(e => e.dataset.miles)")
    ]
    assert miles == sorted(miles) and miles[-1] <= 10
    expect(locations.first.locator(".distance")).to_have_text(re.compile(r"^\d+(\.\d)? mi$"))
    expect(locations.first.locator(".address")).to_contain_text(", NY")

    # The branding theme's labels and colors reach the WebView.
    expect(frame.locator("#rewards-title")).to_have_text("My Rewards")
    expect(frame.locator("#nearby-title")).to_have_text("Deals near you")
    expect(frame.locator("#offers-title")).to_have_text("All deals")
    expect(frame.locator("html")).to_have_attribute("data-mode", "light")
    expect(frame.locator("#offers .offer").first).to_be_visible()

    page.screenshot(path=artifacts / "embed.png")


@pytest.mark.parametrize("live_bff", ["standalone"], indirect=True)
def test_the_webview_checks_its_token_with_a_standalone_simulator(page, live_bff, problems):
    load(page, live_bff)
    frame = page.frame_locator("#webview")
    expect(frame.locator("#offers .offer").first).to_be_visible()
    expect(frame.locator("body")).to_have_attribute("data-user-id", "sandbox-demo-new-customer")
    expect(frame.locator("#error")).to_be_hidden()


def test_location_requests_from_other_windows_are_ignored(page, live_bff, problems):
    load(page, live_bff)
    expect(log_entries(page, "out", "LOCATION_RESPONSE")).to_have_count(1)
    replies_before = log_entries(page, "out", "LOCATION_RESPONSE").count()

    # A frame of another origin: the same probe page, sandboxed (an opaque origin, "null").
    # The page's CSP (frame-src 'self') refuses frames of http://localhost:PORT, so the other
    # loopback name cannot be framed here; an opaque origin is just as foreign.
    # A same-origin frame that is not the WebView: its origin passes, its source does not.
    page.evaluate(
        """() => {
            const probes = [["probe-foreign", "allow-scripts"], ["probe-same", null]];
            for (const [id, sandbox] of probes) {
                const frame = document.createElement("iframe");
                frame.id = id;
                frame.title = id;
                if (sandbox) frame.sandbox = sandbox;
                frame.src = "/_tests/probe/embed-probe.html";
                document.body.append(frame);
            }
        }"""
    )
    ignored = page.locator('#message-log li[data-direction="ignored"]')
    expect(ignored.filter(has_text="origin is not the WebView's")).to_have_count(1)
    expect(ignored.filter(has_text="origin is not the WebView's").locator(".origin")).to_have_text(
        "null"
    )
    expect(ignored.filter(has_text="source is not the WebView frame")).to_have_count(1)

    # The top window itself: same origin, but not the WebView frame.
    page.evaluate("() => window.postMessage({type: 'REQUEST_LOCATION'}, '*')")
    expect(ignored.filter(has_text="source is not the WebView frame")).to_have_count(2)
    expect(ignored).to_have_count(3)
    assert all(
        t == "REQUEST_LOCATION" for t in ignored.evaluate_all("e => e.map(x => x.dataset.type)")
    )

    # No one but the WebView got an answer.
    for probe in ("#probe-foreign", "#probe-same"):
        body = page.frame_locator(probe).locator("body")
        expect(body).to_have_attribute("data-posted", "true")
        expect(page.frame_locator(probe).locator("#replies li")).to_have_count(0)
    assert log_entries(page, "out", "LOCATION_RESPONSE").count() == replies_before
    assert log_entries(page, "out", "ERROR").count() == 0


def test_a_refused_location_is_answered_with_an_error(page, context, live_bff, problems):
    context.clear_permissions()
    load(page, live_bff)
    expect(log_entries(page, "in", "REQUEST_LOCATION")).to_have_count(1)
    expect(log_entries(page, "out", "ERROR")).to_have_count(1)
    frame = page.frame_locator("#webview")
    expect(frame.locator("#nearby-status")).to_contain_text("Your location is unavailable")
    expect(frame.locator("#nearby .location")).to_have_count(0)
    expect(frame.locator("#offers .offer").first).to_be_visible()


def an_offer_to_activate(page: Page, live_bff: str) -> tuple[Locator, Locator]:
    """Load the WebView; answer its first offer's "Tap to activate" button and that offer's card."""
    load(page, live_bff)
    frame = page.frame_locator("#webview")
    button = frame.get_by_role("button", name="Tap to activate").first
    expect(button).to_be_visible()
    offer_id = (
        frame.locator("#offers .offer").filter(has=button).first.get_attribute("data-offer-id")
    )
    assert offer_id
    return button, frame.locator(f'#offers .offer[data-offer-id="{offer_id}"]')


def test_a_cta_activates_an_offer(page, live_bff, problems):
    button, updated = an_offer_to_activate(page, live_bff)
    button.click()
    expect(updated.locator(".tag", has_text="Activated")).to_be_visible()
    expect(updated.get_by_role("button", name="Tap to activate")).to_have_count(0)


def test_the_session_is_renewed_before_the_token_expires(page, live_bff, problems):
    page.clock.install()
    load(page, live_bff)
    expect(log_entries(page, "out", "LOCATION_RESPONSE")).to_have_count(1)
    first_src = page.locator("#webview").get_attribute("src")
    # An hour-long token: renewal is due 60 s before it expires.
    page.clock.run_for("58:00")
    expect(page.locator('#message-log li[data-direction="renewed"]')).to_have_count(0)
    page.clock.run_for("01:30")
    expect(page.locator('#message-log li[data-direction="renewed"]')).to_have_count(1)
    # The renewed WebView loads again and asks again.
    expect(log_entries(page, "out", "LOCATION_RESPONSE")).to_have_count(2)
    assert page.locator("#webview").get_attribute("src").startswith(first_src.split("?")[0])


def test_the_standalone_webview_explains_a_bad_token(page, live_bff, problems):
    problems.allow_failed_loads("/sandbox/webview/api/me")
    page.goto(live_bff + "/sandbox/webview?token=not-a-token")
    expect(page.get_by_role("alert")).to_contain_text("invalid or has expired")
    expect(page.locator("#offers-section")).to_be_hidden()


def test_an_unreachable_bff_is_explained_where_the_webview_goes(
    page, live_bff, artifacts, problems
):
    problems.allow_failed_loads("/dev/session")
    page.route("**/dev/session", lambda route: route.abort())
    load(page, live_bff)
    error = page.locator(".frame .frame-error")
    expect(error).to_contain_text(
        f"The BFF at {live_bff} cannot be reached. Is `make run` running?"
    )
    expect(page.locator(".frame")).not_to_contain_text("Failed to fetch")
    page.screenshot(path=artifacts / "embed-unreachable.png")

    page.unroute("**/dev/session")
    error.get_by_role("button", name="Retry").click()
    expect(page.frame_locator("#webview").locator("#offers .offer").first).to_be_visible()
    expect(error).to_be_hidden()


def test_an_api_error_is_shown_with_its_title_and_detail(page, live_bff, problems):
    problems.allow_failed_loads("/dev/session")
    page.goto(live_bff + "/embed")
    page.fill("#user-id", "u" * 300)
    page.click("#load")
    error = page.locator(".frame .frame-error")
    expect(error).to_contain_text("Unprocessable entity: userId must be printable text")
    expect(error.get_by_role("button", name="Retry")).to_be_visible()

    page.fill("#user-id", "sandbox-demo-new-customer")
    error.get_by_role("button", name="Retry").click()
    expect(page.frame_locator("#webview").locator("#offers .offer").first).to_be_visible()
    expect(error).to_be_hidden()


def test_a_failing_cta_shows_one_error_on_its_card(page, live_bff, problems):
    activate = "**/sandbox/webview/api/offers/*/activate"
    problems.allow_failed_loads("/sandbox/webview/api/offers/*/activate")
    button, card = an_offer_to_activate(page, live_bff)
    page.route(activate, lambda route: route.abort())
    for _ in range(2):
        button.click()
        expect(card.locator(".card-error")).to_contain_text("Could not activate")
        expect(button).to_be_enabled()
    expect(card.locator(".card-error")).to_have_count(1)
    expect(card.locator(".card-error")).to_contain_text("cannot be reached")

    page.unroute(activate)
    button.click()
    expect(card.locator(".tag", has_text="Activated")).to_be_visible()
    expect(card.locator(".card-error")).to_have_count(0)
