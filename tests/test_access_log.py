"""The access log of `kard-bff serve`: one redacted line per request, under a real server too."""

import logging
import os
import re

import httpx
import pytest

from bff.access_log import AccessLog
from tests.servers import ServerProcess

LINE = re.compile(
    r'^(\S+) - \[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4})\] "([^"]*)" (\d{3}|-) ([\d.]+)ms$'
)


def _app(status: str = "201 Created"):
    def app(environ, start_response):
        start_response(status, [("Content-Type", "text/plain")])
        return [b"ok"]

    return app


def _call(app, path: str = "/x", query: str = "", method: str = "GET") -> list[bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
    }
    return list(app(environ, lambda status, headers, exc_info=None: None))


@pytest.fixture
def access_lines(caplog):
    with caplog.at_level(logging.INFO, "bff.access"):
        yield lambda: [r.getMessage() for r in caplog.records if r.name == "bff.access"]


def test_one_line_per_request_with_its_status_and_duration(access_lines):
    assert _call(AccessLog(_app()), "/api/v1/offers", "sort=name", "POST") == [b"ok"]
    [line] = access_lines()
    address, _, request, status, _ = LINE.match(line).groups()
    assert (address, request, status) == (
        "10.0.0.7",
        "POST /api/v1/offers?sort=name HTTP/1.1",
        "201",
    )


def test_query_values_are_redacted_but_the_visible_ones(access_lines):
    _call(AccessLog(_app()), "/embed", "token=eyJhbGciOi.secret&page%5Bsize%5D=20")
    [line] = access_lines()
    assert '"GET /embed?token=***&page%5Bsize%5D=20 HTTP/1.1"' in line
    assert "eyJ" not in line


def test_a_decoded_newline_or_quote_in_the_path_cannot_forge_a_line(access_lines):
    _call(AccessLog(_app("404 NOT FOUND")), '/a\n127.0.0.1 - [x] "GET /admin" 200 1ms')
    [line] = access_lines()
    assert "\n" not in line and line.count('"') == 2
    assert LINE.match(line).group(3).startswith("GET /a%0A127.0.0.1")


def test_nothing_is_built_when_the_access_log_is_off(caplog):
    with caplog.at_level(logging.WARNING, "bff.access"):
        _call(AccessLog(_app()))
    assert not [r for r in caplog.records if r.name == "bff.access"]


def test_kard_bff_serve_writes_it_to_standard_output(kard_url, tmp_path):
    env = {**os.environ, "KARD_API_URL": kard_url, "BFF_STATE_DIR": str(tmp_path)}
    with ServerProcess(["serve"], env=env) as server:
        token = httpx.post(f"{server.url}/dev/session", json={"userId": "u-1"}).json()["token"]
        httpx.get(f"{server.url}/embed", params={"token": token})
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    lines = [line for line in server.output.splitlines() if LINE.match(line)]
    requests = [LINE.match(line).group(3) for line in lines]
    assert requests[-3:] == [
        "POST /dev/session HTTP/1.1",
        "GET /embed?token=*** HTTP/1.1",
        "GET /healthz HTTP/1.1",
    ]
    assert token not in server.output
