"""Kard's notification webhook: verified, stored once per notification ID, answered at once,
and counted by type and outcome (`kard_bff_webhooks_total`)."""

from flask import request
from opentelemetry import propagate

from bff.api.bodies import json_value, request_body
from bff.current import settings
from bff.errors import BadRequest, BadSignature, TooLarge, Unauthorized, Unavailable, Unprocessable
from bff.jsonio import JsonBlueprint
from bff.kard.notifications import Notification, parse_notification
from bff.observability.extension import metrics
from bff.ratelimit.extension import limit_address
from bff.webhooks.extension import dispatcher
from bff.webhooks.signature import verify

bp = JsonBlueprint("webhooks", __name__, url_prefix="/webhooks")
bp.before_request(limit_address)

SIGNATURE_HEADER = "notify-signature"


@bp.post("/kard")
def receive_kard_notification():
    """Verify `notify-signature`, parse the notification, keep it once, and answer 200."""
    try:
        notification, new = _receive()
    except Exception as error:
        metrics().webhook("unknown", _refusal(error))
        raise
    metrics().webhook(notification.type, "accepted" if new else "duplicate")
    return {"data": {"id": notification.id, "type": notification.type, "duplicate": not new}}


def _receive() -> tuple[Notification, bool]:
    keys = settings().kard_webhook_keys
    if not keys:
        raise Unavailable("Set KARD_WEBHOOK_KEY to receive Kard's notifications.")
    body = request_body()
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not signature:
        raise BadSignature(errors=[_header_error("The notify-signature header is missing.")])
    if not verify(signature, body, keys):
        detail = "The notify-signature header does not match the body."
        raise BadSignature(errors=[_header_error(detail)])
    notification = parse_notification(json_value(body), body)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the trace this request is part of, when traced
    return notification, dispatcher().accept(notification, carrier.get("traceparent"))


def _refusal(error: Exception) -> str:
    """Why a notification was not taken: its signature, its body, or the service (Redis down,
    no key set)."""
    if isinstance(error, Unauthorized):
        return "refused"
    if isinstance(error, BadRequest | Unprocessable | TooLarge):
        return "invalid"
    return "unavailable"


def _header_error(detail: str) -> dict:
    return {
        "status": "401",
        "title": BadSignature.title,
        "detail": detail,
        "source": {"header": SIGNATURE_HEADER},
    }
