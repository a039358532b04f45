"""Kard's Users endpoints in the simulator: Create (201/207/400/409), Update, Delete, Get."""

import httpx
import pytest

from bff.sandbox import Simulator
from tests.sandbox.helpers import LAPSED, NEW, ORG, assert_error

USERS = f"/v2/issuers/{ORG}/users"


def user(user_id: str, **attributes) -> dict:
    return {
        "type": "user",
        "id": user_id,
        "attributes": {"enrolledRewards": ["CARDLINKED"], **attributes},
    }


def create(api: httpx.Client, *users: dict) -> httpx.Response:
    return api.post(USERS, json={"data": list(users)})


def test_create_enrolls_and_get_answers_what_was_sent(api: httpx.Client) -> None:
    sent = user(
        "438103", email="testuser@test-TEST.com", zipCode="30047", historicalTransactionsSent=True
    )
    response = create(api, sent)
    assert response.status_code == 201, response.text
    assert response.json() == {"data": [sent]}
    assert api.get(f"{USERS}/438103").json() == {"data": sent}


def test_creating_an_enrolled_user_again_is_a_conflict(api: httpx.Client) -> None:
    create(api, user("u-1"))
    error = assert_error(create(api, user("u-1")), 409)
    assert error["id"] == "u-1"


def test_some_new_some_enrolled_is_a_multi_status(api: httpx.Client) -> None:
    create(api, user("u-1"))
    response = create(api, user("u-1"), user("u-2"))
    assert response.status_code == 207, response.text
    body = response.json()
    assert [u["id"] for u in body["data"]] == ["u-2"]
    assert [(e["status"], e["id"]) for e in body["errors"]] == [("409", "u-1")]


def test_the_personas_are_enrolled_from_the_start_and_after_a_reset(
    api: httpx.Client, simulator: Simulator
) -> None:
    for persona in (NEW, LAPSED):
        assert api.get(f"{USERS}/{persona}").status_code == 200
    api.delete(f"{USERS}/{NEW}")
    simulator.reset()
    assert simulator.directory.is_enrolled(ORG, NEW)


def test_update_replaces_the_attributes_sent(api: httpx.Client) -> None:
    create(api, user("u-1", zipCode="30047"))
    response = api.put(f"{USERS}/u-1", json={"data": user("u-1", zipCode="30048")})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["zipCode"] == "30048"
    assert api.get(f"{USERS}/u-1").json()["data"]["attributes"]["zipCode"] == "30048"


def test_delete_unenrolls_and_the_user_can_be_enrolled_again(api: httpx.Client) -> None:
    create(api, user("u-1"))
    response = api.delete(f"{USERS}/u-1")
    assert response.json() == {"data": {"type": "user", "id": "u-1", "attributes": {}}}
    assert_error(api.get(f"{USERS}/u-1"), 404)
    assert create(api, user("u-1")).status_code == 201


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_a_user_not_enrolled_is_not_found(api: httpx.Client, method: str) -> None:
    body = {"data": user("nobody")} if method == "PUT" else None
    assert_error(api.request(method, f"{USERS}/nobody", json=body), 404)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (None, "/data"),
        ({"data": []}, "/data"),
        ({"data": [user(f"u-{n}") for n in range(101)]}, "/data"),
        ({"data": ["user"]}, "/data/0"),
        ({"data": [{**user("u-1"), "type": "customer"}]}, "/data/0/type"),
        ({"data": [{"type": "user", "id": "u-1"}]}, "/data/0/attributes"),
        ({"data": [{**user("u-1"), "id": ""}]}, "/data/0/id"),
        ({"data": [{**user("u-1"), "id": 438103}]}, "/data/0/id"),
        ({"data": [{**user("u-1"), "id": "x" * 257}]}, "/data/0/id"),
        ({"data": [user("u-1"), user("u-1")]}, "/data/1/id"),
        (
            {"data": [{"type": "user", "id": "u-1", "attributes": {}}]},
            "/data/0/attributes/enrolledRewards",
        ),
        (
            {"data": [user("u-1", enrolledRewards=["CASHBACK"])]},
            "/data/0/attributes/enrolledRewards",
        ),
        (
            {"data": [user("u-1", enrolledRewards="CARDLINKED")]},
            "/data/0/attributes/enrolledRewards",
        ),
        ({"data": [user("u-1", zipCode=30047)]}, "/data/0/attributes/zipCode"),
        ({"data": [user("u-1", email=None)]}, "/data/0/attributes/email"),
        ({"data": [user("u-1", hashedEmail=[])]}, "/data/0/attributes/hashedEmail"),
        ({"data": [user("u-1", phoneNumber=14155552671)]}, "/data/0/attributes/phoneNumber"),
        ({"data": [user("u-1", birthYear=1990)]}, "/data/0/attributes/birthYear"),
        (
            {"data": [user("u-1", historicalTransactionsSent="yes")]},
            "/data/0/attributes/historicalTransactionsSent",
        ),
    ],
)
def test_each_bad_field_of_create_is_a_400_pointing_at_it(
    api: httpx.Client, body, pointer: str
) -> None:
    assert_error(api.post(USERS, json=body), 400, pointer=pointer)
    assert api.get(f"{USERS}/u-1").status_code == 404  # nothing was enrolled


