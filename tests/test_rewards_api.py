"""Earned rewards and audits for the session user, against the simulator."""

import pytest
from kard.transactions.types import GetEarnedRewardsResponse

from bff.errors import MAX_REPORTED_ERRORS
from tests.json_documents import wrong_types_everywhere
from tests.sandbox.helpers import plain, sole

USER = "sandbox-demo-new-customer"


def _audit(transaction_id: str = "txn-1", **changes) -> dict:
    attributes = {
        "auditCode": 3006,
        "merchantName": "Taco Trail",
        "auditDescription": "My cashback never arrived.",
        "transactionId": transaction_id,
        **changes,
    }
    return {"type": "audit", "attributes": attributes}


def test_rewards_for_the_session_user_with_links_rewritten(client, as_user, simulator):
    for _ in range(2):  # two purchases: two rewards, two pages
        simulator.purchase(USER, sole(simulator, plain, USER).id)
    body = client.get("/api/v1/rewards?page[size]=1&include=merchant,offer", headers=as_user(USER))
    assert body.status_code == 200
    document = body.get_json()
    GetEarnedRewardsResponse.model_validate(document)  # the official SDK reads our answer
    assert document["links"]["self"].startswith("/api/v1/rewards?")
    assert document["links"]["next"].startswith("/api/v1/rewards?")
    (call,) = simulator.calls_to(r"/earned-rewards$")
    assert call.path == f"/v2/issuers/org-sandbox/users/{USER}/earned-rewards"
    nxt = client.get(document["links"]["next"], headers=as_user(USER)).get_json()
    assert nxt["data"][0]["id"] != document["data"][0]["id"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page[size]=0", "page[size]"),
        ("page[size]=x", "page[size]"),
        ("include=merchants", "include"),
        ("include=offer,user", "include"),
        ("userId=someone-else", "userId"),
        ("page[after]=a&page[before]=b", "page[before]"),
    ],
)
def test_bad_reward_parameters_are_400(client, as_user, simulator, query, parameter):
    response = client.get(f"/api/v1/rewards?{query}", headers=as_user(USER))
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["source"] == {"parameter": parameter}
    assert simulator.calls_to(r"/earned-rewards$") == []


def test_audits_are_created_and_conflicts_come_back_as_207_or_409(client, as_user, simulator):
    headers = as_user(USER)
    created = client.post("/api/v1/audits", headers=headers, json={"data": [_audit("t-1")]})
    assert created.status_code == 201
    assert created.get_json()["data"][0]["attributes"]["transactionId"] == "t-1"

    mixed = client.post(
        "/api/v1/audits", headers=headers, json={"data": [_audit("t-1"), _audit("t-2")]}
    )
    assert mixed.status_code == 207
    body = mixed.get_json()
    assert [item["attributes"]["transactionId"] for item in body["data"]] == ["t-2"]
    assert body["errors"][0]["status"] == "409"

    again = client.post("/api/v1/audits", headers=headers, json={"data": [_audit("t-1")]})
    assert again.status_code == 409
    (call, *_) = simulator.calls_to(r"/audits$")
    assert call.path == f"/v2/issuers/org-sandbox/users/{USER}/audits"


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({}, ["/data"]),
        ({"data": []}, ["/data"]),
        ({"data": [_audit(auditCode=1234)]}, ["/data/0/attributes/auditCode"]),
        ({"data": [_audit(auditCode="3006")]}, ["/data/0/attributes/auditCode"]),
        ({"data": [_audit(merchantName="")]}, ["/data/0/attributes/merchantName"]),
        ({"data": [_audit(auditDescription="x" * 2001)]}, ["/data/0/attributes/auditDescription"]),
        ({"data": [_audit(transactionId=None)]}, ["/data/0/attributes/transactionId"]),
        ({"data": [_audit(userId="someone-else")]}, ["/data/0/attributes/userId"]),
        ({"data": [{"type": "claim"}]}, ["/data/0"]),
        (
            {"data": [_audit(), _audit(auditCode=8002, merchantName=" ")]},
            ["/data/1/attributes/auditCode", "/data/1/attributes/merchantName"],
        ),
    ],
)
def test_bad_audits_are_422_with_pointers(client, as_user, simulator, body, pointers):
    response = client.post("/api/v1/audits", headers=as_user(USER), json=body)
    assert response.status_code == 422
    assert [error["source"]["pointer"] for error in response.get_json()["errors"]] == pointers
    assert simulator.calls_to(r"/audits$") == []


def test_any_audit_value_of_the_wrong_json_type_is_an_error_never_a_500(client, as_user):
    for changed in wrong_types_everywhere({"data": [_audit("txn-fuzz")]}):
        response = client.post("/api/v1/audits", json=changed, headers=as_user(USER))
        assert response.status_code in (201, 409, 400, 422), (changed, response.get_data())


def test_rewards_and_audits_need_a_session(client):
    assert client.get("/api/v1/rewards").status_code == 401
    assert client.post("/api/v1/audits", json={"data": [_audit()]}).status_code == 401


def test_audit_errors_are_bounded(client, as_user, simulator):
    audit = _audit(**{f"k{number:04d}": 0 for number in range(500)})
    response = client.post("/api/v1/audits", headers=as_user(USER), json={"data": [audit]})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert len(errors) == MAX_REPORTED_ERRORS + 1
    assert errors[-1]["detail"] == "... and 450 more problems."
    assert simulator.calls_to(r"/audits$") == []
