"""Get Earned Rewards: parameters, deterministic rewards, filters and pagination."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.sandbox.helpers import (
    LAPSED,
    NEW,
    USER,
    assert_error,
    user_path,
)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("page[size]", "-1"),
        ("page[after]", "%%%"),
        ("include", "user"),
        ("filter[status]", "PENDING"),
        ("filter[paidInFullOnly]", "maybe"),
        ("filter[range]", "1Y"),
    ],
)
def test_earned_rewards_reject_bad_parameters(
    api: httpx.Client, parameter: str, value: str
) -> None:
    response = api.get(user_path(USER, "earned-rewards"), params={parameter: value})
    assert_error(response, 400, parameter=parameter)


def rewards(api: httpx.Client, user: str, **params) -> dict:
    response = api.get(user_path(user, "earned-rewards"), params={"page[size]": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def busy_user(api: httpx.Client) -> str:
    return next(f"user-{n}" for n in range(100) if len(rewards(api, f"user-{n}")["data"]) > 15)


def test_personas_have_a_few_rewards(api: httpx.Client) -> None:
    for persona in (NEW, LAPSED):
        assert len(rewards(api, persona)["data"]) == 3


def test_earned_rewards_are_deterministic_recent_and_newest_first(api: httpx.Client) -> None:
    user = busy_user(api)
    body = rewards(api, user, include="merchant,offer")
    assert body == rewards(api, user, include="merchant,offer")
    stamps = [r["attributes"]["transactionTimestamp"] for r in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    year_ago = datetime.now(UTC) - timedelta(days=366)
    assert all(datetime.fromisoformat(s) > year_ago for s in stamps)
    for reward in body["data"]:
        attributes = reward["attributes"]
        assert attributes["status"] == "SETTLED"
        assert attributes["commissionEarned"]["user"]["type"] == "cents"
        assert set(reward["relationships"]) == {"user", "merchant", "offer"}
    lifetime = sum(r["attributes"]["commissionEarned"]["user"]["value"] for r in body["data"])
    assert body["meta"]["lifetimeRewardsInCents"] == lifetime
    types = {item["type"] for item in body["included"]}
    assert types == {"merchant", "offer"}


def test_earned_rewards_filters(api: httpx.Client) -> None:
    user = busy_user(api)
    everything = rewards(api, user)["data"]
    paid = rewards(api, user, **{"filter[paidInFullOnly]": "true"})["data"]
    assert paid and all(r["attributes"]["paidToIssuer"] == "PAID_IN_FULL" for r in paid)
    recent = rewards(api, user, **{"filter[range]": "3M", "filter[status]": "SETTLED"})["data"]
    assert len(recent) < len(everything)
    assert rewards(api, user, **{"filter[range]": "12M"})["data"] == everything


def test_earned_rewards_pagination(api: httpx.Client) -> None:
    user = busy_user(api)
    expected = [r["id"] for r in rewards(api, user)["data"]]
    first = api.get(user_path(user, "earned-rewards")).json()
    assert len(first["data"]) == 10
    second = api.get(first["links"]["next"]).json()
    assert [r["id"] for r in first["data"] + second["data"]] == expected[
        : len(first["data"]) + len(second["data"])
    ]
    assert api.get(second["links"]["prev"]).json()["data"] == first["data"]
