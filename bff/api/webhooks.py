"""Kard's notification webhook: verified, stored once per notification ID, answered at once."""

from flask import Blueprint, request

from bff.api.bodies import json_value, request_body
from bff.current import settings
from bff.errors import BadSignature, Unavailable
from bff.kard.notifications import parse_notification
from bff.ratelimit.extension import limit_address
from bff.webhooks.extension import dispatcher
from bff.webhooks.signature import verify

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
bp.before_request(limit_address)

SIGNATURE_HEADER = "notify-signature"


@bp.post("/kard")
def receive_kard_notification():
    """Verify `notify-signature`, parse the notification, keep it once, and answer 200."""
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
    new = dispatcher().accept(notification)
    return {"data": {"id": notification.id, "type": notification.type, "duplicate": not new}}


def _header_error(detail: str) -> dict:
    return {
        "status": "401",
        "title": BadSignature.title,
        "detail": detail,
        "source": {"header": SIGNATURE_HEADER},
    }
