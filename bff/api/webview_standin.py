"""The sandbox stand-in WebView's API: the page sends its WebView token here, on its own origin,
and the BFF asks the Kard it is configured with (its embedded simulator, or the one at
KARD_API_URL), as Kard's hosted WebView asks Kard. Registered in sandbox only."""

from flask import request

from bff.errors import NotFound, Unauthorized
from bff.jsonio import JsonBlueprint
from bff.kard.extension import kard
from bff.offers.cta import is_resource_id

bp = JsonBlueprint("webview_standin", __name__, url_prefix="/sandbox/webview/api")

# The location query parameters the stand-in may pass on to the simulator.
LOCATION_FILTERS = ("filter[latitude]", "filter[longitude]", "filter[radius]")


@bp.get("/me")
def show_me():
    """Answer whom the WebView token belongs to, and when it expires."""
    return _ask_kard("GET", "me")


@bp.get("/offers")
def list_offers():
    """Answer the token's user's offers, with every component."""
    return _ask_kard("GET", "offers")


@bp.post("/offers/<offer_id>/<any(activate, boost):action>")
def act_on_offer(offer_id: str, action: str):
    """Activate or boost an offer for the token's user; answer the updated offer."""
    if not is_resource_id(offer_id):  # as /api/v1/offers: only an ID's shape goes into a path
        raise NotFound(f"{offer_id!r} is not an offer ID.")
    return _ask_kard("POST", "offers", offer_id, action)


@bp.post("/offers/<offer_id>/purchase")
def make_test_purchase(offer_id: str):
    """Make a test purchase at the offer's merchant for the token's user."""
    if not is_resource_id(offer_id):
        raise NotFound(f"{offer_id!r} is not an offer ID.")
    return _ask_kard("POST", "offers", offer_id, "purchase")


@bp.get("/rewards")
def list_rewards():
    """Answer the token's user's earned rewards."""
    return _ask_kard("GET", "rewards")


@bp.get("/locations")
def list_locations():
    """Answer the token's user's locations with their offers, nearest the query's point first."""
    params = [
        (key, value) for key, value in request.args.items(multi=True) if key in LOCATION_FILTERS
    ]
    return _ask_kard("GET", "locations", params=params)


def _ask_kard(method: str, *segments: str, params: list[tuple[str, str]] | None = None):
    answer = kard().standin_webview(method, segments, _webview_token(), params)
    return answer.body, answer.status


def _webview_token() -> str:
    credentials = request.authorization
    if credentials is None or credentials.type != "bearer" or not credentials.token:
        raise Unauthorized("Send the WebView token as 'Authorization: Bearer <token>'.")
    return credentials.token
