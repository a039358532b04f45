"""The HTTP control surface (no auth) for tools and cross-process tests: faults, tokens, calls,
enrollment, the simulated clock, test purchases and audit resolutions."""

import math
from typing import Any

from flask import Blueprint, Response, request

from bff.sandbox.blueprint import CONTROL_PREFIX, host_webhook, json_response, simulator
from bff.sandbox.documents.resources import iso
from bff.sandbox.documents.rewards import purchase_document
from bff.sandbox.errors import KardError
from bff.sandbox.lifecycle.audits import DEFAULT_RESOLUTION, RESOLUTION_CODES
from bff.sandbox.validation import non_empty_string, strict_int

bp = Blueprint("control", __name__)

_FAULT_FIELDS = {
    "status": "status",
    "retryAfter": "retry_after",
    "retry_after": "retry_after",
    "delay": "delay",
    "times": "times",
    "path": "path",
    "method": "method",
    "body": "body",
    "every": "every",
}


def _no_content() -> Response:
    return Response(status=204)


@bp.post(f"{CONTROL_PREFIX}faults")
def inject_fault() -> Response:
    """Inject a fault described by a JSON body with the `Simulator.faults.inject` keywords."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise KardError(400, "Body must be a JSON object", pointer="")
    unknown = sorted(set(body) - set(_FAULT_FIELDS))
    if unknown:
        raise KardError(400, f"Unknown fault field {unknown[0]}", pointer=f"/{unknown[0]}")
    options: dict[str, Any] = {_FAULT_FIELDS[key]: value for key, value in body.items()}
    try:
        simulator().faults.inject(**options)
    except (TypeError, ValueError) as error:
        raise KardError(400, str(error), pointer="") from None
    return json_response({"data": body}, 201)


@bp.delete(f"{CONTROL_PREFIX}faults")
def clear_faults() -> Response:
    """Remove every injected fault."""
    simulator().faults.clear()
    return _no_content()


@bp.post(f"{CONTROL_PREFIX}expire-tokens")
def expire_tokens() -> Response:
    """Invalidate every access token issued so far."""
    simulator().expire_access_tokens()
    return _no_content()


@bp.get(f"{CONTROL_PREFIX}calls")
def list_calls() -> Response:
    """List the recorded calls, oldest first."""
    return json_response({"data": [call.to_json() for call in simulator().calls]})


@bp.post(f"{CONTROL_PREFIX}expire-upload-urls")
def expire_upload_urls() -> Response:
    """Expire every presigned upload URL issued so far."""
    simulator().expire_upload_urls()
    return _no_content()


@bp.get(f"{CONTROL_PREFIX}uploads")
def list_uploads() -> Response:
    """List the files PUT to upload URLs, oldest first, with their processing state."""
    return json_response({"data": [file.to_json() for file in simulator().uploads.files]})


@bp.get(f"{CONTROL_PREFIX}webhooks")
def list_webhooks() -> Response:
    """List the webhooks sent (or found nowhere to go), oldest first."""
    return json_response({"data": [delivery.to_json() for delivery in simulator().webhooks]})


@bp.get(f"{CONTROL_PREFIX}historical-transactions")
def list_historical_transactions() -> Response:
    """List the historical transaction records accepted for `userId`, oldest first."""
    user_id = request.args.get("userId")
    if not user_id:
        raise KardError(400, "userId is required", parameter="userId")
    return json_response({"data": simulator().historical_transactions(user_id)})


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise KardError(400, "Body must be a JSON object", pointer="")
    return body


@bp.post(f"{CONTROL_PREFIX}users")
def enroll_user() -> Response:
    """Enroll `userId` (in `organizationId`, the simulator's own by default), as Create Users
    would; one already enrolled stays as it is."""
    body = _body()
    user_id, organization_id = body.get("userId"), body.get("organizationId")
    if not non_empty_string(user_id):
        raise KardError(400, "userId must be a non-empty string", pointer="/userId")
    if organization_id is not None and not isinstance(organization_id, str):
        raise KardError(400, "organizationId must be a string", pointer="/organizationId")
    sim = simulator()
    sim.enroll(user_id, organization_id)
    return json_response(
        {"data": sim.directory.get(organization_id or sim.organization_id, user_id)}, 201
    )


def _clock() -> Response:
    return json_response({"data": {"now": iso(simulator().now())}})


@bp.get(f"{CONTROL_PREFIX}clock")
def get_clock() -> Response:
    """Answer the simulated clock's time."""
    return _clock()


@bp.post(f"{CONTROL_PREFIX}clock")
def advance_clock() -> Response:
    """Move the simulated clock on by `advanceSeconds`; rewards that fall due are paid."""
    seconds = _body().get("advanceSeconds")
    valid = isinstance(seconds, int | float) and not isinstance(seconds, bool)
    if not valid or not math.isfinite(seconds) or seconds < 0:
        raise KardError(
            400, "advanceSeconds must be a number of seconds, 0 or more", pointer="/advanceSeconds"
        )
    simulator().advance_clock(seconds, host_webhook())
    return _clock()


@bp.post(f"{CONTROL_PREFIX}purchases")
def make_purchase() -> Response:
    """Make a test purchase: `userId` buys at `offerId`'s merchant (`amountInCents`, 5000 by
    default), reported to Incoming Transactions as settled."""
    body = _body()
    for key in ("userId", "offerId"):
        if not non_empty_string(body.get(key)):
            raise KardError(400, f"{key} must be a non-empty string", pointer=f"/{key}")
    amount = body.get("amountInCents", 5000)
    if not strict_int(amount) or amount <= 0:
        raise KardError(400, "amountInCents must be a positive integer", pointer="/amountInCents")
    transaction, reward = simulator().purchase(
        body["userId"], body["offerId"], amount, fallback=host_webhook()
    )
    return json_response(purchase_document(transaction, reward), 201)


@bp.post(f"{CONTROL_PREFIX}audits/<audit_id>/resolve")
def resolve_audit(audit_id: str) -> Response:
    """Close an audit as Kard's team would (`resolutionCode`, 5004 by default, and
    `resolutionDescription`); its auditUpdate is sent."""
    body = _body()
    code = body.get("resolutionCode", DEFAULT_RESOLUTION)
    if not strict_int(code) or code not in RESOLUTION_CODES:
        raise KardError(
            400, "resolutionCode must be one of Kard's resolution codes", pointer="/resolutionCode"
        )
    description = body.get("resolutionDescription", "Reward dispute resolved")
    if not isinstance(description, str):
        raise KardError(
            400, "resolutionDescription must be a string", pointer="/resolutionDescription"
        )
    audit = simulator().resolve_audit(audit_id, code, description, host_webhook())
    attributes = {key: value for key, value in audit.items() if key not in ("id", "resolvedAt")}
    return json_response({"data": {"type": "audit", "id": audit_id, "attributes": attributes}})


@bp.post(f"{CONTROL_PREFIX}reset")
def reset() -> Response:
    """Reset the simulator to a fresh state."""
    simulator().reset()
    return _no_content()
