"""The simulator's historical transaction uploads, over real HTTP: bulk upload URLs, the S3
stand-in, file processing and its results, subscriptions, and the deprecated per-user flow."""

import copy
import gzip
import http.client
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from kard import KardApi
from kard.notifications.subscriptions import (
    CreateSubscriptionsResponseObject,
    SubscriptionRequestAttributes,
    SubscriptionRequestUnion_Subscription,
    SubscriptionsResponseObject,
    UpdateSubscriptionRequestAttributes,
    UpdateSubscriptionRequestUnion_Subscription,
    UpdateSubscriptionsResponseObject,
)
from kard.transactions import (
    CreateFileUploadAttributes,
    CreateFileUploadData,
    CreateFileUploadUrlResponse,
)

from bff.sandbox import Simulator, create_simulator_app
from tests.servers import serve

ORG = "org-sandbox"
HISTORICAL = "historicalTransactionsFile"
INCOMING = "incomingTransactionsFile"
OCTET = "application/octet-stream"
GZIP = "application/gzip"


# --- helpers ----------------------------------------------------------------------------------


def record(n: int = 1, user: str = "user-1", **attributes: Any) -> dict[str, Any]:
    """A valid card-linked historical transaction line, as in the guide."""
    return {
        "id": f"rec-{n}",
        "type": "historicalTransaction",
        "attributes": {
            "userId": user,
            "transactionId": f"txn-{n}",
            "status": "APPROVED",
            "amount": 1000,
            "currency": "USD",
            "direction": "DEBIT",
            "description": "ADVANCEAUTO",
            "cardBIN": "123456",
            "cardLastFour": "4321",
            "authorizationDate": "2021-07-02T17:47:06Z",
            "merchant": {"name": "ADVANCEAUTO", "addrState": "PA"},
            **attributes,
        },
    }


def core_record(n: int = 1, user: str = "user-1") -> dict[str, Any]:
    """A valid coreHistoricalTransaction line, as in the guide."""
    return {
        "id": f"core-{n}",
        "type": "coreHistoricalTransaction",
        "attributes": {
            "userId": user,
            "transactionId": f"core-txn-{n}",
            "amount": 1000,
            "currency": "USD",
            "description": "ADVANCEAUTO",
            "direction": "DEBIT",
            "status": "SETTLED",
            "settledDate": "2021-07-02T17:47:06Z",
            "authorizationDate": "2021-07-02T17:47:06Z",
            "cardLastFours": ["4321"],
        },
    }


def jsonl(*lines: dict[str, Any] | str) -> bytes:
    """JSONL text: dicts are serialised, strings are taken as they are."""
    return "".join(
        (json.dumps(line) if isinstance(line, dict) else line) + "\n" for line in lines
    ).encode()


def token(base_url: str) -> str:
    """An issuer access token by the documented flow (Basic auth and a form)."""
    response = httpx.post(
        f"{base_url}/v2/auth/token",
        auth=("client-id", "client-secret"),
        data={"grant_type": "client_credentials"},
    )
    return response.json()["access_token"]


def authorized(base_url: str) -> httpx.Client:
    """A client of the simulator at `base_url`, carrying an issuer access token."""
    return httpx.Client(
        base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token(base_url)}"}
    )


