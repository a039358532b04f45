"""The theme studio in Chromium: edit, preview, validate, import, contrast, and screenshots."""

import json
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from bff.themes import codec
from tests.servers import serve

COLORS = {
    "light": {
        "background": "#fafafa",
        "primary": "#123456",
        "buttonPrimaryTextColor": "#ffffff",
        "secondary": "rgb(200, 210, 220)",
        "buttonSecondaryTextColor": "#101010",
        "textPrimary": "#111111",
        "textSecondary": "hsl(0, 0%, 30%)",
        "cardBackgroundColor": "white",
        "border": "#dddddd",
        "linkColor": "#0044aa",
    },
    "dark": {
        "background": "#0a0a0a",
        "primary": "oklch(70% 0.15 250)",
        "buttonPrimaryTextColor": "#000000",
        "secondary": "#333333",
        "buttonSecondaryTextColor": "#eeeeee",
        "textPrimary": "#f0f0f0",
        "textSecondary": "#aaaaaa",
        "cardBackgroundColor": "#1b1b1b",
        "border": "#444444",
        "linkColor": "#66aaff",
    },
}
FULL_THEME = {
    "theme": "dark",
    "styles": {
        **COLORS,
        "layout": {"radius": "6px", "chipRadius": "50%", "imageRadius": "0", "cardRadius": "1rem"},
    },
    "labels": {
        "rewardsTitle": "Cash back",
        "nearbyOffersTitle": "Around you",
        "offersTitle": "Every deal",
    },
    "layout": {"showMap": False},
}


def containing(text: str) -> re.Pattern:
    """A pattern for `to_have_value` that matches values containing `text`."""
    return re.compile(re.escape(text))


def open_studio(page: Page, live_bff: str) -> None:
    page.goto(live_bff + "/theme-studio")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    # The blank theme has been validated once: the outputs hold its value.
    expect(page.locator("#encoded-value")).not_to_have_value("")


def test_the_studio_is_served_with_a_strict_policy(live_bff):
    response = httpx.get(live_bff + "/theme-studio")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert 'type="module" src="/static/theme-studio.js"' in response.text


def test_editing_a_color_updates_the_preview_and_the_encoded_value(page: Page, live_bff):
    open_studio(page, live_bff)
    page.fill("#light-primary", "#ff5500")

    preview = page.locator("#preview-light")
    expect(preview).to_have_css("background-color", re.compile(r"rgb"))  # the preview is styled
    expect(page.locator("#encoded-value")).not_to_have_value("e30")  # no longer the empty theme
    primary = "getComputedStyle(document.getElementById('preview-light'))"
    primary += ".getPropertyValue('--kard-primary').trim()"
    assert page.evaluate(primary) == "#ff5500"
    button = page.locator("#preview-light .kp-button").first
    expect(button).to_have_css("background-color", "rgb(255, 85, 0)")
    expect(page.locator("#light-primary-picker")).to_have_value("#ff5500")

    # The picker writes back to the text field too.
    page.locator("#dark-linkColor-picker").fill("#00aa11")
    expect(page.locator("#dark-linkColor")).to_have_value("#00aa11")

    expect(page.locator("#theme-json")).to_have_value(containing('"linkColor": "#00aa11"'))
    decoded = codec.decode(page.locator("#encoded-value").input_value())
    assert decoded == {
        "styles": {"light": {"primary": "#ff5500"}, "dark": {"linkColor": "#00aa11"}}
    }
    url = page.locator("#webview-url").input_value()
    assert url.startswith("https://webview-test-us-east-1.getkard.com/?token=")
    assert codec.decode(url) == decoded


def test_importing_a_url_restores_every_field(page: Page, live_bff):
    value, normalized = codec.encode(FULL_THEME)
    url = f"https://webview-test-us-east-1.getkard.com/?token=abc&theme={value}"
    open_studio(page, live_bff)
    # Fields the imported theme sets are overwritten; a stray value would have to be cleared.
    page.fill("#label-rewardsTitle", "Stale")
    page.fill("#import-input", url)
    page.click("#import-button")

    expect(page.locator("#theme-mode")).to_have_value("dark")
    for mode in ("light", "dark"):
        for token, color in normalized["styles"][mode].items():
            expect(page.locator(f"#{mode}-{token}")).to_have_value(color)
    for token, length in normalized["styles"]["layout"].items():
        expect(page.locator(f"#layout-{token}")).to_have_value(length)
    for key, label in normalized["labels"].items():
        expect(page.locator(f"#label-{key}")).to_have_value(label)
    expect(page.locator("#show-map")).not_to_be_checked()
    expect(page.locator("#preview-light [data-map]")).to_be_hidden()
    expect(page.locator("#preview-light .kp-title")).to_have_text("Cash back")

    # The studio re-encodes what it imported to the very same value.
    expect(page.locator("#encoded-value")).to_have_value(value)
    assert codec.decode(page.locator("#webview-url").input_value()) == normalized


