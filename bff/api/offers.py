"""The native app API: offers, locations, call-to-actions and offer views, for the session user.

Each view reads like the data flow: session user -> validated input -> Kard -> rewrite -> answer.
Nothing here is cached: offers and their components are per user and change with every action.
"""

from flask import request

from bff.api.bodies import json_object
from bff.api.upstream import checked_query, rewritten
from bff.attributions.checks import view_event
from bff.attributions.extension import send_events
from bff.current import settings, utc_now
from bff.errors import NotFound, Unprocessable, UpstreamRejected
from bff.jsonio import JsonBlueprint
from bff.kard.extension import kard
from bff.offers.cta import is_resource_id
from bff.offers.extension import cta_urls
from bff.offers.queries import LOCATIONS, OFFER_ACTION, OFFERS
from bff.routing import ROUTABLE_METHODS, method_not_allowed, methods_routed_elsewhere
from bff.session import session_user

bp = JsonBlueprint("offers", __name__, url_prefix="/api/v1")


@bp.get("/offers")
def list_offers():
    """List the session user's offers (Kard Get Offers By User), rewritten for the app."""
    user_id = session_user()
    params = checked_query(OFFERS, settings().supported_components)
    return rewritten(kard().offers(user_id, params), user_id)


@bp.get("/locations")
def list_locations():
    """List locations with the session user's offers (Kard Get Locations By User)."""
    user_id = session_user()
    params = checked_query(LOCATIONS, settings().supported_components, locations=True)
    return rewritten(kard().locations(user_id, params), user_id)


@bp.post("/offers/<offer_id>/<any(activate, boost):action>")
def act_on_offer(offer_id: str, action: str):
    """Activate or boost an offer for the session user: 201 with the updated offer."""
    user_id = session_user()
    return _follow_cta(user_id, "POST", ["offers", offer_id, action])


@bp.route("/<path:rest>", methods=ROUTABLE_METHODS)
def follow_cta(rest: str):
    """Follow another call-to-action Kard's answers carried, by the signed URL the BFF handed
    out; any other path is 404 or 405."""
    signed_for, query = cta_urls().signed_methods(
        rest, request.query_string.decode("utf-8", "replace")
    )
    if request.method not in signed_for:
        raise _not_served(signed_for)
    user_id = session_user()
    return _follow_cta(user_id, request.method, rest.split("/"), query)


@bp.post("/offers/<offer_id>/view")
def view_offer(offer_id: str):
    """Record that the session user opened an offer's detail page: one VIEW attribution; 202."""
    user_id = session_user()
    _check_resource_id(offer_id)
    now = utc_now()
    event, errors = view_event(offer_id, json_object(optional=True), now)
    if errors:
        raise Unprocessable(errors=errors)
    outcome = send_events(user_id, [(0, event)])
    if outcome.rejected:
        raise UpstreamRejected(400, outcome.rejected[0]["errors"])
    return {"data": event, "queued": bool(outcome.queued)}, 202


def _follow_cta(user_id: str, method: str, segments: list[str], query: str | None = None):
    for segment in segments:
        _check_resource_id(segment)
    params = checked_query(OFFER_ACTION, settings().supported_components, query=query)
    params = [pair for pair in params if pair[0] != "include"] + [("include", "offer")]
    return rewritten(kard().user_action(user_id, method, segments, params), user_id)


def _not_served(signed_for: list[str]) -> Exception:
    # This route takes every CTA method for every path, so Werkzeug cannot tell a path served
    # with another method (405) from one not served at all (404): ask the signature and the
    # URL map.
    allowed = sorted({*signed_for, *methods_routed_elsewhere()})
    return method_not_allowed(allowed) if allowed else NotFound("No such endpoint.")


def _check_resource_id(value: str) -> None:
    if not is_resource_id(value):
        raise NotFound(f"{value!r} is not an offer ID.")
