"""Create Attribution Events: validate the event batch against the spec."""

from typing import Any

from bff.kard.vocabulary import ATTRIBUTION_MEDIUMS, EVENT_CODES, MAX_ATTRIBUTION_EVENTS
from bff.sandbox.validation import (
    BodyErrors,
    data_array,
    iso_datetime,
    non_empty_string,
    strict_int,
)


def validated_events(body: Any) -> list[dict[str, Any]]:
    """Return the events of a valid request body; raise a 400 listing every problem otherwise."""
    data = data_array(body, maximum=MAX_ATTRIBUTION_EVENTS)
    errors = BodyErrors()
    for index, event in enumerate(data):
        _check_event(errors, f"/data/{index}", event)
    errors.raise_any()
    return data


def _check_event(errors: BodyErrors, pointer: str, event: Any) -> None:
    attributes = errors.resource(event, pointer, ATTRIBUTION_MEDIUMS)
    if attributes is None:
        return
    here = f"{pointer}/attributes"
    errors.require(
        attributes.get("entityId"), f"{here}/entityId", non_empty_string, "required string"
    )
    errors.require(
        attributes.get("eventCode"),
        f"{here}/eventCode",
        lambda code: code in EVENT_CODES,
        f"eventCode must be one of {', '.join(EVENT_CODES)}",
    )
    kind = event.get("type")
    if isinstance(kind, str) and kind in ATTRIBUTION_MEDIUMS:
        mediums = ATTRIBUTION_MEDIUMS[kind]
        errors.require(
            attributes.get("medium"),
            f"{here}/medium",
            lambda medium: medium in mediums,
            f"medium must be one of {', '.join(mediums)} for {kind}",
        )
    errors.require(
        attributes.get("eventDate"),
        f"{here}/eventDate",
        iso_datetime,
        "eventDate must be an ISO 8601 date-time",
    )
    if "state" in attributes:
        _check_state(errors, f"{here}/state", attributes["state"])


def _check_state(errors: BodyErrors, pointer: str, state: Any) -> None:
    if not errors.require(state, pointer, lambda s: isinstance(s, dict), "must be an object"):
        return
    if "rank" in state:
        errors.require(
            state["rank"],
            f"{pointer}/rank",
            lambda rank: strict_int(rank) and rank >= 1,
            "rank must be an integer >= 1",
        )
    filters = state.get("filters")
    if filters is None:
        return
    if not errors.require(
        filters, f"{pointer}/filters", lambda f: isinstance(f, list), "must be an array"
    ):
        return
    for index, item in enumerate(filters):
        here = f"{pointer}/filters/{index}"
        if errors.require(item, here, lambda i: isinstance(i, dict), "must be an object"):
            for key in ("name", "value"):
                errors.require(
                    item.get(key), f"{here}/{key}", lambda v: isinstance(v, str), "required string"
                )