def test_importing_a_partial_theme_clears_the_fields_it_does_not_set(page: Page, live_bff):
    open_studio(page, live_bff)
    page.fill("#dark-border", "#abcdef")
    page.fill("#layout-radius", "3px")
    value, _ = codec.encode({"labels": {"offersTitle": "Deals"}})
    page.fill("#import-input", value)
    page.click("#import-button")

    expect(page.locator("#label-offersTitle")).to_have_value("Deals")
    expect(page.locator("#dark-border")).to_have_value("")
    expect(page.locator("#layout-radius")).to_have_value("")
    expect(page.locator("#show-map")).to_be_checked()
    expect(page.locator("#encoded-value")).to_have_value(value)


def test_a_bad_import_is_reported_at_the_import_field(page: Page, live_bff):
    open_studio(page, live_bff)
    page.fill("#import-input", "https://webview-test-us-east-1.getkard.com/?token=abc")
    page.click("#import-button")
    expect(page.locator("#import-input")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#import-input-error")).to_contain_text("no theme parameter")


def test_a_low_contrast_pair_is_warned_about(page: Page, live_bff):
    open_studio(page, live_bff)
    expect(page.locator("#colors-light .contrast-warning")).to_have_count(0)
    page.fill("#light-textPrimary", "#777777")
    page.fill("#light-background", "#888888")

    warning = page.locator("#colors-light .contrast-warning", has_text="Text on background")
    expect(warning).to_have_text(re.compile(r"Text on background: 1\.\d:1 \(below 4\.5:1\)"))
    # Only the light mode's pair is low; dark keeps its defaults.
    expect(page.locator("#colors-dark .contrast-warning")).to_have_count(0)

    page.fill("#light-textPrimary", "#000000")
    expect(page.locator("#colors-light .contrast-warning")).to_have_count(0)


def test_an_invalid_color_is_shown_at_its_field(page: Page, live_bff):
    open_studio(page, live_bff)
    field = page.locator("#light-secondary")
    field.fill("red; background:url(x)")

    expect(field).to_have_attribute("aria-invalid", "true")
    error = page.locator("#light-secondary-error")
    expect(error).to_contain_text("is not a CSS color")
    assert "light-secondary-error" in (field.get_attribute("aria-describedby") or "").split()
    expect(page.locator("#status")).to_contain_text("1 field to fix")
    expect(page.locator("#encoded-value")).to_have_value("")
    # The preview ignores the bad value.
    expect(page.locator("#preview-light .kp-logo").first).to_have_css(
        "background-color", "rgb(229, 231, 235)"
    )

    field.fill("rebeccapurple")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(error).to_have_text("")
    expect(page.locator("#encoded-value")).not_to_have_value("")


def test_an_invalid_radius_is_shown_at_its_field(page: Page, live_bff):
    open_studio(page, live_bff)
    page.fill("#layout-cardRadius", "-4px")
    expect(page.locator("#layout-cardRadius")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#layout-cardRadius-error")).to_contain_text("negative")


def test_starting_from_a_named_theme_fills_the_fields(page: Page, live_bff):
    open_studio(page, live_bff)
    expect(page.locator("#start-from option[value='branding']")).to_have_count(1)
    page.select_option("#start-from", "branding")
    expect(page.locator("#light-primary")).to_have_value("#0066cc")
    expect(page.locator("#label-rewardsTitle")).to_have_value("My Rewards")
    expect(page.locator("#preview-dark .kp-title")).to_have_text("My Rewards")
    branding = httpx.get(live_bff + "/api/v1/themes").json()["themes"][0]
    assert branding["name"] == "branding"
    expect(page.locator("#encoded-value")).not_to_have_value("e30")
    assert codec.decode(page.locator("#encoded-value").input_value()) == branding["json"]

    page.select_option("#start-from", "high-contrast")
    expect(page.locator("#label-rewardsTitle")).to_have_value("")
    expect(page.locator("#theme-mode")).to_have_value("system")


def test_show_map_toggles_the_map_and_the_theme(page: Page, live_bff):
    open_studio(page, live_bff)
    expect(page.locator("#preview-dark [data-map]")).to_be_visible()
    page.uncheck("#show-map")
    expect(page.locator("#preview-dark [data-map]")).to_be_hidden()
    expect(page.locator("#theme-json")).to_have_value(containing('"showMap": false'))
    page.check("#show-map")
    expect(page.locator("#theme-json")).to_have_value(containing('"showMap": true'))


def test_the_label_fields_take_the_bffs_label_limit(page: Page, live_bff, problems):
    """The studio reads the limit from the BFF (/static/theme-limits.js), not from a copy."""
    open_studio(page, live_bff)
    for key in codec.LABELS:
        field = page.locator(f"#label-{key}")
        expect(field).to_have_attribute("maxlength", str(codec.MAX_LABEL_LENGTH))
    page.fill("#label-offersTitle", "x" * (codec.MAX_LABEL_LENGTH + 5))
    expect(page.locator("#label-offersTitle")).to_have_value("x" * codec.MAX_LABEL_LENGTH)


def test_a_newer_edit_cancels_the_encode_request_of_the_older_one(page: Page, live_bff, problems):
    open_studio(page, live_bff)
    held = []

    def hold_the_first(route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)  # never answered: the page has to give up on it

    page.route("**/api/v1/themes/encode", hold_the_first)
    with page.expect_request("**/api/v1/themes/encode"):
        page.fill("#label-offersTitle", "Older")
    with page.expect_event("requestfailed") as cancelled:
        page.fill("#label-offersTitle", "Newer")
    assert cancelled.value.url.endswith("/api/v1/themes/encode")
    assert cancelled.value.failure == "net::ERR_ABORTED"
    expect(page.locator("#theme-json")).to_have_value(containing("Newer"))
    expect(page.locator("#status")).to_have_text("Theme is valid.")


def test_copy_and_download(page: Page, live_bff):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_studio(page, live_bff)
    page.fill("#label-offersTitle", "Deals")
    expect(page.locator("#theme-json")).to_have_value(containing("Deals"))
    button = page.locator("button[data-copy='encoded-value']")
    button.click()
    expect(button).to_have_text("Copied")
    encoded = page.locator("#encoded-value").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == encoded

    with page.expect_download() as info:
        page.click("#download-json")
    download = info.value
    assert download.suggested_filename == "theme.json"
    assert json.loads(Path(download.path()).read_text()) == {"labels": {"offersTitle": "Deals"}}


def test_the_studio_loads_without_console_errors(page: Page, live_bff, problems):
    open_studio(page, live_bff)
    page.select_option("#start-from", "branding")
    expect(page.locator("#light-primary")).to_have_value("#0066cc")
    expect(page.locator("#status")).to_have_text("Theme is valid.")
    expect(page.locator("#status")).to_have_attribute("data-kind", "ok")


def test_the_validity_message_counts_the_failing_contrast_checks(page: Page, live_bff, problems):
    open_studio(page, live_bff)
    page.fill("#light-buttonPrimaryTextColor", "#7fb2e5")
    status = page.locator("#status")
    expect(status).to_have_text("Theme is valid, but 1 contrast check fails (WCAG AA 4.5:1).")
    expect(status).to_have_attribute("data-kind", "warning")
    page.fill("#dark-textPrimary", "#222222")
    expect(status).to_have_text("Theme is valid, but 3 contrast checks fail (WCAG AA 4.5:1).")

    page.fill("#light-buttonPrimaryTextColor", "")
    page.fill("#dark-textPrimary", "")
    expect(status).to_have_text("Theme is valid.")
    expect(status).to_have_attribute("data-kind", "ok")


def refuse(route) -> None:
    route.abort()


def answer_unavailable(route) -> None:
    error = {"status": "503", "title": "Service unavailable", "detail": "Try again shortly."}
    route.fulfill(status=503, json={"errors": [error]})


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (refuse, "The BFF at {origin} cannot be reached. Is `make run` running?"),
        (answer_unavailable, "Service unavailable: Try again shortly."),
    ],
)
def test_a_failed_encode_marks_the_outputs_stale(
    page: Page, live_bff, artifacts, problems, handler, message
):
    problems.allow_failed_loads("/api/v1/themes/encode")
    open_studio(page, live_bff)
    page.fill("#label-offersTitle", "Deals")
    expect(page.locator("#theme-json")).to_have_value(containing("Deals"))
    encoded = page.locator("#encoded-value").input_value()

    page.route("**/api/v1/themes/encode", handler)
    page.fill("#label-offersTitle", "Deals today")
    output = page.locator("#output-status")
    expect(output).to_have_text(
        "Not updated: "
        + message.format(origin=live_bff)
        + " These outputs are for an earlier theme."
    )
    expect(page.locator("#output-heading .badge")).to_have_text("Stale")
    for name in ("encoded-value", "webview-url", "theme-json"):
        field = page.locator(f"#{name}")
        expect(field).to_have_attribute("aria-invalid", "true")
        assert "output-status" in (field.get_attribute("aria-describedby") or "").split()
        expect(field).to_have_css("opacity", "0.55")
    expect(page.locator("#encoded-value")).to_have_value(encoded)  # kept, marked stale
    outputs = page.locator(".panel", has=page.locator("#output-heading"))
    outputs.screenshot(path=artifacts / f"theme-studio-stale-{handler.__name__}.png")

    page.unroute("**/api/v1/themes/encode")
    page.fill("#label-offersTitle", "Deals now")
    expect(page.locator("#theme-json")).to_have_value(containing("Deals now"))
    expect(output).to_have_text("")
    expect(page.locator("#output-heading .badge")).to_be_hidden()
    for name in ("encoded-value", "webview-url", "theme-json"):
        expect(page.locator(f"#{name}")).not_to_have_attribute("aria-invalid", "true")


