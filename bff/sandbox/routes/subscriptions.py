"""The simulated notification subscription endpoints."""

from flask import Blueprint, Response, request

from bff.sandbox.blueprint import authenticated, json_response, simulator
from bff.sandbox.params import QueryArgs
from bff.sandbox.uploads.subscriptions import EVENT_NAMES, validated_subscriptions, validated_update

bp = Blueprint("subscriptions", __name__)

SUBSCRIPTIONS = "/v2/issuers/<organization_id>/subscriptions"


@bp.get(SUBSCRIPTIONS)
@authenticated
def get_subscriptions(organization_id: str) -> Response:
    """Get Subscriptions, optionally of one event type (`filter[eventName]`)."""
    args = QueryArgs.parse(request.query_string.decode("utf-8", "replace"))
    event_name = args.choice("filter[eventName]", EVENT_NAMES)
    subscriptions = simulator().subscriptions.listed(organization_id, event_name)
    return json_response({"data": [s.resource() for s in subscriptions]})


@bp.post(SUBSCRIPTIONS)
@authenticated
def create_subscriptions(organization_id: str) -> Response:
    """Create Subscriptions: one per event type and organization (409 for a second)."""
    requested = validated_subscriptions(request.get_json(silent=True))
    created = simulator().subscriptions.create(organization_id, requested)
    return json_response({"data": [s.resource() for s in created]}, 201)


@bp.patch(f"{SUBSCRIPTIONS}/<subscription_id>")
@authenticated
def update_subscription(organization_id: str, subscription_id: str) -> Response:
    """Update Subscription: change its event type, webhook URL or enabled flag."""
    attributes = validated_update(request.get_json(silent=True))
    subscription = simulator().subscriptions.update(organization_id, subscription_id, attributes)
    return json_response({"data": subscription.resource()})
