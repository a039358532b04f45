"""What the upload tests share: transaction lines, upload URLs, PUTs, processing, checks."""

import json
from typing import Any

import httpx

from bff.sandbox import Simulator
from tests.sandbox.helpers import CREDENTIALS, ORG

HISTORICAL = "historicalTransactionsFile"
INCOMING = "incomingTransactionsFile"
OCTET = "application/octet-stream"
GZIP = "application/gzip"


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


def jsonl(*lines: dict[str, Any] | str) -> bytes:
    """JSONL text: dicts are serialised, strings are taken as they are."""
    return "".join(
        (json.dumps(line) if isinstance(line, dict) else line) + "\n" for line in lines
    ).encode()


def token(base_url: str, target_issuer: str | None = None) -> str:
    """An issuer access token by the documented flow (Basic auth and a form), scoped to
    `target_issuer` when one is named."""
    response = httpx.post(
        f"{base_url}/v2/auth/token",
        auth=(CREDENTIALS["client_id"], CREDENTIALS["client_secret"]),
        data={"grant_type": "client_credentials"},
        headers={"X-Kard-Target-Issuer": target_issuer} if target_issuer else {},
    )
    return response.json()["access_token"]


def authorized(base_url: str, target_issuer: str | None = None) -> httpx.Client:
    """A client of the simulator at `base_url`, carrying an issuer access token."""
    return httpx.Client(
        base_url=base_url,
        timeout=30,
        headers={"Authorization": f"Bearer {token(base_url, target_issuer)}"},
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
