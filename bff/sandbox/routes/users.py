"""Kard's per-user endpoints: offers and their actions, locations, attributions, earned rewards
and audits."""

import uuid

from flask import Blueprint, Response, request

from bff.sandbox.blueprint import (
    authenticated,
    catalog_response,
    enrolled,
    json_response,
    query_args,
    simulator,
)
from bff.sandbox.documents.attributions import validated_events
from bff.sandbox.documents.audits import audits_response, validated_audits
from bff.sandbox.documents.locations import locations_document
from bff.sandbox.documents.offers import offer_action_document, offers_document
from bff.sandbox.documents.rewards import rewards_document

bp = Blueprint("users", __name__)
USER = "/v2/issuers/<organization_id>/users/<user_id>"


@bp.get(f"{USER}/offers")
@authenticated
@enrolled(404)
def get_offers(organization_id: str, user_id: str) -> Response:
    """Get Offers By User."""
    return catalog_response(offers_document, organization_id, user_id, query_args())


@bp.get(f"{USER}/locations")
@authenticated
@enrolled(404)
def get_locations(organization_id: str, user_id: str) -> Response:
    """Get Locations By User."""
    return catalog_response(locations_document, organization_id, user_id, query_args())


@bp.post(f"{USER}/offers/<offer_id>/<any(activate, boost):action>")
@authenticated
@enrolled(400)
def act_on_offer(organization_id: str, user_id: str, offer_id: str, action: str) -> Response:
    """Activate Offer / Boost Offer: record a CTA event and optionally return the updated offer."""
    args = query_args()
    include = args.choice("include", ("offer",)) is not None
    document = offer_action_document(
        simulator(),
        organization_id,
        user_id,
        offer_id,
        action,
        include=include,
        components=args.components(),
    )
    return json_response(document, 201)


@bp.post(f"{USER}/attributions")
@authenticated
@enrolled(400)
def create_attributions(organization_id: str, user_id: str) -> Response:
    """Create Attribution Events: accept the batch and queue it."""
    events = validated_events(request.get_json(silent=True))
    simulator().users.record_events(user_id, events)
    job = {
        "type": "attributionJob",
        "id": str(uuid.uuid4()),
        "attributes": {"status": "queued", "message": f"{len(events)} attribution events queued"},
    }
    return json_response({"data": job}, 202)


@bp.get(f"{USER}/earned-rewards")
@authenticated
@enrolled(404)
def get_earned_rewards(organization_id: str, user_id: str) -> Response:
    """Get Earned Rewards."""
    sim = simulator()
    rewards = sim.rewards(user_id, organization_id)
    document = rewards_document(rewards, organization_id, user_id, query_args(), sim.now())
    return json_response(document)


@bp.post(f"{USER}/audits")
@authenticated
@enrolled(404)
def create_audits(organization_id: str, user_id: str) -> Response:
    """Create Audits."""
    audits = validated_audits(request.get_json(silent=True))
    sim = simulator()
    document, status = audits_response(
        audits, lambda audit: sim.open_audit(organization_id, user_id, audit)
    )
    return json_response(document, status)
