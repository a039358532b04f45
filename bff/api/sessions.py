"""Who the BFF acts for: lets app developers check their session token end to end."""

from bff.current import settings
from bff.jsonio import JsonBlueprint
from bff.session import session_user

bp = JsonBlueprint("sessions", __name__, url_prefix="/api/v1")


@bp.get("/session")
def get_session():
    """Answer the Kard user ID the session token maps to."""
    return {"userId": session_user(), "authMode": settings().auth_mode}
