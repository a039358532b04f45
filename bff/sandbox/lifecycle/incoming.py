"""Create Incoming Transactions: the three event types, checked as the reference (version
2024-10-01) describes them, at most 500 per request; and the fraud markers that follow them.

`transaction` takes TransactionsAttributes, the schema Add Upload Part takes too, with the date
its status requires; `coreTransaction` is the bulk guide's core record (plus the deprecated
`financialInstitutionName`); `matchedTransaction` has its own table, and the rules the reference
gives in prose for what each `paymentType` must omit or carry.
"""

from datetime import datetime
from typing import Any

from bff.kard.schema import Field, Problem, date_time, integer, mapping, non_empty, one_of, string
from bff.kard.transactions import (
    CORE_HISTORICAL,
    PART_ATTRIBUTES,
    PART_MERCHANT,
    resource_errors,
    status_date_problems,
)
from bff.sandbox.uploads.ingest import kard_problems

TRANSACTION, MATCHED, CORE = "transaction", "matchedTransaction", "coreTransaction"
MAX_TRANSACTIONS = 500  # per request, for Create Incoming Transactions and fraud markers alike
MATCHED_PAYMENT_TYPES = ("CARD", "CASH", "UNKNOWN")

MATCHED_ATTRIBUTES = {
    "userId": Field(non_empty, required=True),
    "transactionId": Field(non_empty, required=True),
    "amount": Field(integer, required=True),
    "subtotal": Field(integer),
    "description": Field(non_empty, required=True),
    "authorizationDate": Field(date_time, required=True),
    "direction": PART_ATTRIBUTES["direction"],
    "paymentType": Field(one_of(MATCHED_PAYMENT_TYPES), required=True),
    "matchedOfferId": Field(non_empty),
    "matchedLocationId": Field(non_empty),
    "merchant": Field(mapping, table=PART_MERCHANT),
    "cardBIN": Field(PART_ATTRIBUTES["cardBIN"].check),
    "cardLastFour": Field(PART_ATTRIBUTES["cardLastFour"].check),
    "cardNetwork": PART_ATTRIBUTES["cardNetwork"],
    "cardProductId": Field(string),
    "orderId": Field(string),
    "receiptMedium": Field(one_of(("ELECTRONIC", "PHYSICAL"))),
    **{
        name: Field(string)
        for name in (
            "authorizationCode",
            "retrievalReferenceNumber",
            "systemTraceAuditNumber",
            "acquirerReferenceNumber",
        )
    },
}
CORE_ATTRIBUTES = {**CORE_HISTORICAL, "financialInstitutionName": Field(string)}
TABLES = {TRANSACTION: PART_ATTRIBUTES, MATCHED: MATCHED_ATTRIBUTES, CORE: CORE_ATTRIBUTES}
# Flag Fraudulent Transactions: the `id` is the transaction's, the attributes name its user.
FRAUD_TABLES = {"fraudulentTransaction": {"userId": Field(non_empty, required=True)}}

# What a matchedTransaction must omit for each payment type that has no card.
_OMITTED = {
    "CASH": ("cardBIN", "cardLastFour", "cardNetwork", "cardProductId"),
    "UNKNOWN": ("cardBIN", "cardNetwork", "cardProductId", "matchedLocationId"),
}


def item_problems(item: Any, now: datetime) -> list[Problem]:
    """Return the problems of one item of a Create Incoming Transactions body; [] if valid."""
    problems = resource_errors(item, TABLES)
    if not problems:
        attributes = item["attributes"]
        if item["type"] == TRANSACTION:
            problems += status_date_problems(attributes)
        elif item["type"] == MATCHED:
            problems += _payment_problems(attributes)
    return problems + kard_problems(item, problems, now)


def fraud_problems(item: Any) -> list[Problem]:
    """Return the problems of one item of a Flag Fraudulent Transactions body; [] if valid."""
    return resource_errors(item, FRAUD_TABLES)


def _payment_problems(attributes: dict[str, Any]) -> list[Problem]:
    """The reference's prose rules of a matchedTransaction's payment type."""
    payment = attributes["paymentType"]
    problems = [
        (f"/attributes/{name}", f"must be omitted when paymentType is {payment}")
        for name in _OMITTED.get(payment, ())
        if name in attributes
    ]
    card_less_unknown = "orderId" not in attributes and "cardLastFour" not in attributes
    if payment == "UNKNOWN" and "matchedOfferId" in attributes and card_less_unknown:
        problems.append(
            (
                "/attributes/matchedOfferId",
                "must be omitted when paymentType is UNKNOWN with neither orderId nor cardLastFour",
            )
        )
    if payment == "CARD" and "matchedOfferId" in attributes and "cardLastFour" not in attributes:
        problems.append(
            (
                "/attributes/cardLastFour",
                "is required when paymentType is CARD with a matchedOfferId",
            )
        )
    return problems


def purchase_date(item: dict[str, Any]) -> datetime:
    """When the purchase was made: its authorization, else (a single message) its settlement,
    else the date of the event."""
    attributes = item["attributes"]
    for name in ("authorizationDate", "settledDate", "transactionDate"):
        if name in attributes:
            return datetime.fromisoformat(attributes[name])
    raise ValueError("a validated transaction always has a date")


def event_date(item: dict[str, Any]) -> datetime:
    """When the event happened: the date its status requires, else its authorization."""
    attributes = item["attributes"]
    status = status_of(item)
    name = {"SETTLED": "settledDate", "APPROVED": "authorizationDate"}.get(
        status, "transactionDate"
    )
    return datetime.fromisoformat(attributes.get(name) or attributes["authorizationDate"])


def status_of(item: dict[str, Any]) -> str:
    """The transaction status an event carries: a core or pre-matched one is settled."""
    return item["attributes"]["status"] if item["type"] == TRANSACTION else "SETTLED"
