"""The official Kard SDK parses every simulator answer, and the simulator accepts its requests."""

import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from kard import KardApi
from kard.commons.errors import ConflictError, DoesNotExistError
from kard.core.api_error import ApiError
from kard.hem import generate_hem
from kard.transactions import (
    AuditAttributes,
    CoreTransactionAttributes,
    CreateAuditRequestDataUnion_Audit,
    FraudulentTransactionAttributes,
    FraudulentTransactionData,
    Merchant,
    Transactions_CoreTransaction,
    Transactions_Transaction,
    TransactionsAttributes,
)
from kard.users import (
    UpdateUserRequestAttributes,
    UpdateUserRequestDataUnion_User,
    UserRequestAttributes,
    UserRequestDataUnion_User,
)
from kard.users.attributions import (
    CreateAttributionRequestUnion_OfferAttribution,
    OfferAttributionAttributes,
)
from kard.users.rewards.types import ComponentType

from bff.kard.vocabulary import COMPONENTS
from bff.sandbox import Simulator
from tests.sandbox.helpers import CREDENTIALS, plain, sole

ORG = "org-sandbox"
NEW = "sandbox-demo-new-customer"
ALL_COMPONENTS = list(COMPONENTS)


def test_our_component_list_is_the_sdks() -> None:
    literal, _ = typing.get_args(ComponentType)
    assert set(COMPONENTS) == set(typing.get_args(literal))


@pytest.fixture
def sdk(kard_url: str) -> Iterator[KardApi]:
    yield KardApi(base_url=kard_url, **CREDENTIALS)


def test_sdk_fetches_its_token_with_a_json_body(sdk: KardApi, simulator: Simulator) -> None:
    sdk.users.rewards.offers(ORG, NEW, page_size=1)
    token_call = simulator.calls_to(r"^/v2/auth/token$")[0]
    assert token_call.json == CREDENTIALS
    assert token_call.status == 200


def test_offers_with_every_component(sdk: KardApi) -> None:
    response = sdk.users.rewards.offers(
        ORG, NEW, page_size=100, include="categories", supported_components=ALL_COMPONENTS
    )
    assert len(response.data) > 50
    assert response.links.next is None and response.links.self_.startswith(f"/v2/issuers/{ORG}")
    assert {c.type for c in response.included} == {"category"}
    assert len(response.meta.available_categories) == 17
    components = [offer.attributes.components for offer in response.data]
    assert all(c.base_reward.endswith("cash back") for c in components)
    assert any(c.cta and c.cta.button_text == "Tap to activate" for c in components)
    assert any(
        c.cta and c.cta.button_text == "Tap to boost" and c.boosted_reward for c in components
    )
    assert any(c.logo_flare and c.logo_flare.badge.position == "TOP_RIGHT" for c in components)
    bars = [c.progress_bar for c in components if c.progress_bar]
    assert bars and all(len(bar.segments.progress) == bar.total for bar in bars)
    offer = response.data[0]
    assert offer.type == "standardOffer" and len(offer.id) == 24
    assert offer.attributes.start_date.tzinfo is not None
    assert offer.relationships.category.data[0].type == "category"


def test_offers_filters_through_the_sdk(sdk: KardApi) -> None:
    response = sdk.users.rewards.offers(
        ORG,
        NEW,
        filter_purchase_channel=["INSTORE", "ONLINE"],
        filter_category="Food & Beverage",
        filter_is_targeted=False,
        sort="-name",
    )
    names = [offer.attributes.name for offer in response.data]
    assert names and names == sorted(names, reverse=True)
    assert all(not offer.attributes.is_targeted for offer in response.data)


def test_locations_with_offers_categories_and_components(sdk: KardApi) -> None:
    response = sdk.users.rewards.locations(
        ORG,
        NEW,
        page_size=5,
        filter_latitude=41.8781,
        filter_longitude=-87.6298,
        filter_radius=10,
        include="offers,categories",
        supported_components=ALL_COMPONENTS,
    )
    assert len(response.data) == 5 and response.links.next
    location = response.data[0]
    assert location.attributes.address.state == "IL"
    assert location.attributes.partner_ids[0].type == "google"
    assert len(location.attributes.operation_hours.periods) == 7
    offers = [item for item in response.included if item.type == "standardOffer"]
    categories = [item for item in response.included if item.type == "category"]
    assert offers and categories
    assert all(offer.attributes.components.base_reward for offer in offers)
    referenced = {ref.id for loc in response.data for ref in loc.relationships.offers.data}
    assert referenced == {offer.id for offer in offers}


