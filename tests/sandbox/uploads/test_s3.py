"""The S3 stand-in: the presigned PUT and results GET, their limits, signatures and expiry."""

import gzip
import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bff.sandbox import Simulator, create_simulator_app
from tests.sandbox.uploads.helpers import (
    GZIP,
    OCTET,
    authorized,
    jsonl,
    processed,
    put,
    record,
    results,
    s3_error,
    upload_url,
)
from tests.servers import serve


def test_put_without_content_length_is_411(api: httpx.Client) -> None:
    item = upload_url(api)

    def chunks() -> Iterator[bytes]:
        yield jsonl(record())

    response = httpx.put(
        item["attributes"]["url"], content=chunks(), headers={"Content-Type": OCTET}
    )
    assert s3_error(response, 411, "MissingContentLength")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (jsonl(record()), GZIP),
        (gzip.compress(jsonl(record())), OCTET),
        (jsonl(record()), "application/json"),
        (jsonl(record()), "text/plain"),
        (b"", GZIP),
    ],
)
def test_content_type_must_say_what_the_body_is(
    api: httpx.Client, simulator: Simulator, body: bytes, content_type: str
) -> None:
    item = upload_url(api)
    response = put(item["attributes"]["url"], body, content_type)
    assert "Content-Type" in s3_error(response, 400, "InvalidArgument")
    assert simulator.uploads.files == [] and not list(simulator.workdir.glob("*.upload"))


def test_an_empty_file_is_fine(api: httpx.Client, simulator: Simulator) -> None:
    item = upload_url(api)
    assert put(item["attributes"]["url"], b"").status_code == 201
    assert results(simulator, item["id"])["errors"] == []


def _raw_put(url: str, content_length: int, sent: bytes) -> tuple[int, bytes]:
    """PUT with a declared Content-Length, send `sent`, and stop sending."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("PUT", f"{parts.path}?{parts.query}", skip_accept_encoding=True)
        connection.putheader("Content-Type", OCTET)
        connection.putheader("Content-Length", str(content_length))
        connection.endheaders()
        if sent:
            connection.send(sent)
        connection.sock.shutdown(socket.SHUT_WR)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_more_than_5_gb_is_refused_before_reading(api: httpx.Client) -> None:
    item = upload_url(api)
    status, body = _raw_put(item["attributes"]["url"], 5 * 1024**3 + 1, b"")
    assert status == 400 and b"<Code>EntityTooLarge</Code>" in body


def test_a_body_shorter_than_its_content_length_is_refused(
    api: httpx.Client, simulator: Simulator
) -> None:
    item = upload_url(api)
    status, body = _raw_put(item["attributes"]["url"], 1000, jsonl(record()))
    assert status == 400 and b"<Code>IncompleteBody</Code>" in body
    assert simulator.uploads.files == [] and not list(simulator.workdir.glob("*.upload"))


def test_expired_urls_are_403_and_a_fresh_one_works(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    item = upload_url(api)
    assert httpx.post(f"{kard_url}/_sandbox/expire-upload-urls").status_code == 204
    response = put(item["attributes"]["url"], jsonl(record()))
    assert s3_error(response, 403, "AccessDenied") == "Request has expired"
    fresh = upload_url(api)
    assert put(fresh["attributes"]["url"], jsonl(record())).status_code == 201
    assert processed(simulator, fresh["id"])["status"] == "processed"
    assert [entry.session.id for entry in simulator.uploads.files] == [fresh["id"]]


def test_urls_expire_by_the_simulator_clock() -> None:
    now = [1_750_000_000.0]
    simulator = Simulator(clock=lambda: now[0], upload_url_ttl=60, access_token_ttl=10**6)
    with serve(create_simulator_app(simulator)) as base, authorized(base) as api:
        item = upload_url(api)
        assert item["attributes"]["expiresIn"] == 60
        now[0] += 60
        response = put(item["attributes"]["url"], jsonl(record()))
        assert s3_error(response, 403, "AccessDenied") == "Request has expired"
        item = upload_url(api)
        now[0] += 59
        assert put(item["attributes"]["url"], jsonl(record())).status_code == 201
        results_url = processed(simulator, item["id"])["resultsUrl"]
        assert "X-Amz-Expires=1800" in results_url
        assert httpx.get(results_url).status_code == 200
        now[0] += 1800
        assert s3_error(httpx.get(results_url), 403, "AccessDenied") == "Request has expired"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url.replace("X-Amz-Signature=", "X-Amz-Signature=0"),
        lambda url: url.replace("X-Amz-Expires=900", "X-Amz-Expires=9000"),
        lambda url: url.replace("history.jsonl", "other.jsonl"),
    ],
)
def test_a_tampered_url_is_403(api: httpx.Client, tamper: Any) -> None:
    item = upload_url(api)
    response = put(tamper(item["attributes"]["url"]), jsonl(record()))
    s3_error(response, 403, "SignatureDoesNotMatch")


def test_an_unsigned_url_is_403(api: httpx.Client) -> None:
    url = upload_url(api)["attributes"]["url"].split("?")[0]
    s3_error(put(url, jsonl(record())), 403, "AccessDenied")


def test_a_tampered_results_url_is_403(api: httpx.Client, simulator: Simulator) -> None:
    item = upload_url(api)
    put(item["attributes"]["url"], jsonl(record()))
    url = processed(simulator, item["id"])["resultsUrl"]
    s3_error(httpx.get(url.replace("Signature=", "Signature=1")), 403, "SignatureDoesNotMatch")


def test_storage_calls_are_logged_without_bodies(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    item = upload_url(api)
    body = json.dumps(record()).encode()  # a JSON body, which the call log would parse
    put(item["attributes"]["url"], body, "application/json")
    (call,) = simulator.calls_to(r"^/s3/kard-uploads/", "PUT")
    assert call.json is None and call.status == 400


def test_a_second_put_replaces_the_file(api: httpx.Client, simulator: Simulator) -> None:
    item = upload_url(api)
    put(item["attributes"]["url"], jsonl("oops"))
    simulator.wait_for_uploads(timeout=30)
    put(item["attributes"]["url"], jsonl(record()))
    assert results(simulator, item["id"])["errors"] == []
    assert [f["status"] for f in (f.to_json() for f in simulator.uploads.files)] == [
        "processed",
        "processed",
    ]
