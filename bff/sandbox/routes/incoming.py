"""Kard's Create Incoming Transactions (events validated, each new one applied to the reward
lifecycle before the answer; the webhooks it causes are sent after, in the background) and Flag
Fraudulent Transactions."""

import uuid

from flask import Blueprint, Response, request

from bff.sandbox.blueprint import authenticated, host_webhook, json_response, simulator
from bff.sandbox.errors import multi_status
from bff.sandbox.lifecycle.incoming import MAX_TRANSACTIONS
from bff.sandbox.validation import data_array

bp = Blueprint("incoming", __name__)


@bp.post("/v2/issuers/<organization_id>/transactions")
@authenticated
def create_transactions(organization_id: str) -> Response:
    """Create Incoming Transactions: 202 when every event is taken, 207 when some are, else
    the events' own errors (400, or 409 when each was received before)."""
    items = data_array(request.get_json(silent=True), maximum=MAX_TRANSACTIONS)
    taken, errors = simulator().receive_transactions(organization_id, items, host_webhook())
    job = {
        "type": "transactionJob",
        "id": str(uuid.uuid4()),
        "attributes": {"status": "queued", "message": f"{taken} transactions queued"},
    }
    document, status = multi_status(job, errors, accepted=taken > 0, status=202)
    return json_response(document, status)


@bp.post("/v2/issuers/<organization_id>/fraud")
@authenticated
def flag_fraudulent_transactions(organization_id: str) -> Response:
    """Flag Fraudulent Transactions: 200 when each is flagged, 207 when some are, else 400."""
    items = data_array(request.get_json(silent=True), maximum=MAX_TRANSACTIONS)
    flagged, errors = simulator().flag_fraud(organization_id, items, host_webhook())
    data = [{"type": i["type"], "id": i["id"], "attributes": i["attributes"]} for i in flagged]
    document, status = multi_status(data, errors, accepted=bool(flagged), status=200)
    return json_response(document, status)
