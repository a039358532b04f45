"""Processing an uploaded file: records stored, each bad line one error of the results."""

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bff.sandbox import Simulator
from tests.sandbox.uploads.helpers import (
    HISTORICAL,
    INCOMING,
    jsonl,
    processed,
    put,
    record,
    results,
    upload_url,
    upload_urls,
)


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
