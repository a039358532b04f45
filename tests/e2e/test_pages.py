"""Every page: served with its security headers, only through its page route, and loads without
errors in Chromium."""

from pathlib import Path

import httpx
import pytest

from bff import create_app
from tests.servers import serve

STATIC = Path(__file__).resolve().parents[2] / "static"
PAGE_FILES = sorted(path.name for path in STATIC.glob("*.html"))
SANDBOX_ONLY = [
    "/sandbox/webview",
    "/static/sandbox-webview.js",
    "/static/sandbox-webview.css",
    "/static/webview/geo.js",
    "/static/webview/theme.js",
]
TEST_ENV = {
    "KARD_ENV": "test",
    "KARD_AUTH_URL": "https://issuer.getkard.com/v2/auth/token",
    "KARD_CLIENT_ID": "client-1",
    "KARD_CLIENT_SECRET": "secret-1",
    "KARD_ORGANIZATION_ID": "org-1",
    "BFF_AUTH_MODE": "hs256",
    "BFF_JWT_SECRET": "x" * 32,
}


@pytest.mark.parametrize(
    ("path", "ancestors"),
    [
        ("/", "frame-ancestors 'none'"),
        ("/theme-studio", "frame-ancestors 'none'"),
        ("/embed", "frame-ancestors 'none'"),
        ("/docs", "frame-ancestors 'none'"),
        ("/sandbox/webview", "frame-ancestors 'self'"),
    ],
)
def test_pages_send_a_content_security_policy(live_bff, path, ancestors):
    response = httpx.get(live_bff + path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and ancestors in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"


def _assert_json_404(response: httpx.Response) -> None:
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["status"] == "404"


@pytest.mark.parametrize("name", PAGE_FILES)
def test_no_page_is_served_as_a_static_file(live_bff, name):
    """A page is served only by its route, with its headers: /static/<page>.html is no way round."""
    _assert_json_404(httpx.get(f"{live_bff}/static/{name}"))


@pytest.mark.parametrize(
    "path",
    [
        "/static/site.css",
        "/static/theme-studio.js",
        "/static/theme-limits.js",
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        *SANDBOX_ONLY[1:],
    ],
)
def test_static_assets_carry_the_baseline_headers(live_bff, path):
    response = httpx.get(live_bff + path)
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_outside_sandbox_the_stand_in_and_its_assets_are_not_served(tmp_path):
    with serve(create_app({**TEST_ENV, "BFF_STATE_DIR": str(tmp_path)})) as url:
        for path in SANDBOX_ONLY:
            _assert_json_404(httpx.get(url + path))
        assert httpx.get(url + "/static/theme-studio.js").status_code == 200
        assert httpx.get(url + "/theme-studio").status_code == 200


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
