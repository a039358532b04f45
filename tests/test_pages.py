"""The pages' routes, without a browser: /docs, and what it answers without Swagger UI."""

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bff import pages


def _get(client: FlaskClient, path: str) -> TestResponse:
    """GET `path`, read, and close the response (a page is a file: left open, a ResourceWarning)."""
    with client.get(path) as response:
        response.get_data()
    return response


def test_the_api_reference_has_the_pages_content_security_policy(client):
    docs, index = _get(client, "/docs"), _get(client, "/")
    assert docs.status_code == 200
    assert docs.headers["Content-Security-Policy"] == index.headers["Content-Security-Policy"]
    assert docs.headers["Referrer-Policy"] == "no-referrer"
    assert b'src="/static/vendor/swagger-ui/swagger-ui-bundle.js"' in docs.data


def test_without_swagger_ui_the_api_reference_says_how_to_get_it(client, monkeypatch):
    """A wheel built without `make swagger-ui`: a readable page, not a blank one or a 500."""
    monkeypatch.setattr(pages, "SWAGGER_UI_BUNDLE", "vendor/swagger-ui/absent.js")
    docs, index = _get(client, "/docs"), _get(client, "/")
    assert docs.status_code == 200
    assert docs.headers["Content-Security-Policy"] == index.headers["Content-Security-Policy"]
    page = docs.get_data(as_text=True)
    assert "make swagger-ui" in page and 'href="/openapi.json"' in page
    assert "<script" not in page  # nothing that would load the missing renderer