def test_attribution_events(sdk: KardApi, simulator: Simulator) -> None:
    event = CreateAttributionRequestUnion_OfferAttribution(
        attributes=OfferAttributionAttributes(
            entity_id="5e27318c9b346f00087fbb5c",
            event_code="IMPRESSION",
            medium="BROWSE",
            event_date=datetime(2025, 1, 1, tzinfo=UTC),
        )
    )
    response = sdk.users.attributions.create(ORG, NEW, data=[event])
    assert response.data.attributes.status == "queued"
    recorded = simulator.attribution_events(NEW)
    assert [e["attributes"]["eventCode"] for e in recorded] == ["IMPRESSION"]
    assert recorded[0]["type"] == "offerAttribution"


@pytest.mark.parametrize(
    ("action", "button", "tag"),
    [("activate", "Tap to activate", "Activated"), ("boost", "Tap to boost", "Boosted")],
)
def test_activate_and_boost(
    sdk: KardApi, simulator: Simulator, action: str, button: str, tag: str
) -> None:
    listing = sdk.users.rewards.offers(ORG, NEW, page_size=100, supported_components=ALL_COMPONENTS)
    offer = next(
        o
        for o in listing.data
        if o.attributes.components.cta and o.attributes.components.cta.button_text == button
    )
    call = getattr(sdk.users.attributions, action)
    response = call(ORG, NEW, offer.id, include="offer", supported_components=ALL_COMPONENTS)
    assert response.data.attributes.entity_id == offer.id
    assert response.data.attributes.event_code == action.upper()
    assert response.data.attributes.medium == "CTA"
    updated = response.included[0]
    assert updated.id == offer.id
    assert updated.attributes.components.cta is None
    assert updated.attributes.components.detail_tags == [tag]
    assert simulator.attribution_events(NEW)[-1]["attributes"]["eventCode"] == action.upper()


def _purchases(simulator: Simulator) -> list:
    """A card purchase at a plain offer of NEW's (single message) and a core banking one."""
    offer = sole(simulator, plain, NEW)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    card = Transactions_Transaction(
        id="sdk-event-1",
        attributes=TransactionsAttributes(
            user_id=NEW,
            transaction_id="sdk-txn-1",
            status="SETTLED",
            amount=10000,
            currency="USD",
            direction="DEBIT",
            payment_type="CARD",
            description=offer.name,
            card_bin="123456",
            card_last_four="4321",
            authorization_date=an_hour_ago,
            settled_date=an_hour_ago,
            merchant=Merchant(name=offer.name, addr_state="PA"),
        ),
    )
    core = Transactions_CoreTransaction(
        id="sdk-event-2",
        attributes=CoreTransactionAttributes(
            user_id=NEW,
            transaction_id="sdk-txn-2",
            amount=4000,
            currency="USD",
            description=offer.name,
            direction="DEBIT",
            settled_date=an_hour_ago,
            authorization_date=an_hour_ago,
        ),
    )
    return [card, core]


def test_incoming_transactions_and_the_rewards_they_earn(sdk: KardApi, simulator) -> None:
    job = sdk.transactions.create(ORG, data=_purchases(simulator))
    assert job.data.attributes.status == "queued"
    response = sdk.transactions.get_earned_rewards(ORG, NEW, include="merchant,offer", page_size=1)
    assert len(response.data) == 1 and response.links.next
    reward = response.data[0]
    assert reward.type == "rewardedTransaction"
    assert reward.attributes.status == "SETTLED"
    assert reward.attributes.commission_earned.user.value > 0
    assert reward.relationships.offer.data.type == "offer"
    assert response.meta.lifetime_rewards_in_cents > 0
    assert {item.type for item in response.included} == {"merchant", "offer"}
    filtered = sdk.transactions.get_earned_rewards(
        ORG, NEW, filter_status="SETTLED", filter_paid_in_full_only=False, filter_range="12M"
    )
    assert {r.attributes.transaction_id for r in filtered.data} == {"sdk-txn-1", "sdk-txn-2"}