def test_at_phone_width_the_fields_start_in_the_first_screen(page: Page, live_bff, problems):
    page.set_viewport_size({"width": 390, "height": 844})
    open_studio(page, live_bff)
    first_field = page.locator("#start-from").bounding_box()
    assert first_field is not None and first_field["y"] < 844
    # Both previews are still there, side by side, above the fields.
    light = page.locator("#preview-light").bounding_box()
    dark = page.locator("#preview-dark").bounding_box()
    assert light and dark and light["y"] == dark["y"] and light["x"] < dark["x"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_open_in_the_sandbox_webview(page: Page, live_bff, problems):
    open_studio(page, live_bff)
    page.fill("#label-rewardsTitle", "Cash back")
    page.uncheck("#show-map")
    expect(page.locator("#theme-json")).to_have_value(containing("Cash back"))
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Open in the sandbox WebView").click()
    popup = popup_info.value
    expect(popup).to_have_url(
        re.compile(re.escape(live_bff) + r"/sandbox/webview\?token=.+&theme=")
    )
    expect(popup.locator("#rewards-title")).to_have_text("Cash back")
    expect(popup.locator("#offers .offer").first).to_be_visible()
    expect(popup.locator("#nearby")).to_be_hidden()
    assert codec.decode(popup.url) == {
        "labels": {"rewardsTitle": "Cash back"},
        "layout": {"showMap": False},
    }
    expect(page.locator("#open-webview-error")).to_have_text("")


def open_in_the_sandbox_and_see_the_window_closed(page: Page) -> None:
    """Press the button; the window it opens for the WebView closes again when opening fails."""
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Open in the sandbox WebView").click()
    popup = popup_info.value
    if not popup.is_closed():
        popup.wait_for_event("close")
    assert page.context.pages == [page]


OUTSIDE_SANDBOX = {
    "KARD_ENV": "test",
    "KARD_AUTH_URL": "http://127.0.0.1:9/v2/auth/token",  # the studio never asks Kard
    "KARD_CLIENT_ID": "client-1",
    "KARD_CLIENT_SECRET": "secret-1",
    "KARD_ORGANIZATION_ID": "org-1",
    "BFF_AUTH_MODE": "hs256",
    "BFF_JWT_SECRET": "x" * 32,
}


def test_open_in_the_sandbox_webview_says_why_it_cannot(page: Page, make_app, problems):
    problems.allow_failed_loads("/dev/session")
    with serve(make_app(**OUTSIDE_SANDBOX)) as url:
        open_studio(page, url)
        open_in_the_sandbox_and_see_the_window_closed(page)
        expect(page.locator("#open-webview-error")).to_have_text(
            "Only in the sandbox: this BFF has no POST /dev/session (KARD_ENV is not sandbox)."
        )


def test_open_in_the_sandbox_webview_reports_an_unreachable_bff(page: Page, live_bff, problems):
    problems.allow_failed_loads("/api/v1/webview/session")
    open_studio(page, live_bff)
    page.route("**/api/v1/webview/session", lambda route: route.abort())
    open_in_the_sandbox_and_see_the_window_closed(page)
    expect(page.locator("#open-webview-error")).to_have_text(
        f"The BFF at {live_bff} cannot be reached. Is `make run` running?"
    )


@pytest.mark.parametrize(
    ("name", "scheme", "width", "height"),
    [
        ("theme-studio-light.png", "light", 1280, 900),
        ("theme-studio-dark.png", "dark", 1280, 900),
        ("theme-studio-390.png", "light", 390, 844),
    ],
)
def test_screenshots(page: Page, live_bff, artifacts, problems, name, scheme, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(color_scheme=scheme)
    open_studio(page, live_bff)
    page.select_option("#start-from", "branding")
    page.fill("#light-buttonPrimaryTextColor", "#7fb2e5")  # a low-contrast pair: a warning
    expect(page.locator("#theme-json")).to_have_value(containing("#7fb2e5"))
    expect(page.locator("#colors-light .contrast-warning")).to_have_count(1)
    # The page fits the viewport's width: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#light-buttonPrimaryTextColor").blur()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=artifacts / name, full_page=True)
    assert (artifacts / name).stat().st_size > 10_000
