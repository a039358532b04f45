"""The HTTP control surface (no auth) for tools and cross-process tests: faults, tokens, calls."""

from typing import Any

from flask import Blueprint, Response, request

from bff.sandbox.blueprint import CONTROL_PREFIX, json_response, simulator
from bff.sandbox.errors import KardError

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


@bp.post(f"{CONTROL_PREFIX}reset")
def reset() -> Response:
    """Reset the simulator to a fresh state."""
    simulator().reset()
    return _no_content()
