"""Create Audits: validate audit requests and answer 201, 207 or 409."""

from collections.abc import Callable
from typing import Any

from bff.kard.vocabulary import AUDIT_CODES
from bff.sandbox.errors import error_object, multi_status
from bff.sandbox.validation import BodyErrors, data_array, non_empty_string, strict_int

_STRINGS = ("merchantName", "auditDescription", "transactionId")


def validated_audits(body: Any) -> list[dict[str, Any]]:
    """Return the audit attributes of a valid body; raise a 400 listing every problem otherwise."""
    data = data_array(body)
    errors = BodyErrors()
    for index, item in enumerate(data):
        attributes = errors.resource(item, f"/data/{index}", ("audit",))
        if attributes is None:
            continue
        here = f"/data/{index}/attributes"
        errors.require(
            attributes.get("auditCode"),
            f"{here}/auditCode",
            lambda code: strict_int(code) and code in AUDIT_CODES,
            "auditCode must be one of 3005, 3006, 8001",
        )
        for key in _STRINGS:
            errors.require(
                attributes.get(key), f"{here}/{key}", non_empty_string, "required string"
            )
    errors.raise_any()
    return [item["attributes"] for item in data]


def audits_response(
    audits: list[dict[str, Any]], claim: Callable[[dict[str, Any]], str | None]
) -> tuple[dict[str, Any], int]:
    """Open each audit (`claim` gives its ID, or None when its transaction has one already);
    answer 201 (all new), 409 (none) or 207 (some)."""
    accepted: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    for audit in audits:
        transaction_id = audit["transactionId"]
        audit_id = claim(audit)
        if audit_id is not None:
            accepted.append(
                {"type": "audit", "id": audit_id, "attributes": {"transactionId": transaction_id}}
            )
        else:
            conflicts.append(
                error_object(
                    409,
                    f"An audit already exists for transaction {transaction_id}",
                    resource_id=transaction_id,
                )
            )
    return multi_status(accepted, conflicts, accepted=bool(accepted), status=201)
