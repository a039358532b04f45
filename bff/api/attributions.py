"""Attribution batches from apps: every accepted event reaches Kard, now or later."""

from bff.api.bodies import json_object
from bff.attributions.checks import check_batch
from bff.attributions.extension import send_events
from bff.current import utc_now
from bff.errors import Unprocessable
from bff.jsonio import JsonBlueprint
from bff.session import session_user

bp = JsonBlueprint("attributions", __name__, url_prefix="/api/v1")


@bp.post("/attributions")
def create_attributions():
    """Check a batch of up to 1,000 events, send the valid ones to Kard (or queue them); 202."""
    user_id = session_user()
    now = utc_now()
    batch = check_batch(json_object(), now)
    if not batch.events:
        raise Unprocessable(errors=[e for r in batch.rejected for e in r["errors"]])
    outcome = send_events(user_id, batch.events)
    rejected = sorted(batch.rejected + outcome.rejected, key=lambda item: item["index"])
    return {
        "data": {
            "received": batch.received,
            "accepted": outcome.forwarded + outcome.queued,
            "duplicates": batch.duplicates,
            "forwarded": outcome.forwarded,
            "queued": outcome.queued,
            "rejected": rejected,
        }
    }, 202