def upload_urls(api: httpx.Client, *files: tuple[str, str], org: str = ORG) -> list[dict]:
    """Request presigned URLs for (file type, filename) pairs; return the `data` items."""
    body = {"data": [{"type": kind, "attributes": {"filename": name}} for kind, name in files]}
    response = api.post(f"/v2/issuers/{org}/transactions/uploads", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def upload_url(api: httpx.Client, filename: str = "history.jsonl", org: str = ORG) -> dict:
    """One presigned URL item for a historical transactions file."""
    return upload_urls(api, (HISTORICAL, filename), org=org)[0]


def put(url: str, body: bytes, content_type: str | None = None) -> httpx.Response:
    """PUT a body to a presigned URL, labelled gzip or octet-stream by its content."""
    kind = content_type or (GZIP if body.startswith(b"\x1f\x8b") else OCTET)
    return httpx.put(url, content=body, headers={"Content-Type": kind}, timeout=30)


def processed(simulator: Simulator, upload_id: str) -> dict[str, Any]:
    """Wait for processing; return the file's entry in GET /_sandbox/uploads."""
    simulator.wait_for_uploads(timeout=30)
    entries = [file.to_json() for file in simulator.uploads.files]
    return next(entry for entry in reversed(entries) if entry["id"] == upload_id)


def results(simulator: Simulator, upload_id: str) -> dict[str, Any]:
    """The results document of a processed file, fetched from its presigned URL."""
    response = httpx.get(processed(simulator, upload_id)["resultsUrl"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def s3_error(response: httpx.Response, status: int, code: str) -> str:
    """Assert an S3-style XML error; return its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert f"<Code>{code}</Code>" in response.text
    return response.text.split("<Message>")[1].split("</Message>")[0]


def assert_pointers(response: httpx.Response, status: int, *pointers: str) -> list[dict]:
    """Assert a Kard error document with an error at each JSON pointer."""
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    found = {error.get("source", {}).get("pointer") for error in errors}
    assert set(pointers) <= found, errors
    each = "400" if status == 207 else str(status)  # a multi-status lists each item's own 400
    assert all(error["status"] == each and error["title"] for error in errors)
    return errors


@pytest.fixture
def api(kard_url: str) -> Iterator[httpx.Client]:
    with authorized(kard_url) as client:
        yield client


# --- Create Bulk Transactions Upload URL -------------------------------------------------------


def test_upload_urls_parse_with_the_sdk(api: httpx.Client, kard_url: str) -> None:
    body = {
        "data": [
            {"type": HISTORICAL, "attributes": {"filename": "a.jsonl"}},
            {"type": INCOMING, "attributes": {"filename": "b c.jsonl.gz"}},
        ]
    }
    response = api.post(f"/v2/issuers/{ORG}/transactions/uploads", json=body)
    assert response.status_code == 201, response.text
    parsed = CreateFileUploadUrlResponse.model_validate(response.json())
    first, second = parsed.data
    assert (first.type, second.type) == (HISTORICAL, INCOMING)
    assert first.id != second.id and all(len(d.id) == 27 and d.id.isalnum() for d in parsed.data)
    assert first.attributes.expires_in == 900
    assert first.attributes.url.startswith(f"{kard_url}/s3/kard-uploads/{first.id}/a.jsonl?")
    assert f"/{second.id}/b%20c.jsonl.gz?" in second.attributes.url
    query = dict(parse_qsl(urlsplit(first.attributes.url).query))
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Expires"] == "900"
    assert len(query["X-Amz-Signature"]) == 64
    datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")


def test_the_sdk_requests_upload_urls(kard_url: str) -> None:
    sdk = KardApi(base_url=kard_url, client_id="sdk-client", client_secret="sdk-secret")
    file = CreateFileUploadData(
        type=HISTORICAL, attributes=CreateFileUploadAttributes(filename="sdk.jsonl")
    )
    response = sdk.transactions.create_bulk_transactions_upload_url(ORG, data=[file])
    assert response.data[0].attributes.url.startswith(f"{kard_url}/s3/kard-uploads/")


def _file(kind: Any = HISTORICAL, **attributes: Any) -> dict[str, Any]:
    return {"type": kind, "attributes": attributes}


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        (None, ["/data"]),
        ({"data": []}, ["/data"]),
        ({"data": [_file(filename=f"{n}.jsonl") for n in range(11)]}, ["/data"]),
        ({"data": {"type": HISTORICAL}}, ["/data"]),
        ({"data": [_file("coreTransaction", filename="a.jsonl")]}, ["/data/0/type"]),
        ({"data": [_file()]}, ["/data/0/attributes/filename"]),
        ({"data": [_file(filename="")]}, ["/data/0/attributes/filename"]),
        ({"data": [_file(filename=12)]}, ["/data/0/attributes/filename"]),
        ({"data": [{"type": HISTORICAL}]}, ["/data/0/attributes"]),
        ({"data": ["a.jsonl"]}, ["/data/0"]),
        (
            {"data": [_file(filename="ok.jsonl"), _file("x"), _file(INCOMING)]},
            ["/data/1/type", "/data/2/attributes/filename"],
        ),
    ],
)
def test_upload_url_request_validation(api: httpx.Client, body: Any, pointers: list[str]) -> None:
    response = api.post(f"/v2/issuers/{ORG}/transactions/uploads", json=body)
    assert_pointers(response, 400, *pointers)


def test_ten_upload_urls_at_once(api: httpx.Client) -> None:
    items = upload_urls(api, *[(HISTORICAL, f"{n}.jsonl") for n in range(10)])
    assert len({item["id"] for item in items}) == 10


def test_upload_urls_need_a_bearer_token(kard_url: str) -> None:
    body = {"data": [_file(filename="a.jsonl")]}
    response = httpx.post(f"{kard_url}/v2/issuers/{ORG}/transactions/uploads", json=body)
    assert_pointers(response, 401)


# --- the presigned PUT ------------------------------------------------------------------------


def test_plain_file_is_processed_into_records_and_results(
    api: httpx.Client, simulator: Simulator
) -> None:
    item = upload_url(api, "plain.jsonl")
    body = jsonl(record(1), "", "   ", record(2, user="user-2"), core_record(3))
    response = put(item["attributes"]["url"], body)
    assert response.status_code == 201, response.text
    assert response.content == b"" and response.headers["ETag"].startswith('"')
    entry = processed(simulator, item["id"])
    assert entry["status"] == "processed"
    assert (entry["lines"], entry["accepted"], entry["errors"]) == (3, 3, 0)
    assert entry["fileName"] == "plain.jsonl" and entry["size"] == len(body)
    document = results(simulator, item["id"])
    assert document["errors"] == []
    assert document["data"]["type"] == "fileProcessingResult"
    assert document["data"]["attributes"] == {
        "fileType": HISTORICAL,
        "fileName": "plain.jsonl",
        "fileId": item["id"],
    }
    stored = simulator.historical_transactions("user-1")
    assert [r["id"] for r in stored] == ["rec-1", "core-3"]
    assert stored[0] == record(1)


def test_gzip_file_is_processed(api: httpx.Client, simulator: Simulator) -> None:
    item = upload_url(api, "many.jsonl.gz")
    lines = [record(n, user=f"user-{n % 7}") for n in range(5000)]
    response = put(item["attributes"]["url"], gzip.compress(jsonl(*lines)))
    assert response.status_code == 201, response.text
    entry = processed(simulator, item["id"])
    assert (entry["lines"], entry["accepted"], entry["errors"]) == (5000, 5000, 0)
    assert len(simulator.historical_transactions("user-3")) == 5000 // 7 + (3 < 5000 % 7)


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        (record(currency="EUR"), ".attributes.currency must be USD"),
        (record(merchant={"name": "A", "addrState": "ZZ"}), ".attributes.merchant.addrState must"),
        (record(authorizationDate=_future()), ".attributes.authorizationDate must not be in the"),
        (record(amount="10.00"), ".attributes.amount must be an integer"),
        (record(cardBIN="12"), ".attributes.cardBIN must be"),
        ({**record(), "type": "transaction"}, ".type must be one of"),
    ],
)
def test_each_bad_line_is_one_error_quoting_it(
    api: httpx.Client, simulator: Simulator, line: dict, detail: str
) -> None:
    item = upload_url(api)
    text = json.dumps(line)
    put(item["attributes"]["url"], jsonl(record(1), text))
    errors = results(simulator, item["id"])["errors"]
    assert len(errors) == 1
    (error,) = errors
    assert (error["status"], error["title"], error["id"]) == ("400", "Invalid Request", "rec-1")
    assert error["detail"].startswith(f"Invalid request: {detail}")
    assert error["detail"].endswith(f" | {text}")
    # The line's transaction is the same as the valid first line's: only that one was stored.
    assert [r["attributes"]["currency"] for r in simulator.historical_transactions("user-1")] == [
        "USD"
    ]


def test_lines_without_a_record_id(api: httpx.Client, simulator: Simulator) -> None:
    item = upload_url(api)
    no_id = record(5)
    del no_id["id"]
    put(item["attributes"]["url"], jsonl("{not json", "[1, 2]", no_id, {**record(6), "id": 7}))
    errors = results(simulator, item["id"])["errors"]
    assert [e["detail"].split(" | ")[0] for e in errors] == [
        "Invalid request: . is not valid JSON",
        "Invalid request: . must be a JSON object",
        "Invalid request: .id must be a non-empty string",
        "Invalid request: .id must be a non-empty string",
    ]
    assert all("id" not in error for error in errors)
    assert processed(simulator, item["id"])["errors"] == 4


def test_several_problems_of_a_line_make_one_error(api: httpx.Client, simulator: Simulator) -> None:
    item = upload_url(api)
    put(item["attributes"]["url"], jsonl(record(currency="EUR", amount=1.5, cardLastFour=None)))
    (error,) = results(simulator, item["id"])["errors"]
    said = error["detail"].split(" | ")[0]
    for part in (".attributes.amount", ".attributes.cardLastFour", ".attributes.currency"):
        assert part in said


def test_a_transaction_sent_again_is_a_successful_no_op(
    api: httpx.Client, simulator: Simulator
) -> None:
    first = upload_url(api, "first.jsonl")
    put(first["attributes"]["url"], jsonl(record(1), record(2), record(1)))
    assert processed(simulator, first["id"])["duplicates"] == 1
    again = upload_url(api, "again.jsonl")
    put(again["attributes"]["url"], jsonl(record(2), record(3)))
    entry = processed(simulator, again["id"])
    assert (entry["accepted"], entry["duplicates"], entry["errors"]) == (1, 1, 0)
    assert results(simulator, again["id"])["errors"] == []
    stored = simulator.historical_transactions("user-1")
    assert [r["id"] for r in stored] == ["rec-1", "rec-2", "rec-3"]


def test_an_overlong_line_is_reported_in_part(api: httpx.Client, simulator: Simulator) -> None:
    item = upload_url(api)
    huge = json.dumps(record(9, description="x" * (1 << 21)))
    put(item["attributes"]["url"], jsonl(huge, record(1)))
    (error,) = results(simulator, item["id"])["errors"]
    assert error["detail"].startswith("Invalid request: . line is longer than")
    assert len(error["detail"]) < 2000 and "id" not in error
    assert processed(simulator, item["id"])["accepted"] == 1


def test_incoming_files_are_checked_as_json_objects_only(
    api: httpx.Client, simulator: Simulator
) -> None:
    (item,) = upload_urls(api, (INCOMING, "daily.jsonl"))
    put(item["attributes"]["url"], jsonl({"type": "coreTransaction", "id": "c1"}, "[]"))
    document = results(simulator, item["id"])
    assert document["data"]["attributes"]["fileType"] == INCOMING
    assert [e["detail"] for e in document["errors"]] == [
        "Invalid request: . must be a JSON object | []"
    ]


def test_a_corrupt_gzip_file_fails_without_a_webhook(
    api: httpx.Client, simulator: Simulator
) -> None:
    item = upload_url(api)
    body = gzip.compress(jsonl(*[record(n) for n in range(2000)]))
    assert put(item["attributes"]["url"], body[: len(body) // 2]).status_code == 201
    entry = processed(simulator, item["id"])
    assert entry["status"] == "failed" and "gzip" in entry["failure"]
    assert entry["resultsUrl"] is None and simulator.webhooks == []


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


# --- the control surface ----------------------------------------------------------------------


def test_control_lists_uploads_and_records(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    item = upload_url(api, "listed.jsonl")
    put(item["attributes"]["url"], jsonl(record(1), record(2, currency="CAD")))
    simulator.wait_for_uploads(timeout=30)
    (entry,) = httpx.get(f"{kard_url}/_sandbox/uploads").json()["data"]
    assert entry["id"] == item["id"] and entry["organizationId"] == ORG
    assert (entry["status"], entry["lines"], entry["accepted"], entry["errors"]) == (
        "processed",
        2,
        1,
        1,
    )
    assert entry["resultsUrl"].startswith(f"{kard_url}/s3/kard-results/{item['id']}/results.json?")
    response = httpx.get(
        f"{kard_url}/_sandbox/historical-transactions", params={"userId": "user-1"}
    )
    assert response.json() == {"data": [record(1)]}
    missing = httpx.get(f"{kard_url}/_sandbox/historical-transactions")
    assert_pointers(missing, 400)


def test_reset_forgets_uploads_records_and_results(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    item = upload_url(api)
    put(item["attributes"]["url"], jsonl(record()))
    results_url = processed(simulator, item["id"])["resultsUrl"]
    assert httpx.post(f"{kard_url}/_sandbox/reset").status_code == 204
    assert simulator.uploads.files == [] and simulator.webhooks == []
    assert simulator.historical_transactions("user-1") == []
    s3_error(httpx.get(results_url), 404, "NoSuchKey")
    # The session is gone with the rest: its (still validly signed) URL names no upload.
    s3_error(put(item["attributes"]["url"], jsonl(record())), 404, "NoSuchUpload")


def test_a_reset_during_processing_leaves_nothing_behind(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    big = upload_url(api, "big.jsonl.gz")
    lines = [record(n, user="user-big") for n in range(20000)]
    assert put(big["attributes"]["url"], gzip.compress(jsonl(*lines))).status_code == 201
    assert httpx.post(f"{kard_url}/_sandbox/reset").status_code == 204
    with authorized(kard_url) as fresh_api:  # the reset expired the old token
        small = upload_url(fresh_api, "small.jsonl")
    put(small["attributes"]["url"], jsonl(record()))
    processed(simulator, small["id"])  # files are processed in order: the big one is done too
    assert simulator.historical_transactions("user-big") == []
    assert [w.payload["data"]["attributes"]["fileName"] for w in simulator.webhooks] == [
        "small.jsonl"
    ]
    assert [f.session.id for f in simulator.uploads.files] == [small["id"]]


# --- subscriptions ----------------------------------------------------------------------------


def _subscription(
    event: Any = "fileProcessingResult", url: Any = "https://h.example/k", enabled: Any = True
) -> dict:
    attributes = {"eventName": event, "webhookUrl": url, "enabled": enabled}
    return {"type": "subscription", "attributes": attributes}


def test_subscriptions_create_get_update(api: httpx.Client) -> None:
    path = f"/v2/issuers/{ORG}/subscriptions"
    created = api.post(path, json={"data": [_subscription(), _subscription("auditUpdate")]})
    assert created.status_code == 201, created.text
    first, second = CreateSubscriptionsResponseObject.model_validate(created.json()).data
    assert first.attributes.event_name == "fileProcessingResult" and first.attributes.enabled
    listed = SubscriptionsResponseObject.model_validate(api.get(path).json())
    assert [s.id for s in listed.data] == [first.id, second.id]
    only = api.get(path, params={"filter[eventName]": "auditUpdate"}).json()["data"]
    assert [s["id"] for s in only] == [second.id]
    patch = {"data": {"type": "subscription", "attributes": {"enabled": False}}}
    updated = api.patch(f"{path}/{first.id}", json=patch)
    assert updated.status_code == 200, updated.text
    subscription = UpdateSubscriptionsResponseObject.model_validate(updated.json()).data
    assert subscription.id == first.id and subscription.attributes.enabled is False
    assert subscription.attributes.webhook_url == "https://h.example/k"
    assert api.get("/v2/issuers/other-org/subscriptions").json() == {"data": []}


def test_the_sdk_manages_subscriptions(kard_url: str) -> None:
    sdk = KardApi(base_url=kard_url, client_id="sdk-client", client_secret="sdk-secret")
    attributes = SubscriptionRequestAttributes(
        event_name="earnedRewardApproved", webhook_url="https://h.example/rewards", enabled=True
    )
    created = sdk.notifications.subscriptions.create(
        ORG, data=[SubscriptionRequestUnion_Subscription(attributes=attributes)]
    )
    listed = sdk.notifications.subscriptions.get(ORG, filter_event_name="earnedRewardApproved")
    assert [s.id for s in listed.data] == [created.data[0].id]
    change = UpdateSubscriptionRequestUnion_Subscription(
        attributes=UpdateSubscriptionRequestAttributes(enabled=False)
    )
    updated = sdk.notifications.subscriptions.update(ORG, created.data[0].id, data=change)
    assert updated.data.attributes.enabled is False


@pytest.mark.parametrize(
    ("item", "pointer"),
    [
        (_subscription("newOffer"), "/data/0/attributes/eventName"),
        (_subscription(url="ftp://h.example/k"), "/data/0/attributes/webhookUrl"),
        (_subscription(url="/relative"), "/data/0/attributes/webhookUrl"),
        (_subscription(enabled="yes"), "/data/0/attributes/enabled"),
        ({"type": "subscription", "attributes": {}}, "/data/0/attributes/webhookUrl"),
        ({**_subscription(), "type": "webhook"}, "/data/0/type"),
    ],
)
def test_subscription_validation(api: httpx.Client, item: dict, pointer: str) -> None:
    response = api.post(f"/v2/issuers/{ORG}/subscriptions", json={"data": [item]})
    assert_pointers(response, 400, pointer)


def test_one_subscription_per_event_type(api: httpx.Client) -> None:
    path = f"/v2/issuers/{ORG}/subscriptions"
    assert api.post(path, json={"data": [_subscription()]}).status_code == 201
    again = api.post(path, json={"data": [_subscription("auditUpdate"), _subscription()]})
    assert_pointers(again, 409, "/data/1/attributes/eventName")
    assert len(api.get(path).json()["data"]) == 1  # nothing of the refused batch was kept
    twice = api.post(path, json={"data": [_subscription("clawback"), _subscription("clawback")]})
    assert_pointers(twice, 409, "/data/1/attributes/eventName")


def test_subscription_update_errors(api: httpx.Client) -> None:
    path = f"/v2/issuers/{ORG}/subscriptions"
    ids = [
        s["id"]
        for s in api.post(path, json={"data": [_subscription(), _subscription("clawback")]}).json()[
            "data"
        ]
    ]
    patch = {"data": {"type": "subscription", "attributes": {"eventName": "clawback"}}}
    assert_pointers(api.patch(f"{path}/{ids[0]}", json=patch), 409, "/data/attributes/eventName")
    assert_pointers(api.patch(f"{path}/nope", json=patch), 404)
    assert_pointers(api.patch(f"/v2/issuers/other-org/subscriptions/{ids[0]}", json=patch), 404)
    bad = {"data": {"type": "subscription", "attributes": {"webhookUrl": 3}}}
    assert_pointers(api.patch(f"{path}/{ids[0]}", json=bad), 400, "/data/attributes/webhookUrl")
    bad_filter = api.get(path, params={"filter[eventName]": "nope"})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["errors"][0]["source"] == {"parameter": "filter[eventName]"}


# --- the deprecated per-user uploads ----------------------------------------------------------


def part_item(n: int = 1, user: str = "user-1", **attributes: Any) -> dict[str, Any]:
    """A valid Add Upload Part item (TransactionsAttributes)."""
    return record(n, user, paymentType="CARD", **attributes)


def legacy_path(user: str = "user-1", *tail: str) -> str:
    return "/".join([f"/v2/issuers/{ORG}/users/{user}/uploads", *tail])


def start_upload(api: httpx.Client, user: str = "user-1") -> str:
    body = {"data": {"type": "historicalTransactionStart", "attributes": {}}}
    response = api.post(legacy_path(user), json=body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["type"] == "historicalTransactionStart" and data["attributes"] == {}
    return data["id"]


def complete_body(upload_id: str) -> dict[str, Any]:
    return {"data": {"type": "historicalTransactionComplete", "attributes": {}, "id": upload_id}}


def test_legacy_upload_start_parts_complete(api: httpx.Client, simulator: Simulator) -> None:
    upload_id = start_upload(api)
    parts = api.put(
        legacy_path("user-1", upload_id, "parts"), json={"data": [part_item(1), part_item(2)]}
    )
    assert parts.status_code == 200, parts.text
    assert parts.json() == {
        "data": [{"type": "historicalTransaction", "id": upload_id, "attributes": {}}]
    }
    completed = api.put(legacy_path("user-1", upload_id), json=complete_body(upload_id))
    assert completed.status_code == 200 and completed.json() == complete_body(upload_id)
    assert [r["id"] for r in simulator.historical_transactions("user-1")] == ["rec-1", "rec-2"]
    late = api.put(legacy_path("user-1", upload_id, "parts"), json={"data": [part_item(3)]})
    assert_pointers(late, 409)
    assert_pointers(api.put(legacy_path("user-1", upload_id), json=complete_body(upload_id)), 409)


def test_legacy_part_with_some_invalid_items_is_207(
    api: httpx.Client, simulator: Simulator
) -> None:
    upload_id = start_upload(api)
    items = [
        part_item(1),
        part_item(2, currency="EUR"),
        part_item(3, status="SETTLED"),  # SETTLED needs a settledDate
        part_item(4, user="user-2"),
        {"type": "historicalTransaction", "attributes": {}},
    ]
    response = api.put(legacy_path("user-1", upload_id, "parts"), json={"data": items})
    errors = assert_pointers(
        response,
        207,
        "/data/1/attributes/currency",
        "/data/2/attributes/settledDate",
        "/data/3/attributes/userId",
        "/data/4/id",
    )
    assert response.json()["data"] == [
        {"type": "historicalTransaction", "id": upload_id, "attributes": {}}
    ]
    ids = {e["source"]["pointer"].split("/")[2]: e.get("id") for e in errors}
    assert ids == {"1": "rec-2", "2": "rec-3", "3": "rec-4", "4": None}
    assert [r["id"] for r in simulator.historical_transactions("user-1")] == ["rec-1"]


def test_legacy_part_with_only_invalid_items_is_400(api: httpx.Client) -> None:
    upload_id = start_upload(api)
    response = api.put(
        legacy_path("user-1", upload_id, "parts"), json={"data": [part_item(1, amount="1")]}
    )
    (error,) = assert_pointers(response, 400, "/data/0/attributes/amount")
    assert error["id"] == "rec-1"


@pytest.mark.parametrize(
    "body",
    [None, {"data": []}, {"data": part_item()}, {"data": [part_item(n) for n in range(501)]}],
)
def test_legacy_part_data_must_hold_1_to_500_items(api: httpx.Client, body: Any) -> None:
    upload_id = start_upload(api)
    assert_pointers(api.put(legacy_path("user-1", upload_id, "parts"), json=body), 400, "/data")


def test_legacy_500_items_are_fine(api: httpx.Client, simulator: Simulator) -> None:
    upload_id = start_upload(api)
    body = {"data": [part_item(n) for n in range(500)]}
    assert api.put(legacy_path("user-1", upload_id, "parts"), json=body).status_code == 200
    assert len(simulator.historical_transactions("user-1")) == 500


def test_legacy_unknown_or_foreign_uploads_are_404(api: httpx.Client) -> None:
    upload_id = start_upload(api, "user-1")
    body = {"data": [part_item(1, user="user-2")]}
    assert_pointers(api.put(legacy_path("user-2", "nope", "parts"), json=body), 404)
    assert_pointers(api.put(legacy_path("user-2", upload_id, "parts"), json=body), 404)
    assert_pointers(api.put(legacy_path("user-2", upload_id), json=complete_body(upload_id)), 404)
    other_org = f"/v2/issuers/other-org/users/user-1/uploads/{upload_id}/parts"
    assert_pointers(api.put(other_org, json={"data": [part_item(1)]}), 404)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"data": {"type": "historicalTransactionStart"}}, "/data/attributes"),
        ({"data": {"type": "upload", "attributes": {}}}, "/data/type"),
        ({}, "/data"),
    ],
)
def test_legacy_start_validation(api: httpx.Client, body: dict, pointer: str) -> None:
    assert_pointers(api.post(legacy_path(), json=body), 400, pointer)


def test_legacy_complete_validation(api: httpx.Client) -> None:
    upload_id = start_upload(api)
    body = copy.deepcopy(complete_body(upload_id))
    del body["data"]["id"]
    body["data"]["type"] = "historicalTransactionStart"
    response = api.put(legacy_path("user-1", upload_id), json=body)
    assert_pointers(response, 400, "/data/id", "/data/type")
