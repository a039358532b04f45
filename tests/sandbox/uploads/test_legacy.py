"""The deprecated per-user historical upload: Create Upload, Add Upload Part, Update Upload."""

import copy
from typing import Any

import httpx
import pytest

from bff.sandbox import Simulator
from tests.sandbox.helpers import ORG
from tests.sandbox.uploads.helpers import (
    assert_pointers,
    record,
)


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


def test_legacy_unknown_or_foreign_uploads_are_refused(api: httpx.Client) -> None:
    upload_id = start_upload(api, "user-1")
    body = {"data": [part_item(1, user="user-2")]}
    assert_pointers(api.put(legacy_path("user-2", "nope", "parts"), json=body), 404)
    assert_pointers(api.put(legacy_path("user-2", upload_id, "parts"), json=body), 404)
    assert_pointers(api.put(legacy_path("user-2", upload_id), json=complete_body(upload_id)), 404)
    other_org = f"/v2/issuers/other-org/users/user-1/uploads/{upload_id}/parts"
    assert_pointers(api.put(other_org, json={"data": [part_item(1)]}), 401)  # not its issuer


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
