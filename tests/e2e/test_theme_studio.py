"""The theme studio in Chromium: edit, preview, validate, import, contrast, and screenshots."""

import json
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from bff import themes

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
    decoded = themes.decode(page.locator("#encoded-value").input_value())
    assert decoded == {
        "styles": {"light": {"primary": "#ff5500"}, "dark": {"linkColor": "#00aa11"}}
    }
    url = page.locator("#webview-url").input_value()
    assert url.startswith("https://webview-test-us-east-1.getkard.com/?token=")
    assert themes.decode(url) == decoded


def test_importing_a_url_restores_every_field(page: Page, live_bff):
    value, normalized = themes.encode(FULL_THEME)
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
    assert themes.decode(page.locator("#webview-url").input_value()) == normalized


def test_importing_a_partial_theme_clears_the_fields_it_does_not_set(page: Page, live_bff):
    open_studio(page, live_bff)
    page.fill("#dark-border", "#abcdef")
    page.fill("#layout-radius", "3px")
    value, _ = themes.encode({"labels": {"offersTitle": "Deals"}})
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
    assert themes.decode(page.locator("#encoded-value").input_value()) == branding["json"]

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


def test_the_studio_loads_without_console_errors(page: Page, live_bff):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    open_studio(page, live_bff)
    page.select_option("#start-from", "branding")
    expect(page.locator("#light-primary")).to_have_value("#0066cc")
    expect(page.locator("#status")).to_have_text("Theme is valid.")
    assert problems == []


@pytest.mark.parametrize(
    ("name", "scheme", "width", "height"),
    [
        ("theme-studio-light.png", "light", 1280, 900),
        ("theme-studio-dark.png", "dark", 1280, 900),
        ("theme-studio-375.png", "light", 375, 812),
    ],
)
def test_screenshots(page: Page, live_bff, artifacts, name, scheme, width, height):
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
