"""A user's rewards history and reports of missing or wrong cashback."""

from bff.api.bodies import json_object
from bff.api.upstream import checked_query, rewritten
from bff.audits import check_audits
from bff.errors import Unprocessable
from bff.jsonio import JsonBlueprint
from bff.kard.extension import kard
from bff.offers.queries import EARNED_REWARDS
from bff.session import session_user

bp = JsonBlueprint("rewards", __name__, url_prefix="/api/v1")


@bp.get("/rewards")
def list_rewards():
    """List the session user's earned rewards (Kard Get Earned Rewards), links rewritten."""
    user_id = session_user()
    params = checked_query(EARNED_REWARDS)
    return rewritten(kard().earned_rewards(user_id, params), user_id)


@bp.post("/audits")
def create_audits():
    """Ask Kard to audit the session user's transactions; Kard's 201 or 207 comes back."""
    user_id = session_user()
    audits, errors = check_audits(json_object())
    if errors:
        raise Unprocessable(errors=errors)
    answer = kard().create_audits(user_id, audits)
    return answer.body, answer.status
