"""Redaction: no credential or token-bearing query value of a URL is ever printed."""

import logging
import os

import httpx
import pytest

from bff.redact import RedactingFilter, redact_query, redact_text, redact_url
from tests.servers import ServerProcess

TOKEN = "eyJhbGciOiJIUzI1NiJ9.SECRET-webview-token"
REFERER_TOKEN = "eyJhbGciOiJIUzI1NiJ9.SECRET-referer-token"


@pytest.mark.parametrize(
    ("url", "printed"),
    [
        ("/sandbox/webview?token=eyJ.x.y", "/sandbox/webview?token=***"),
        ("/sandbox/webview?token=eyJ.x.y&theme=e30", "/sandbox/webview?token=***&theme=e30"),
        ("https://user:pass@hooks.example.com/kard", "https://***@hooks.example.com/kard"),
        ("https://user:p@ss@hooks.example.com/", "https://***@hooks.example.com/"),
        (
            "https://hooks.example.com/k?apikey=K&api_key=K",
            "https://hooks.example.com/k?apikey=***&api_key=***",
        ),
        (
            "https://s3.amazonaws.com/b/r.json?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ab12",
            "https://s3.amazonaws.com/b/r.json?X-Amz-Credential=***&X-Amz-Signature=***",
        ),
        ("/cb?code=C;state=S", "/cb?code=***;state=***"),
        ("/cb#access_token=T&expires_in=3600", "/cb#access_token=***&expires_in=***"),
        ("/x?eyJbare.secret", "/x?***"),
        ("/x?anything=at-all", "/x?anything=***"),  # unknown names are redacted too
        ("/x?token=", "/x?token="),
        (
            "/api/v1/offers?page%5Bsize%5D=5&page[after]=c1&filter[category]=FOOD&sort=name"
            "&include=offers&supportedComponents=cta",
            "/api/v1/offers?page%5Bsize%5D=5&page[after]=c1&filter[category]=FOOD&sort=name"
            "&include=offers&supportedComponents=cta",
        ),
        ("https://rewards-api.getkard.com/v2/issuers/org/users/u/offers", "same"),
        ("/healthz", "same"),
        ("redis://:hunter2@cache:6379/0", "redis://***@cache:6379/0"),
        ("http://[::1", "same"),  # not a URL urllib can parse: still no crash
    ],
)
def test_redact_url(url, printed):
    assert redact_url(url) == (url if printed == "same" else printed)


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        (
            '127.0.0.1 - - "GET /sandbox/webview?token=T HTTP/1.1" 200 "http://h/p?sig=S"',
            '127.0.0.1 - - "GET /sandbox/webview?token=*** HTTP/1.1" 200 "http://h/p?sig=***"',
        ),
        (
            "HTTPStatusError: Server error '503 Service Unavailable' for url "
            "'https://u:p@h/hook?apikey=K'\nFor more information check: https://developer.mozilla.org/x",
            "HTTPStatusError: Server error '503 Service Unavailable' for url "
            "'https://***@h/hook?apikey=***'\nFor more information check: https://developer.mozilla.org/x",
        ),
        ("\x1b[33mGET /x?token=T HTTP/1.1\x1b[0m", "\x1b[33mGET /x?token=*** HTTP/1.1\x1b[0m"),
        ("forward=https://u:p@h/x failed", "forward=https://***@h/x failed"),
        ("nothing to hide, is there?", "nothing to hide, is there?"),
        ("", ""),
    ],
)
def test_redact_text(text, printed):
    assert redact_text(text) == printed


@pytest.mark.parametrize(
    ("query", "printed"),
    [("token=T&theme=e30", "token=***&theme=e30"), ("", ""), ("page[size]=3", "page[size]=3")],
)
def test_redact_query(query, printed):
    assert redact_query(query) == printed


@pytest.mark.parametrize(
    ("message", "args", "logged"),
    [
        ("GET %s", ("/x?token=T",), "GET /x?token=***"),
        ("%(r)s", ({"r": "GET /x?sig=S"},), "GET /x?sig=***"),
        ("plain %s", ("words",), "plain words"),
        ("too few %s %s", ("args",), None),  # logging's own error report, not an exception here
    ],
)
def test_the_log_filter_redacts_the_formatted_message(message, args, logged):
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, message, args, None)
    assert RedactingFilter().filter(record)
    if logged is not None:
        assert record.getMessage() == logged


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("bff.cli", ["serve"]), id="kard-bff serve"),
        pytest.param(("flask", ["--app", "wsgi", "run"]), id="flask run"),
    ],
)
def test_access_logs_have_the_path_but_not_the_token(command, tmp_path):
    module, args = command
    env = {**os.environ, "KARD_ENV": "sandbox", "BFF_STATE_DIR": str(tmp_path)}
    with ServerProcess(args, env=env, module=module) as server:
        page = httpx.get(f"{server.url}/sandbox/webview", params={"token": TOKEN})
        assert page.status_code == 200
        referer = f"{server.url}/sandbox/webview?token={REFERER_TOKEN}&theme=e30"
        httpx.get(f"{server.url}/static/missing.js", headers={"Referer": referer})
    assert "GET /sandbox/webview?token=*** HTTP/1.1" in server.output
    assert "SECRET" not in server.output
