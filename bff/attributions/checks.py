"""Attribution events, checked one by one the way Kard's Create Attribution Events takes them.

`check_event` returns the event as it will be sent (dates in UTC with a `Z`, the receipt time when
`eventDate` is missing) and every problem it found, each with a JSON pointer, so a batch can
report all of one event's errors at once and still send its valid neighbours.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bff.errors import TooLarge, Unprocessable, bounded, error_object
from bff.kard.vocabulary import ATTRIBUTION_MEDIUMS, EVENT_CODES
from bff.pointers import escape
from bff.timestamps import utc_timestamp

ERROR_TITLE = "Invalid attribution event"
# Devices' clocks drift; an event a day ahead of the BFF's clock is a bug, not drift.
MAX_FUTURE = timedelta(days=1)
# No offer attribution predates this. With MAX_FUTURE it keeps dates far from years 1 and 9999,
# where converting to UTC overflows.
EARLIEST_EVENT_DATE = datetime(2000, 1, 1, tzinfo=UTC)
MAX_ENTITY_ID_LENGTH = 128
MAX_FILTERS = 50
EVENT_KEYS = ("type", "attributes")
ATTRIBUTE_KEYS = ("entityId", "eventCode", "medium", "eventDate", "state")
STATE_KEYS = ("rank", "filters")

MAX_BATCH_EVENTS = 1000

Errors = list[dict[str, Any]]


@dataclass
class Batch:
    """An app's batch, checked: the unique valid events (with their indexes), and the rest."""

    received: int
    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"index", "errors"}


def check_batch(body: dict[str, Any], now: datetime) -> Batch:
    """Check each event of `{"data": [...]}` on its own and drop exact duplicates.

    Raise `Unprocessable` when `data` is not a list of events, `TooLarge` when it holds more
    than 1,000.
    """
    data = body.get("data")
    if not isinstance(data, list) or not data:
        detail = 'Send {"data": [event, ...]} with 1 to 1,000 attribution events.'
        raise Unprocessable(detail, pointer="/data")
    if len(data) > MAX_BATCH_EVENTS:
        detail = f"A batch holds at most {MAX_BATCH_EVENTS} events, not {len(data)}."
        raise TooLarge(detail, pointer="/data")
    batch = Batch(received=len(data))
    seen: set[str] = set()
    for index, raw in enumerate(data):
        event, errors = check_event(raw, f"/data/{index}", now)
        if errors:
            batch.rejected.append({"index": index, "errors": bounded(errors)})
            continue
        key = json.dumps(event, sort_keys=True)
        if key in seen:
            batch.duplicates += 1
            continue
        seen.add(key)
        batch.events.append((index, event))
    return batch


def check_event(raw: Any, pointer: str, now: datetime) -> tuple[dict[str, Any] | None, Errors]:
    """Check one `{"type", "attributes"}` event; return it normalized (or None) and its errors."""
    if not isinstance(raw, dict):
        return None, [_error(pointer, "Each event must be an object with type and attributes.")]
    errors = _unknown_keys(raw, EVENT_KEYS, pointer)
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in ATTRIBUTION_MEDIUMS:
        allowed = ", ".join(ATTRIBUTION_MEDIUMS)
        errors.append(_error(f"{pointer}/type", f"type must be one of {allowed}."))
        kind = None
    attributes = raw.get("attributes")
    if not isinstance(attributes, dict):
        errors.append(_error(f"{pointer}/attributes", "attributes must be an object."))
        return None, errors
    checked, attribute_errors = check_attributes(attributes, kind, f"{pointer}/attributes", now)
    errors.extend(attribute_errors)
    if errors or kind is None:
        return None, errors
    return {"type": kind, "attributes": checked}, errors