def test_an_empty_enrolled_rewards_enrolls_in_no_program(api: httpx.Client) -> None:
    assert create(api, user("u-1", enrolledRewards=[])).status_code == 201


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (None, "/data"),
        ({"data": [user("u-1")]}, "/data"),
        ({"data": {**user("u-1"), "type": "customer"}}, "/data/type"),
        ({"data": {**user("u-1"), "id": "u-2"}}, "/data/id"),
        (
            {"data": {"type": "user", "id": "u-1", "attributes": {"zipCode": "1"}}},
            "/data/attributes/enrolledRewards",
        ),
        ({"data": user("u-1", email=1)}, "/data/attributes/email"),
    ],
)
def test_each_bad_field_of_update_is_a_400_pointing_at_it(
    api: httpx.Client, body, pointer: str
) -> None:
    create(api, user("u-1", email="a@example.com"))
    assert_error(api.put(f"{USERS}/u-1", json=body), 400, pointer=pointer)
    assert api.get(f"{USERS}/u-1").json()["data"]["attributes"]["email"] == "a@example.com"


def test_the_users_endpoints_need_a_token(client: httpx.Client) -> None:
    assert_error(client.get(f"{USERS}/{NEW}"), 401)
    assert_error(client.post(USERS, json={"data": [user("u-1")]}), 401)


# Enrollment is enforced where Kard's reference lists the status: Get Offers, Get Locations, Get
# Earned Rewards and Create Audits answer 404 for a user not enrolled; Activate, Boost and Create
# Attribution Events (201/202, 400, 401, 500) answer 400.
NOT_ENROLLED = [
    ("GET", "offers", None, 404),
    ("GET", "locations", None, 404),
    ("GET", "earned-rewards", None, 404),
    ("POST", "audits", {"data": []}, 404),
    ("POST", "offers/offer-1/activate", None, 400),
    ("POST", "offers/offer-1/boost", None, 400),
    ("POST", "attributions", {"data": []}, 400),
]


@pytest.mark.parametrize(("method", "tail", "body", "status"), NOT_ENROLLED)
def test_a_user_not_enrolled_is_refused(api: httpx.Client, method, tail, body, status) -> None:
    response = api.request(method, f"{USERS}/never-enrolled/{tail}", json=body)
    assert "never-enrolled" in assert_error(response, status)["detail"]


def test_a_deleted_user_is_no_longer_served(api: httpx.Client) -> None:
    create(api, user("u-leaving"))
    assert api.get(f"{USERS}/u-leaving/offers").status_code == 200
    api.delete(f"{USERS}/u-leaving")
    assert_error(api.get(f"{USERS}/u-leaving/offers"), 404)
