"""Create Audits: 201, 409 and 207, and validation."""

import httpx
import pytest

from tests.sandbox.helpers import (
    USER,
    assert_error,
    user_path,
)


def audit(transaction_id: str, **overrides) -> dict:
    attributes = {
        "auditCode": 3006,
        "merchantName": "Taco Trail",
        "auditDescription": "Missing cashback",
        "transactionId": transaction_id,
        **overrides,
    }
    return {"type": "audit", "attributes": attributes}


def test_audits_created_then_conflict(api: httpx.Client, simulator) -> None:
    simulator.enroll("other-user")
    path = user_path(USER, "audits")
    created = api.post(path, json={"data": [audit("t1"), audit("t2")]})
    assert created.status_code == 201
    data = created.json()["data"]
    assert [a["attributes"]["transactionId"] for a in data] == ["t1", "t2"]
    assert all(a["type"] == "audit" and a["id"] for a in data)
    conflict = assert_error(api.post(path, json={"data": [audit("t1")]}), 409)
    assert conflict["id"] == "t1"
    mixed = api.post(path, json={"data": [audit("t2"), audit("t3")]})
    assert mixed.status_code == 207
    assert [e["id"] for e in mixed.json()["errors"]] == ["t2"]
    assert mixed.json()["errors"][0]["status"] == "409"
    assert [a["attributes"]["transactionId"] for a in mixed.json()["data"]] == ["t3"]
    assert (
        api.post(user_path("other-user", "audits"), json={"data": [audit("t1")]}).status_code == 201
    )


@pytest.mark.parametrize(
    ("item", "pointer"),
    [
        (audit("t", auditCode=1234), "/data/0/attributes/auditCode"),
        (audit("t", auditCode="3005"), "/data/0/attributes/auditCode"),
        (audit("t", merchantName=""), "/data/0/attributes/merchantName"),
        (audit(""), "/data/0/attributes/transactionId"),
        ({**audit("t"), "type": "dispute"}, "/data/0/type"),
        ({"type": "audit"}, "/data/0/attributes"),
    ],
)
def test_audit_validation(api: httpx.Client, item: dict, pointer: str) -> None:
    assert_error(api.post(user_path(USER, "audits"), json={"data": [item]}), 400, pointer=pointer)
