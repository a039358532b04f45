"""Get Earned Rewards: parameters, the rewards purchases earned, filters and pagination."""

from datetime import timedelta

import httpx
import pytest

from bff.sandbox import Simulator
from bff.sandbox.catalog.offers import Offer
from tests.sandbox.helpers import (
    LAPSED,
    NEW,
    USER,
    assert_error,
    plain,
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


def rewards(api: httpx.Client, user: str = USER, **params) -> dict:
    response = api.get(user_path(user, "earned-rewards"), params={"page[size]": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def long_lived(simulator: Simulator, days: int) -> list[Offer]:
    """The plain offers USER sees that stay live `days` more."""
    horizon = simulator.now() + timedelta(days=days)
    return [o for o in simulator.catalog.offers_for(USER) if plain(o) and o.expiration > horizon]


@pytest.fixture
def history(simulator: Simulator) -> dict[str, list[str]]:
    """USER's purchases: 6 made 100 days ago (paid since), then 8 made now (not yet paid)."""
    offers = long_lived(simulator, 110)
    assert len(offers) >= 3

    def buy(count: int) -> list[str]:
        return [simulator.purchase(USER, offers[n % len(offers)].id)[1].id for n in range(count)]

    early = buy(6)
    simulator.advance_clock(100 * 86400)
    late = buy(8)
    return {"early": early, "late": late}


def test_personas_start_with_no_rewards(api: httpx.Client) -> None:
    """Kard's new customer has no prior transactions: rewards come from purchases only."""
    for persona in (NEW, LAPSED):
        assert rewards(api, persona)["data"] == []


def test_earned_rewards_are_the_purchases_newest_first(api: httpx.Client, history) -> None:
    body = rewards(api, include="merchant,offer")
    ids = [r["id"] for r in body["data"]]
    assert set(ids[:8]) == set(history["late"]) and set(ids[8:]) == set(history["early"])
    stamps = [r["attributes"]["transactionTimestamp"] for r in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    for reward in body["data"]:
        attributes = reward["attributes"]
        assert attributes["status"] == "SETTLED"
        assert attributes["transactionAmountInCents"] == 5000
        assert attributes["commissionEarned"]["user"]["type"] == "cents"
        assert set(reward["relationships"]) == {"user", "merchant", "offer"}
    lifetime = sum(r["attributes"]["commissionEarned"]["user"]["value"] for r in body["data"])
    assert body["meta"]["lifetimeRewardsInCents"] == lifetime
    assert {item["type"] for item in body["included"]} == {"merchant", "offer"}


def test_earned_rewards_filters(api: httpx.Client, simulator: Simulator, history) -> None:
    paid = rewards(api, **{"filter[paidInFullOnly]": "true"})["data"]
    assert {r["id"] for r in paid} == set(history["early"])
    assert all(r["attributes"]["paidToIssuer"] == "PAID_IN_FULL" for r in paid)
    recent = rewards(api, **{"filter[range]": "3M", "filter[status]": "SETTLED"})["data"]
    assert {r["id"] for r in recent} == set(history["late"])
    assert len(rewards(api, **{"filter[range]": "12M"})["data"]) == 14
    simulator.advance_clock(300 * 86400)  # the early ones are now over 12 months old
    assert {r["id"] for r in rewards(api)["data"]} == set(history["late"])


def test_earned_rewards_pagination(api: httpx.Client, history) -> None:
    expected = [r["id"] for r in rewards(api)["data"]]
    first = api.get(user_path(USER, "earned-rewards")).json()
    assert len(first["data"]) == 10
    second = api.get(first["links"]["next"]).json()
    assert [r["id"] for r in first["data"] + second["data"]] == expected
    assert api.get(second["links"]["prev"]).json()["data"] == first["data"]
