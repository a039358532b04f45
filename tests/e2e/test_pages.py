"""Every page: served with its security headers, and loads without errors in Chromium."""

import httpx
import pytest


@pytest.mark.parametrize(
    ("path", "ancestors"),
    [
        ("/", "frame-ancestors 'none'"),
        ("/theme-studio", "frame-ancestors 'none'"),
        ("/embed", "frame-ancestors 'none'"),
        ("/sandbox/webview", "frame-ancestors 'self'"),
    ],
)
def test_pages_send_a_content_security_policy(live_bff, path, ancestors):
    response = httpx.get(live_bff + path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and ancestors in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_index_loads_cleanly(page, live_bff, problems):
    page.goto(live_bff + "/")
    assert page.locator("h1").inner_text() == "kard-bff"


@pytest.mark.parametrize(
    ("path", "hidden"),
    [("/theme-studio", "label.visually-hidden"), ("/embed", "#controls-title")],
)
def test_stylesheets_load_and_screen_reader_text_stays_off_screen(page, live_bff, path, hidden):
    failed = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    page.goto(live_bff + path)
    page.wait_for_load_state("networkidle")
    assert failed == []
    box = page.locator(hidden).first.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1
