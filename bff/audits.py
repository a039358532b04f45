"""Audit requests (a user reports a missing or wrong cashback), checked the way Kard's Create
Audits takes them: each bad field is its own 422 error with a JSON pointer."""

from typing import Any

from bff.errors import error_object
from bff.kard.vocabulary import AUDIT_CODES
from bff.pointers import escape

ERROR_TITLE = "Invalid audit"
MAX_AUDITS = 100
# Generous bounds for Kard's free-text fields; the seeds give none.
TEXT_LIMITS = {"merchantName": 200, "auditDescription": 2000, "transactionId": 200}
ATTRIBUTE_KEYS = ("auditCode", *TEXT_LIMITS)

Errors = list[dict[str, Any]]


def check_audits(body: dict[str, Any]) -> tuple[list[dict[str, Any]], Errors]:
    """The audits of `{"data": [{"type": "audit", "attributes": {...}}]}`, and every problem."""
    data = body.get("data")
    if not isinstance(data, list) or not 1 <= len(data) <= MAX_AUDITS:
        return [], [_error("/data", f"data must be a list of 1 to {MAX_AUDITS} audits.")]
    errors: Errors = [_error(f"/{escape(key)}", "Unknown field.") for key in body if key != "data"]
    audits = []
    for index, raw in enumerate(data):
        pointer = f"/data/{index}"
        if not isinstance(raw, dict) or raw.get("type") != "audit":
            errors.append(_error(pointer, 'Each audit is {"type": "audit", "attributes": {...}}.'))
            continue
        attributes = raw.get("attributes")
        if not isinstance(attributes, dict):
            errors.append(_error(f"{pointer}/attributes", "attributes must be an object."))
            continue
        errors += _check_attributes(attributes, f"{pointer}/attributes")
        audits.append({"type": "audit", "attributes": attributes})
    return audits, errors


def _check_attributes(attributes: dict[str, Any], pointer: str) -> Errors:
    errors = [
        _error(f"{pointer}/{escape(key)}", f"Unknown field; allowed: {', '.join(ATTRIBUTE_KEYS)}.")
        for key in attributes
        if key not in ATTRIBUTE_KEYS
    ]
    code = attributes.get("auditCode")
    if type(code) is not int or code not in AUDIT_CODES:
        codes = ", ".join(map(str, AUDIT_CODES))
        errors.append(_error(f"{pointer}/auditCode", f"auditCode must be one of {codes}."))
    for key, limit in TEXT_LIMITS.items():
        value = attributes.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            errors.append(_error(f"{pointer}/{key}", f"{key} must be 1 to {limit} characters."))
    return errors


def _error(pointer: str, detail: str) -> dict[str, Any]:
    return error_object(422, ERROR_TITLE, detail, pointer=pointer)
