"""Create Incoming Transactions: each validation rule of the three event types answered as the
reference answers it (a 400 at the field's pointer, naming the event), 202, 207 and 409."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.sandbox.helpers import TRANSACTIONS, USER, assert_error, stamp, transaction
from tests.test_transactions import CORE_REQUIRED  # the guide's core record: the same fields

HOUR_AGO = stamp(datetime.now(UTC) - timedelta(hours=1))


def matched(event_id: str = "m-1", **attributes) -> dict:
    body = {
        "userId": USER,
        "transactionId": event_id,
        "amount": 2500,
        "description": "Taco Trail",
        "authorizationDate": HOUR_AGO,
        "paymentType": "CARD",
        "direction": "DEBIT",
        **attributes,
    }
    return {"type": "matchedTransaction", "id": event_id, "attributes": body}


def core(event_id: str = "c-1", **attributes) -> dict:
    body = {
        "userId": USER,
        "transactionId": event_id,
        "amount": 2500,
        "currency": "USD",
        "description": "Taco Trail",
        "direction": "DEBIT",
        "status": "SETTLED",
        "settledDate": HOUR_AGO,
        "authorizationDate": HOUR_AGO,
        **attributes,
    }
    return {"type": "coreTransaction", "id": event_id, "attributes": body}


def without(item: dict, name: str) -> dict:
    attributes = {key: value for key, value in item["attributes"].items() if key != name}
    return {**item, "attributes": attributes}


def post(api: httpx.Client, *items) -> httpx.Response:
    return api.post(TRANSACTIONS, json={"data": list(items)})


def test_the_three_types_are_taken(api: httpx.Client) -> None:
    response = post(api, transaction("t-1", "Taco Trail"), matched(), core())
    assert response.status_code == 202, response.text
    job = response.json()["data"]
    assert job["id"] and job["attributes"] == {
        "status": "queued",
        "message": "3 transactions queued",
    }


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"data": []},
        {"data": {}},
        {"data": [transaction(f"t-{n}", "x") for n in range(501)]},
    ],
    ids=["no body", "an array", "no data", "empty", "an object", "501 events"],
)
def test_the_body_needs_1_to_500_events(api: httpx.Client, body) -> None:
    assert_error(api.post(TRANSACTIONS, json=body), 400, pointer="/data")


TRANSACTION = transaction("t-bad", "Taco Trail")

BAD_EVENTS = [
    # the resource
    ({**TRANSACTION, "type": "purchase"}, "/data/0/type"),
    (without(TRANSACTION, "id") | {"id": ""}, "/data/0/id"),
    ({"type": "transaction", "id": "t-bad"}, "/data/0/attributes"),
    ("not an object", "/data/0"),
    # transaction: TransactionsAttributes
    *[
        (without(TRANSACTION, name), f"/data/0/attributes/{name}")
        for name in (
            "userId",
            "amount",
            "status",
            "currency",
            "description",
            "cardBIN",
            "cardLastFour",
            "direction",
            "paymentType",
            "transactionId",
        )
    ],
    (transaction("t-bad", "x", amount="100"), "/data/0/attributes/amount"),
    (transaction("t-bad", "x", amount=1.5), "/data/0/attributes/amount"),
    (transaction("t-bad", "x", currency="usd"), "/data/0/attributes/currency"),
    (transaction("t-bad", "x", status="PENDING"), "/data/0/attributes/status"),
    (transaction("t-bad", "x", direction="UP"), "/data/0/attributes/direction"),
    (transaction("t-bad", "x", paymentType="CASH"), "/data/0/attributes/paymentType"),
    (transaction("t-bad", ""), "/data/0/attributes/description"),
    (transaction("t-bad", "x", cardBIN="12345"), "/data/0/attributes/cardBIN"),
    (transaction("t-bad", "x", cardLastFour="43210"), "/data/0/attributes/cardLastFour"),
    (transaction("t-bad", "x", cardNetwork="DINERS"), "/data/0/attributes/cardNetwork"),
    (
        transaction("t-bad", "x", authorizationDate="2024-13-01"),
        "/data/0/attributes/authorizationDate",
    ),
    (transaction("t-bad", "x", settledDate="yesterday"), "/data/0/attributes/settledDate"),
    (transaction("t-bad", "x", merchant={"id": "1"}), "/data/0/attributes/merchant/name"),
    (
        transaction("t-bad", "x", merchant={"name": "x", "addrState": "XX"}),
        "/data/0/attributes/merchant/addrState",
    ),
    (
        transaction("t-bad", "x", processorMids={"processor": "AMEX", "mids": {}}),
        "/data/0/attributes/processorMids/processor",
    ),
    (
        transaction("t-bad", "x", processorMids={"processor": "VISA", "mids": {"vmid": "1"}}),
        "/data/0/attributes/processorMids/mids/vsid",
    ),
    # the date each status requires
    (
        without(transaction("t-bad", "x", status="APPROVED"), "authorizationDate"),
        "/data/0/attributes/authorizationDate",
    ),
    (without(transaction("t-bad", "x"), "settledDate"), "/data/0/attributes/settledDate"),
    *[
        (
            without(transaction("t-bad", "x", status=status), "transactionDate"),
            "/data/0/attributes/transactionDate",
        )
        for status in ("REVERSED", "RETURNED", "DECLINED")
    ],
    # what Kard's sandbox refuses beyond the schema
    (transaction("t-bad", "x", currency="EUR"), "/data/0/attributes/currency"),
    (
        transaction("t-bad", "x", authorizationDate=stamp(datetime.now(UTC) + timedelta(days=1))),
        "/data/0/attributes/authorizationDate",
    ),
    (transaction("t-bad", "x", user="never-enrolled"), "/data/0/attributes/userId"),
    # matchedTransaction: MatchedTransactionsAttributes
    *[
        (without(matched(), name), f"/data/0/attributes/{name}")
        for name in (
            "userId",
            "amount",
            "description",
            "authorizationDate",
            "paymentType",
            "direction",
            "transactionId",
        )
    ],
    (matched(paymentType="CHEQUE"), "/data/0/attributes/paymentType"),
    (matched(receiptMedium="EMAIL"), "/data/0/attributes/receiptMedium"),
    (matched(paymentType="CASH", cardBIN="123456"), "/data/0/attributes/cardBIN"),
    (matched(paymentType="CASH", cardLastFour="4321"), "/data/0/attributes/cardLastFour"),
    (matched(paymentType="UNKNOWN", cardNetwork="VISA"), "/data/0/attributes/cardNetwork"),
    (matched(paymentType="UNKNOWN", cardProductId="p-1"), "/data/0/attributes/cardProductId"),
    (
        matched(paymentType="UNKNOWN", matchedLocationId="l-1"),
        "/data/0/attributes/matchedLocationId",
    ),
    (matched(paymentType="UNKNOWN", matchedOfferId="o-1"), "/data/0/attributes/matchedOfferId"),
    (matched(paymentType="CARD", matchedOfferId="o-1"), "/data/0/attributes/cardLastFour"),
    # coreTransaction: CoreTransactionAttributes
    *[(without(core(), name), f"/data/0/attributes/{name}") for name in CORE_REQUIRED],
    (core(status="APPROVED"), "/data/0/attributes/status"),
    (core(cardLastFours=["12"]), "/data/0/attributes/cardLastFours"),
    (core(financialInstitutionName=7), "/data/0/attributes/financialInstitutionName"),
]


@pytest.mark.parametrize(("item", "pointer"), BAD_EVENTS)
def test_each_bad_field_is_a_400_at_its_pointer(
    api: httpx.Client, simulator, item, pointer
) -> None:
    error = assert_error(post(api, item), 400, pointer=pointer)
    if isinstance(item, dict) and item.get("id"):
        assert error["id"] == item["id"]  # the error names the event it is about
    assert simulator.rewards(USER) == [] and simulator.ledger.sender("org-sandbox", "t-bad") is None


def test_the_optional_matched_fields_are_taken(api: httpx.Client) -> None:
    fine = [
        matched("m-1", paymentType="CASH", orderId="o-9", receiptMedium="PHYSICAL"),
        matched("m-2", paymentType="UNKNOWN", matchedOfferId="o-1", orderId="o-9"),
        matched("m-3", paymentType="CARD", matchedOfferId="o-1", cardLastFour="4321"),
    ]
    assert post(api, *fine).status_code == 202


def test_an_event_sent_again_is_a_conflict(api: httpx.Client) -> None:
    assert post(api, transaction("t-1", "Taco Trail")).status_code == 202
    error = assert_error(post(api, transaction("t-1", "Taco Trail")), 409)
    assert error["id"] == "t-1"


def test_some_taken_some_not_is_a_multi_status(api: httpx.Client) -> None:
    assert post(api, transaction("t-1", "x")).status_code == 202
    response = post(
        api, transaction("t-1", "x"), transaction("t-2", "x", amount="1"), transaction("t-3", "x")
    )
    assert response.status_code == 207, response.text
    body = response.json()
    assert [(e["id"], e["status"]) for e in body["errors"]] == [("t-1", "409"), ("t-2", "400")]
    assert body["data"]["attributes"]["message"] == "1 transactions queued"


def test_another_organization_is_refused(api: httpx.Client) -> None:
    assert_error(api.post("/v2/issuers/org-other/transactions", json={"data": [TRANSACTION]}), 401)
