"""Flag Fraudulent Transactions (200, 207, 400; a flagged transaction is never rewarded) and Get
Files (the reconciliation files written from the simulator's own matches)."""

import csv
import io

import httpx
import pytest

from tests.sandbox.helpers import ORG, TRANSACTIONS, USER, assert_error, plain, sole, transaction

FRAUD = f"/v2/issuers/{ORG}/fraud"
FILES = f"/v2/issuers/{ORG}/files/metadata"
DAY = 86400


def marker(transaction_id: str, user: str = USER) -> dict:
    return {"type": "fraudulentTransaction", "id": transaction_id, "attributes": {"userId": user}}


def send(api: httpx.Client, *items: dict) -> None:
    assert api.post(TRANSACTIONS, json={"data": list(items)}).status_code == 202


def kinds(simulator) -> list[str]:
    simulator.wait_for_notifications()
    return [delivery.event for delivery in simulator.webhooks]


def test_a_flagged_pending_reward_fails_and_its_settlement_earns_nothing(api, simulator):
    offer = sole(simulator, plain)
    send(api, transaction("e-1", offer.name, status="APPROVED", transaction_id="txn-1"))
    flagged = api.post(FRAUD, json={"data": [marker("txn-1")]})
    assert flagged.status_code == 200, flagged.text
    assert flagged.json() == {"data": [marker("txn-1")]}
    assert kinds(simulator) == ["earnedRewardApproved", "failedTransaction"]
    assert "fraudulent" in simulator.webhooks[-1].payload["data"]["attributes"]["reason"]
    send(api, transaction("e-2", offer.name, transaction_id="txn-1"))
    assert simulator.rewards(USER) == [] and kinds(simulator)[-1] == "failedTransaction"


def test_a_flagged_settled_reward_is_clawed_back(api, simulator):
    send(api, transaction("e-1", sole(simulator, plain).name, transaction_id="txn-1"))
    assert api.post(FRAUD, json={"data": [marker("txn-1")]}).status_code == 200
    assert kinds(simulator)[-1] == "clawback" and simulator.rewards(USER) == []


def test_fraud_markers_for_transactions_never_sent_are_refused(api, simulator):
    send(api, transaction("e-1", "Nowhere Hardware", transaction_id="txn-1"))
    mixed = api.post(FRAUD, json={"data": [marker("txn-1"), marker("txn-9"), marker("txn-1", "u")]})
    assert mixed.status_code == 207, mixed.text
    assert [e["id"] for e in mixed.json()["errors"]] == ["txn-9", "txn-1"]
    assert_error(api.post(FRAUD, json={"data": [marker("txn-9")]}), 400)


@pytest.mark.parametrize(
    ("item", "pointer"),
    [
        ({**marker("t"), "type": "fraud"}, "/data/0/type"),
        ({**marker("t"), "id": ""}, "/data/0/id"),
        ({"type": "fraudulentTransaction", "id": "t"}, "/data/0/attributes"),
        ({**marker("t"), "attributes": {}}, "/data/0/attributes/userId"),
        ({**marker("t"), "attributes": {"userId": 7}}, "/data/0/attributes/userId"),
    ],
)
def test_each_bad_fraud_marker_field_is_a_400(api, item, pointer):
    assert_error(api.post(FRAUD, json={"data": [item]}), 400, pointer=pointer)


def test_fraud_markers_take_1_to_500(api):
    assert_error(api.post(FRAUD, json={"data": []}), 400, pointer="/data")
    many = [marker(f"t-{n}") for n in range(501)]
    assert_error(api.post(FRAUD, json={"data": many}), 400, pointer="/data")


def files(api: httpx.Client, **params) -> dict:
    response = api.get(FILES, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_reconciliation_files_come_from_the_matches(api, simulator):
    offer = sole(simulator, plain)
    send(api, transaction("e-1", offer.name, transaction_id="txn-1"))
    assert files(api)["data"] == []  # a day's files are sent the next morning
    simulator.advance_clock(2 * DAY)  # the purchase day's files have gone out, whatever the hour
    sent = files(api)
    types = sorted(item["type"] for item in sent["data"])
    assert types == [
        "earnedRewardApprovedDailyReconciliationFile",
        "validatedTransactionDailyReconciliationFile",
    ]
    assert sent["meta"] == {"pageSize": 10, "hasNextPage": False}
    item = sent["data"][0]
    assert item["attributes"]["fileName"].endswith(".csv")
    body = httpx.get(item["attributes"]["downloadUrl"])
    assert body.status_code == 200 and body.headers["Content-Type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(body.text))
    assert (row["transactionId"], row["userId"], row["offerId"]) == ("txn-1", USER, offer.id)

    simulator.advance_clock(40 * DAY)  # paid, then the month closes
    paid = files(api, **{"filter[fileType]": "earnedRewardSettledDailyReconciliationFile"})
    assert len(paid["data"]) == 1
    monthly = files(api, **{"filter[fileType]": "monthlyReconciliationFile"})["data"]
    assert len(monthly) <= 1  # the month the payout fell in may still be open
    everything = files(api, **{"filter[dateFrom]": "2000-01-01", "sort": "sentDate"})["data"]
    stamps = [item["attributes"]["sentAt"] for item in everything]
    assert stamps == sorted(stamps) and len(everything) >= 3


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("page[size]", "101"),
        ("page[size]", "0"),
        ("filter[fileType]", "dailyFile"),
        ("filter[dateFrom]", "last week"),
        ("sort", "name"),
    ],
)
def test_get_files_rejects_bad_parameters(api, parameter, value):
    assert_error(api.get(FILES, params={parameter: value}), 400, parameter=parameter)


def test_get_files_of_another_organization_is_forbidden(api):
    assert_error(api.get("/v2/issuers/org-other/files/metadata"), 403)


def test_a_download_url_must_be_signed(api, kard_url):
    assert httpx.get(f"{kard_url}/s3/kard-files/{ORG}/nope/x.csv").status_code == 403
