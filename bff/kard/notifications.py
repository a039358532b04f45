"""Kard's notification webhook payloads (Notification Webhook, version 2024-10-01), parsed.

Each documented type has its attribute table and the relationships it must carry. A payload of a
type Kard adds later is parsed too (its `type`, `id` and whatever attributes it has), so a new
event never breaks the webhook.
"""

from dataclasses import dataclass
from typing import Any

from bff.kard.schema import (
    Field,
    Problem,
    check_fields,
    date_time,
    integer,
    mapping,
    non_empty,
    one_of,
    string,
)
from bff.kard.vocabulary import AUDIT_CODES

_COMMISSION = {"type": Field(one_of(("cents",)), required=True), "value": Field(integer, True)}
_REWARD = {
    "message": Field(string, required=True),
    "name": Field(string, required=True),
    "attributionUrl": Field(string, required=True),
    "surveyUrl": Field(string),
    "cardProductId": Field(string),
}
_FAILED = {
    "message": Field(string, required=True),
    "reason": Field(string, required=True),
    "name": Field(string, required=True),
    "cardProductId": Field(string),
}
_AUDIT = {
    "status": Field(one_of(("NEW", "IN_PROGRESS", "CLOSED")), required=True),
    "auditCode": Field(one_of(AUDIT_CODES, "3005, 3006 or 8001"), required=True),
    "merchantName": Field(string, required=True),
    "auditDescription": Field(string, required=True),
    "transactionId": Field(string, required=True),
    "resolutionCode": Field(integer),
    "resolutionDescription": Field(string),
    "resolutionTimeStamp": Field(date_time),
}
_FILE = {
    "fileName": Field(string, required=True),
    "sentAt": Field(string, required=True),
    "lastModified": Field(string, required=True),
    "downloadUrl": Field(string, required=True),
}

# type -> (attribute table, the relationships it must have)
TYPES: dict[str, tuple[dict[str, Field], tuple[str, ...]]] = {
    "earnedRewardApproved": (_REWARD, ("user", "transaction")),
    "earnedRewardSettled": (
        {**_REWARD, "commissionEarned": Field(mapping, True, _COMMISSION)},
        ("user", "transaction"),
    ),
    "validTransaction": (
        {
            **_REWARD,
            "commissionEarned": Field(
                mapping,
                True,
                {
                    "issuer": Field(mapping, True, _COMMISSION),
                    "user": Field(mapping, True, _COMMISSION),
                },
            ),
        },
        ("user", "offer", "transaction"),
    ),
    "failedTransaction": (_FAILED, ("user", "offer", "transaction")),
    "clawback": (_FAILED, ("user", "offer", "transaction")),
    "auditUpdate": (_AUDIT, ("user", "audit")),
    "fileProcessingResult": (_FILE, ()),
}
_RELATIONSHIP = {
    "data": Field(
        mapping,
        True,
        {"type": Field(non_empty, required=True), "id": Field(non_empty, required=True)},
    )
}


@dataclass(frozen=True)
class Notification:
    """One notification from Kard; `body` is exactly the bytes Kard signed and sent."""

    id: str
    type: str
    attributes: dict[str, Any]
    related: dict[str, str]  # relationship name -> the related resource's ID
    meta: dict[str, Any]
    body: bytes

    @property
    def documented(self) -> bool:
        """Whether this is a type the 2024-10-01 reference describes."""
        return self.type in TYPES

    @property
    def user_id(self) -> str | None:
        """The user the notification is about, when it is about one."""
        return self.related.get("user")


class InvalidNotification(ValueError):
    """A payload that does not follow the documented shape; `problems` point into it."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{problems[0][0]} {problems[0][1]}")
        self.problems = problems


def parse_notification(payload: Any, body: bytes) -> Notification:
    """Check a decoded payload against its type's table; raise InvalidNotification if it fails."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise InvalidNotification([("/data", "must be an object")])
    data = payload["data"]
    problems: list[Problem] = []
    check_fields(
        data, {"type": Field(non_empty, True), "id": Field(non_empty, True)}, "/data", problems
    )
    attributes = data.get("attributes", {})
    kind = data.get("type")
    table, relationships = TYPES.get(kind, ({}, ())) if isinstance(kind, str) else ({}, ())
    if mapping(attributes) is not None:
        problems.append(("/data/attributes", "must be an object"))
    else:
        check_fields(attributes, table, "/data/attributes", problems)
    links = data.get("relationships", {})
    if mapping(links) is not None:
        problems.append(("/data/relationships", "must be an object"))
    else:
        required = {name: Field(mapping, True, _RELATIONSHIP) for name in relationships}
        check_fields(links, required, "/data/relationships", problems)
    meta = payload.get("meta", {})
    if mapping(meta) is not None:
        problems.append(("/meta", "must be an object"))
    if problems:
        raise InvalidNotification(problems)
    related = {
        name: link["data"]["id"]
        for name, link in links.items()
        if isinstance(link, dict)
        and isinstance(link.get("data"), dict)
        and isinstance(link["data"].get("id"), str)
    }
    return Notification(data["id"], data["type"], attributes, related, meta, body)
