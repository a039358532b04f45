"""The simulated Kard endpoints."""

import uuid
from typing import Any

from flask import Response, request

from bff.sandbox.attributions import validated_events
from bff.sandbox.audits import audits_response, validated_audits
from bff.sandbox.auth import client_credentials
from bff.sandbox.blueprint import authenticated, bp, json_response, simulator
from bff.sandbox.errors import KardError
from bff.sandbox.locations import locations_document
from bff.sandbox.offers import offers_document
from bff.sandbox.params import QueryArgs
from bff.sandbox.resources import iso
from bff.sandbox.rewards import rewards_document

USER = "/v2/issuers/<organization_id>/users/<user_id>"
_NO_STORE = {"Cache-Control": "no-store"}


def _args() -> QueryArgs:
    return QueryArgs.parse(request.query_string.decode("utf-8", "replace"))


def _token_document(access_token: str, expires_in: int) -> dict[str, Any]:
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in}


@bp.post("/v2/auth/token")
def issue_access_token() -> Response:
    """Exchange client credentials for an issuer access token."""
    client_id, _ = client_credentials(
        request.headers.get("Authorization"), request.form, request.get_json(silent=True)
    )
    tokens = simulator().tokens
    token = tokens.issue(client_id, request.headers.get("X-Kard-Target-Issuer"))
    return json_response(_token_document(token.value, tokens.ttl), headers=_NO_STORE)


@bp.post("/v2/auth/issuers/<organization_id>/users/<user_id>/token")
@authenticated
def issue_webview_token(organization_id: str, user_id: str) -> Response:
    """Issue a WebView JWT for the user."""
    signer = simulator().webview
    document = _token_document(signer.issue(organization_id, user_id), signer.ttl)
    return json_response(document, headers=_NO_STORE)


@bp.get(f"{USER}/offers")
@authenticated
def get_offers(organization_id: str, user_id: str) -> Response:
    """Get Offers By User."""
    args = _args()
    sim = simulator()
    viewer = sim.viewer(organization_id, user_id, args.components())
    return json_response(offers_document(sim.catalog, viewer, args))


@bp.get(f"{USER}/locations")
@authenticated
def get_locations(organization_id: str, user_id: str) -> Response:
    """Get Locations By User."""
    args = _args()
    sim = simulator()
    viewer = sim.viewer(organization_id, user_id, args.components())
    return json_response(locations_document(sim.catalog, viewer, args))


@bp.post(f"{USER}/offers/<offer_id>/<any(activate, boost):action>")
@authenticated
def act_on_offer(organization_id: str, user_id: str, offer_id: str, action: str) -> Response:
    """Activate Offer / Boost Offer: record a CTA event and optionally return the updated offer."""
    args = _args()
    include = args.choice("include", ("offer",)) is not None
    document = offer_action_document(
        organization_id, user_id, offer_id, action, include=include, components=args.components()
    )
    return json_response(document, 201)


def offer_action_document(
    organization_id: str,
    user_id: str,
    offer_id: str,
    action: str,
    *,
    include: bool,
    components: frozenset[str],
) -> dict[str, Any]:
    """Record the user's CTA event for an offer; the attribution (and the updated offer)."""
    sim = simulator()
    offer = sim.catalog.offers_by_id.get(offer_id)
    if offer is None or not offer.visible_to(user_id):
        raise KardError(404, f"Offer {offer_id} was not found for this user")
    attributes = {
        "entityId": offer_id,
        "eventCode": action.upper(),
        "medium": "CTA",
        "eventDate": iso(sim.now()),
    }
    sim.users.record_events(user_id, [{"type": "offerAttribution", "attributes": attributes}])
    document: dict[str, Any] = {
        "data": {"type": "offerAttribution", "id": str(uuid.uuid4()), "attributes": attributes}
    }
    if include:
        document["included"] = [sim.viewer(organization_id, user_id, components).offer(offer)]
    return document


@bp.post(f"{USER}/attributions")
@authenticated
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
def get_earned_rewards(organization_id: str, user_id: str) -> Response:
    """Get Earned Rewards."""
    sim = simulator()
    document = rewards_document(sim.rewards(user_id), organization_id, user_id, _args(), sim.anchor)
    return json_response(document)


@bp.post(f"{USER}/audits")
@authenticated
def create_audits(organization_id: str, user_id: str) -> Response:
    """Create Audits."""
    audits = validated_audits(request.get_json(silent=True))
    users = simulator().users
    document, status = audits_response(audits, lambda txn: users.claim_audit(user_id, txn))
    return json_response(document, status)
