"""Sandbox-only helpers for trying the API without an issuer backend."""

from bff.api.bodies import json_object
from bff.current import now, settings
from bff.errors import NotFound, Unprocessable
from bff.jsonio import JsonBlueprint
from bff.kard.extension import kard
from bff.ratelimit.extension import limit_address
from bff.session import DEV_SESSION_SECONDS, MAX_USER_ID_LENGTH, session_verifier

bp = JsonBlueprint("dev", __name__, url_prefix="/dev")
bp.before_request(limit_address)


@bp.post("/session")
def create_session():
    """Enroll the user with Kard (Create Users; one already enrolled is fine), then mint a
    one-hour session token, signed as the `dev` or `hs256` verifier expects."""
    if settings().auth_mode == "jwks":
        raise NotFound(
            "POST /dev/session mints tokens in dev and hs256 modes; in jwks mode only your "
            "issuer holds a signing key."
        )
    user_id = json_object().get("userId")
    if not isinstance(user_id, str) or not user_id.strip():
        raise Unprocessable("userId must be a non-empty string.", pointer="/userId")
    if len(user_id) > MAX_USER_ID_LENGTH or not user_id.isprintable():
        raise Unprocessable(
            f"userId must be printable text of at most {MAX_USER_ID_LENGTH} characters.",
            pointer="/userId",
        )
    if user_id in (".", ".."):
        raise Unprocessable('userId cannot be "." or "..".', pointer="/userId")
    kard().enroll_user(user_id)
    token = session_verifier().mint(user_id, now=now())
    return {"token": token, "tokenType": "Bearer", "expiresIn": DEV_SESSION_SECONDS}
