"""The stand-in WebView's own API: the simulator's endpoints, authenticated by the WebView JWT.

Kard's hosted WebView calls Kard's services with the `token` it was opened with. The offline
stand-in (`/sandbox/webview`) does the same here, under the unlogged control prefix: every route
verifies `Authorization: Bearer <WebView token>` and answers for the token's user (`sub`) and
organization (`issuer_id`) by calling the simulator's own Kard views and documents.
"""

from datetime import UTC, datetime
from typing import Any

import jwt
from flask import Blueprint, Response, request

from bff.kard.vocabulary import COMPONENTS
from bff.sandbox.auth import bearer
from bff.sandbox.blueprint import (
    CONTROL_PREFIX,
    catalog_response,
    host_webhook,
    json_response,
    query_args,
    simulator,
)
from bff.sandbox.documents.locations import locations_document
from bff.sandbox.documents.offers import offer_action_document, offers_document
from bff.sandbox.documents.resources import iso
from bff.sandbox.documents.rewards import purchase_document, rewards_document
from bff.sandbox.errors import unauthorized
from bff.sandbox.params import QueryArgs

bp = Blueprint("webview", __name__)
PREFIX = f"{CONTROL_PREFIX}webview"
# The stand-in renders every component Kard offers, as the hosted WebView does.
_ALL_COMPONENTS = [("supportedComponents", ",".join(COMPONENTS))]
# One page holds the whole catalog the stand-in shows.
_PAGE_SIZE = "100"
# The location query parameters the stand-in may pass through to Get Locations By User.
_LOCATION_FILTERS = ("filter[latitude]", "filter[longitude]", "filter[radius]")


def _claims() -> dict[str, Any]:
    """Return the claims of the request's WebView bearer token; 401 when missing or invalid."""
    token = bearer(request.headers.get("Authorization"), "WebView token")
    try:
        return simulator().verify_webview_token(token)
    except jwt.ExpiredSignatureError:
        raise unauthorized("The WebView token has expired") from None
    except jwt.InvalidTokenError:
        raise unauthorized("The WebView token is invalid") from None


@bp.get(f"{PREFIX}/me")
def webview_me() -> Response:
    """Who the WebView token belongs to, and when it expires."""
    claims = _claims()
    return json_response(
        {
            "userId": claims["sub"],
            "organizationId": claims["issuer_id"],
            "expiresAt": iso(datetime.fromtimestamp(claims["exp"], UTC)),
        }
    )


@bp.get(f"{PREFIX}/offers")
def webview_offers() -> Response:
    """Get Offers By User for the token's user: every component, up to 100 offers."""
    claims = _claims()
    args = QueryArgs([("page[size]", _PAGE_SIZE), *_ALL_COMPONENTS])
    return catalog_response(offers_document, claims["issuer_id"], claims["sub"], args)


@bp.post(f"{PREFIX}/offers/<offer_id>/<any(activate, boost):action>")
def webview_act_on_offer(offer_id: str, action: str) -> Response:
    """Activate Offer / Boost Offer for the token's user, answering the updated offer."""
    claims = _claims()
    document = offer_action_document(
        simulator(),
        claims["issuer_id"],
        claims["sub"],
        offer_id,
        action,
        include=True,
        components=frozenset(COMPONENTS),
    )
    return json_response(document, 201)


@bp.post(f"{PREFIX}/offers/<offer_id>/purchase")
def webview_purchase(offer_id: str) -> Response:
    """Make a test purchase at the offer's merchant for the token's user (sandbox only: Kard's
    WebView has no such button); answer the transaction and the reward it earned."""
    claims = _claims()
    transaction, reward = simulator().purchase(
        claims["sub"], offer_id, organization_id=claims["issuer_id"], fallback=host_webhook()
    )
    return json_response(purchase_document(transaction, reward), 201)


@bp.get(f"{PREFIX}/rewards")
def webview_rewards() -> Response:
    """Get Earned Rewards for the token's user, with their merchants and offers."""
    claims = _claims()
    sim = simulator()
    user_id, organization_id = claims["sub"], claims["issuer_id"]
    args = QueryArgs([("page[size]", _PAGE_SIZE), ("include", "merchant,offer")])
    rewards = sim.rewards(user_id, organization_id)
    return json_response(rewards_document(rewards, organization_id, user_id, args, sim.now()))


@bp.get(f"{PREFIX}/locations")
def webview_locations() -> Response:
    """Get Locations By User for the token's user, with their offers; nearest first when the
    query gives filter[latitude] and filter[longitude]."""
    claims = _claims()
    filters = [(key, value) for key, value in query_args().pairs if key in _LOCATION_FILTERS]
    args = QueryArgs(
        [*filters, ("include", "offers"), ("page[size]", _PAGE_SIZE), *_ALL_COMPONENTS]
    )
    return catalog_response(locations_document, claims["issuer_id"], claims["sub"], args)
