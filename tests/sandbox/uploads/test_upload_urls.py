"""Create Bulk Transactions Upload URL: presigned URLs, parsed by the SDK; validation."""

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from kard import KardApi
from kard.transactions import (
    CreateFileUploadAttributes,
    CreateFileUploadData,
    CreateFileUploadUrlResponse,
)

from tests.sandbox.helpers import CREDENTIALS, ORG
from tests.sandbox.uploads.helpers import (
    HISTORICAL,
    INCOMING,
    assert_pointers,
    upload_urls,
)


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
    sdk = KardApi(base_url=kard_url, **CREDENTIALS)
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