def check_attributes(
    attributes: dict[str, Any], kind: str | None, pointer: str, now: datetime
) -> tuple[dict[str, Any], Errors]:
    """Check an event's attributes (`kind` None: its type was bad, so the medium is not judged)."""
    errors = _unknown_keys(attributes, ATTRIBUTE_KEYS, pointer)
    checked: dict[str, Any] = {}

    entity_id = attributes.get("entityId")
    if not _is_text(entity_id, MAX_ENTITY_ID_LENGTH):
        detail = f"entityId must be 1 to {MAX_ENTITY_ID_LENGTH} characters."
        errors.append(_error(f"{pointer}/entityId", detail))
    checked["entityId"] = entity_id

    event_code = attributes.get("eventCode")
    if event_code not in EVENT_CODES:
        detail = f"eventCode must be one of {', '.join(EVENT_CODES)}."
        errors.append(_error(f"{pointer}/eventCode", detail))
    checked["eventCode"] = event_code

    medium = attributes.get("medium")
    if kind is not None and medium not in ATTRIBUTION_MEDIUMS[kind]:
        detail = f"medium of a {kind} must be one of {', '.join(ATTRIBUTION_MEDIUMS[kind])}."
        errors.append(_error(f"{pointer}/medium", detail))
    checked["medium"] = medium

    event_date, date_error = _event_date(attributes.get("eventDate"), now)
    if date_error:
        errors.append(_error(f"{pointer}/eventDate", date_error))
    checked["eventDate"] = event_date

    if "state" in attributes:
        state, state_errors = _state(attributes["state"], f"{pointer}/state")
        errors.extend(state_errors)
        checked["state"] = state
    return checked, errors


VIEW_BODY_KEYS = ("medium", "eventDate", "state")


def view_event(offer_id: str, body: dict[str, Any], now: datetime) -> tuple[dict[str, Any], Errors]:
    """The VIEW `offerAttribution` for an offer detail page (body: medium, eventDate, state)."""
    errors = _unknown_keys(body, VIEW_BODY_KEYS, "")
    attributes = {"entityId": offer_id, "eventCode": "VIEW", "medium": body.get("medium", "BROWSE")}
    attributes.update((key, body[key]) for key in ("eventDate", "state") if key in body)
    checked, attribute_errors = check_attributes(attributes, "offerAttribution", "", now)
    return {"type": "offerAttribution", "attributes": checked}, errors + attribute_errors


def _event_date(value: Any, now: datetime) -> tuple[str | None, str | None]:
    if value is None:
        return utc_timestamp(now), None
    problem = "eventDate must be an ISO 8601 date-time with a zone, like 2025-01-01T00:00:00Z."
    if not isinstance(value, str) or "T" not in value:
        return None, problem
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, problem
    if moment.tzinfo is None:
        return None, problem
    # Compared, never converted: comparing aware datetimes cannot overflow.
    if moment < EARLIEST_EVENT_DATE:
        return None, f"eventDate is out of range: it is before {EARLIEST_EVENT_DATE:%Y-%m-%d}."
    if moment - now > MAX_FUTURE:
        return None, "eventDate is out of range: it is more than a day in the future."
    return utc_timestamp(moment), None


def _state(state: Any, pointer: str) -> tuple[dict[str, Any] | None, Errors]:
    if not isinstance(state, dict):
        return None, [_error(pointer, "state must be an object with rank and filters.")]
    errors = _unknown_keys(state, STATE_KEYS, pointer)
    rank = state.get("rank")
    if "rank" in state and (type(rank) is not int or rank < 1):
        errors.append(_error(f"{pointer}/rank", "rank must be a whole number, 1 or more."))
    filters = state.get("filters")
    if "filters" in state:
        errors.extend(_filters(filters, f"{pointer}/filters"))
    return dict(state), errors


def _filters(filters: Any, pointer: str) -> Errors:
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        return [_error(pointer, f"filters must be a list of at most {MAX_FILTERS} objects.")]
    errors = []
    for index, item in enumerate(filters):
        where = f"{pointer}/{index}"
        if not isinstance(item, dict):
            errors.append(_error(where, "Each filter must be an object with name and value."))
            continue
        errors.extend(_unknown_keys(item, ("name", "value"), where))
        for key in ("name", "value"):
            if not _is_text(item.get(key), 200):
                errors.append(_error(f"{where}/{key}", f"{key} must be 1 to 200 characters."))
    return errors


def _unknown_keys(value: dict[str, Any], allowed: tuple[str, ...], pointer: str) -> Errors:
    names = ", ".join(allowed)
    return [
        _error(f"{pointer}/{escape(key)}", f"Unknown field {key!r}; allowed: {names}.")
        for key in value
        if key not in allowed
    ]


def _is_text(value: Any, max_length: int) -> bool:
    return isinstance(value, str) and value.strip() != "" and len(value) <= max_length


def _error(pointer: str, detail: str) -> dict[str, Any]:
    return error_object(422, ERROR_TITLE, detail, pointer=pointer)
