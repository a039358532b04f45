"""Kard's historical transaction records and one validator for them.

The field tables come from the bulk upload guide (`historicalTransaction`,
`coreHistoricalTransaction`) and from Add Upload Part's `TransactionsAttributes` schema (the
deprecated per-user flow). Both the `kard-bff history` commands (before uploading) and the sandbox
simulator (as Kard, after) check records with them. Fields the tables do not name are let through.
"""

from typing import Any

from bff.kard.schema import (
    Field,
    Problem,
    check_fields,
    date_time,
    integer,
    list_of,
    mapping,
    matching,
    non_empty,
    one_of,
    string,
)
from bff.kard.vocabulary import STATES

HISTORICAL_TYPES = ("historicalTransaction", "coreHistoricalTransaction")
TRANSACTION_STATUSES = ("APPROVED", "SETTLED", "REVERSED", "RETURNED", "DECLINED")
DIRECTIONS = ("DEBIT", "CREDIT")
PAYMENT_TYPES = ("CARD",)
CARD_NETWORKS = ("VISA", "MASTERCARD", "AMERICANEXPRESS", "DISCOVER")
MAX_PART_ITEMS = 500  # Add Upload Part takes at most 500 transactions per request

_CURRENCY = matching(r"[A-Z]{3}", "an ISO 4217 currency code, like USD")
_CARD_BIN = matching(r"\d{6}", "the first 6 digits of the card")
_LAST_FOUR = matching(r"\d{4}", "the last 4 digits of the card")

# The guide's merchant object: every field a string.
MERCHANT = {
    name: Field(string)
    for name in (
        "id",
        "name",
        "addrStreet",
        "addrCity",
        "addrState",
        "addrZipcode",
        "addrCountry",
        "latitude",
        "longitude",
        "storeId",
    )
}

HISTORICAL = {
    "userId": Field(non_empty, required=True),
    "transactionId": Field(non_empty, required=True),
    "amount": Field(integer, required=True),
    "subtotal": Field(integer),
    "currency": Field(_CURRENCY, required=True),
    "status": Field(one_of(TRANSACTION_STATUSES), required=True),
    "direction": Field(one_of(DIRECTIONS), required=True),
    "paymentType": Field(one_of(PAYMENT_TYPES)),
    "description": Field(non_empty, required=True),
    "description2": Field(string),
    "mcc": Field(string),
    "cardBIN": Field(_CARD_BIN, required=True),
    "cardLastFour": Field(_LAST_FOUR, required=True),
    "cardNetwork": Field(one_of(CARD_NETWORKS)),
    "authorizationDate": Field(date_time, required=True),
    "merchant": Field(mapping, required=True, table=MERCHANT),
    "authorizationCode": Field(string),
    "retrievalReferenceNumber": Field(string),
    "acquirerReferenceNumber": Field(string),
    "systemTraceAuditNumber": Field(string),
}

CORE_HISTORICAL = {
    "userId": Field(non_empty, required=True),
    "transactionId": Field(non_empty, required=True),
    "amount": Field(integer, required=True),
    "currency": Field(_CURRENCY, required=True),
    "description": Field(non_empty, required=True),
    "direction": Field(one_of(DIRECTIONS), required=True),
    "status": Field(one_of(("SETTLED",)), required=True),  # always SETTLED for core banking
    "settledDate": Field(date_time, required=True),
    "authorizationDate": Field(date_time, required=True),
    "financialInstitutionId": Field(string),
    "cardLastFours": Field(list_of(_LAST_FOUR, "4-digit strings")),
}

BULK_TABLES = {"historicalTransaction": HISTORICAL, "coreHistoricalTransaction": CORE_HISTORICAL}

# Add Upload Part: TransactionsAttributes, whose Merchant needs a name and a US state code.
PART_MERCHANT = {
    **MERCHANT,
    "name": Field(non_empty, required=True),
    "addrState": Field(one_of(STATES, "a US state code, like PA")),
}
PROCESSOR_MIDS = {
    "processor": Field(one_of(("VISA",)), required=True),
    "mids": Field(
        mapping,
        required=True,
        table={"vmid": Field(non_empty, required=True), "vsid": Field(non_empty, required=True)},
    ),
}
PART_ATTRIBUTES = {
    **{name: HISTORICAL[name] for name in HISTORICAL if name != "merchant"},
    "paymentType": Field(one_of(PAYMENT_TYPES), required=True),
    "authorizationDate": Field(date_time),
    "settledDate": Field(date_time),
    "transactionDate": Field(date_time),
    "merchant": Field(mapping, table=PART_MERCHANT),
    "coreProviderId": Field(string),
    "cardPresence": Field(string),
    "panEntryMode": Field(string),
    "cardProductId": Field(string),
    "userZipCode": Field(string),
    "processorMids": Field(mapping, table=PROCESSOR_MIDS),
}
# The date each status requires (Add Upload Part).
DATE_FOR_STATUS = {
    "APPROVED": "authorizationDate",
    "SETTLED": "settledDate",
    "REVERSED": "transactionDate",
    "RETURNED": "transactionDate",
    "DECLINED": "transactionDate",
}


def record_errors(record: Any) -> list[Problem]:
    """The problems of one line of a bulk upload file; [] when it is valid."""
    return resource_errors(record, BULK_TABLES)


def part_item_errors(item: Any) -> list[Problem]:
    """The problems of one item of Add Upload Part; [] when it is valid."""
    problems = resource_errors(item, {"historicalTransaction": PART_ATTRIBUTES})
    attributes = item.get("attributes") if isinstance(item, dict) else None
    if isinstance(attributes, dict):
        problems += status_date_problems(attributes)
    return problems


def status_date_problems(attributes: dict[str, Any]) -> list[Problem]:
    """The date a transaction's status requires, when it is missing."""
    status = attributes.get("status")
    date = DATE_FOR_STATUS.get(status) if isinstance(status, str) else None
    if date and date not in attributes:
        return [(f"/attributes/{date}", f"is required when status is {status}")]
    return []


def resource_errors(record: Any, tables: dict[str, dict[str, Field]]) -> list[Problem]:
    """The problems of a resource `{type, id, attributes}` whose type names its table in
    `tables`; [] when it is valid."""
    if not isinstance(record, dict):
        return [("", "must be a JSON object")]
    problems: list[Problem] = []
    record_type = record.get("type")
    table = tables.get(record_type) if isinstance(record_type, str) else None
    if table is None:
        problems.append(("/type", f"must be one of {', '.join(tables)}"))
    if non_empty(record.get("id")) is not None:
        problems.append(("/id", "must be a non-empty string"))
    attributes = record.get("attributes")
    if not isinstance(attributes, dict):
        problems.append(("/attributes", "must be an object"))
    elif table is not None:
        check_fields(attributes, table, "/attributes", problems)
    return problems