def test_an_event_sent_twice_is_the_sdks_conflict(sdk: KardApi, simulator) -> None:
    purchases = _purchases(simulator)
    sdk.transactions.create(ORG, data=purchases)
    with pytest.raises(ConflictError):
        sdk.transactions.create(ORG, data=purchases, request_options={"max_retries": 0})


def test_fraud_markers_and_the_reconciliation_files(sdk: KardApi, simulator) -> None:
    sdk.transactions.create(ORG, data=_purchases(simulator))
    marker = FraudulentTransactionData(
        id="sdk-txn-2",
        type="fraudulentTransaction",
        attributes=FraudulentTransactionAttributes(user_id=NEW),
    )
    flagged = sdk.transactions.create_fraud_markers(ORG, data=[marker])
    assert [item.id for item in flagged.data] == ["sdk-txn-2"]
    simulator.advance_clock(2 * 86400)  # the purchase day's files have gone out, whatever the hour
    files = sdk.files.get_metadata(ORG, page_size=1, sort="-sentDate")
    assert len(files.data) == 1 and files.meta.has_next_page and files.links.next
    assert files.data[0].type.endswith("ReconciliationFile")
    assert files.data[0].attributes.download_url.startswith("http")


def test_wrong_credentials_raise_the_sdks_401(kard_url: str) -> None:
    wrong = KardApi(base_url=kard_url, client_id=CREDENTIALS["client_id"], client_secret="wrong")
    with pytest.raises(ApiError) as raised:
        wrong.users.rewards.offers(ORG, NEW)
    assert raised.value.status_code == 401


def test_create_audits(sdk: KardApi) -> None:
    audit = CreateAuditRequestDataUnion_Audit(
        attributes=AuditAttributes(
            audit_code=3006,
            merchant_name="Taco Trail",
            audit_description="Missing cashback",
            transaction_id="txn-1",
        )
    )
    response = sdk.transactions.create_audits(ORG, NEW, data=[audit])
    assert [a.attributes.transaction_id for a in response.data] == ["txn-1"]
    assert response.data[0].type == "audit" and response.data[0].id


def test_web_view_token(sdk: KardApi, simulator: Simulator) -> None:
    response = sdk.users.auth.get_web_view_token(ORG, NEW)
    assert response.token_type == "Bearer" and response.expires_in == 3600
    claims = simulator.verify_webview_token(response.access_token)
    assert (claims["sub"], claims["issuer_id"]) == (NEW, ORG)


def test_users_create_update_get_and_delete(sdk: KardApi) -> None:
    hashed = generate_hem("Jane.Doe+work@gmail.com")
    attributes = UserRequestAttributes(enrolled_rewards=["CARDLINKED"], hashed_email=hashed)
    created = sdk.users.create(
        ORG, data=[UserRequestDataUnion_User(id="sdk-user", attributes=attributes)]
    )
    assert created.data[0].id == "sdk-user" and created.data[0].attributes.hashed_email == hashed
    update = UpdateUserRequestAttributes(enrolled_rewards=["CARDLINKED"], zip_code="30048")
    updated = sdk.users.update(
        ORG, "sdk-user", data=UpdateUserRequestDataUnion_User(id="sdk-user", attributes=update)
    )
    assert updated.data.attributes.zip_code == "30048"
    assert sdk.users.get(ORG, "sdk-user").data.attributes.zip_code == "30048"
    assert sdk.users.delete(ORG, "sdk-user").data.id == "sdk-user"
    with pytest.raises(DoesNotExistError):
        sdk.users.get(ORG, "sdk-user")


def test_users_create_conflicts_and_multi_status(sdk: KardApi) -> None:
    def users(*ids: str) -> list[UserRequestDataUnion_User]:
        attributes = UserRequestAttributes(enrolled_rewards=["CARDLINKED"])
        return [UserRequestDataUnion_User(id=user_id, attributes=attributes) for user_id in ids]

    with pytest.raises(ConflictError):  # the SDK retries a 409: once is enough here
        sdk.users.create(ORG, data=users(NEW), request_options={"max_retries": 0})
    # A 207 is a 2xx to the SDK: it parses the body as Create Users' answer, the new users in it.
    some_new = sdk.users.create(ORG, data=users(NEW, "sdk-newcomer"))
    assert [user.id for user in some_new.data] == ["sdk-newcomer"]
