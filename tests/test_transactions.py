"""The historical transaction field tables: the guide's examples pass, each rule is enforced."""

import copy

import pytest

from bff.kard.transactions import part_item_errors, record_errors

# The two example lines of the bulk upload guide, as printed there.
HISTORICAL = {
    "id": "309rjfoincor3icno3rind093cdow3jciwjdwcm",
    "type": "historicalTransaction",
    "attributes": {
        "userId": "6FHt5b6Fnp0qdomMEy5AN6PXcSJIeX69",
        "transactionId": "2467de37-cbdc-416d-a359-75de87bfffb0",
        "status": "APPROVED",
        "amount": 1000,
        "subtotal": 800,
        "currency": "USD",
        "direction": "DEBIT",
        "paymentType": "CARD",
        "description": "ADVANCEAUTO",
        "description2": "ADVANCEAUTO",
        "mcc": "1234",
        "cardBIN": "123456",
        "cardLastFour": "4321",
        "cardNetwork": "VISA",
        "authorizationDate": "2021-07-02T17:47:06Z",
        "authorizationCode": "123456",
        "retrievalReferenceNumber": "100804333919",
        "acquirerReferenceNumber": "1234567890123456789012345678",
        "systemTraceAuditNumber": "333828",
        "merchant": {
            "id": "12345678901234567",
            "name": "ADVANCEAUTO",
            "addrStreet": "125 Main St",
            "addrCity": "Philadelphia",
            "addrState": "PA",
            "addrZipcode": "19147",
            "addrCountry": "United States",
            "latitude": "37.9419429",
            "longitude": "-73.1446869",
            "storeId": "12345",
        },
    },
}
CORE = {
    "id": "a1b2c3d4e5f6g7h8i9j0",
    "type": "coreHistoricalTransaction",
    "attributes": {
        "userId": "6FHt5b6Fnp0qdomMEy5AN6PXcSJIeX69",
        "transactionId": "2467de37-cbdc-416d-a359-75de87bfffb0",
        "amount": 1000,
        "currency": "USD",
        "description": "ADVANCEAUTO",
        "direction": "DEBIT",
        "status": "SETTLED",
        "settledDate": "2021-07-02T17:47:06Z",
        "authorizationDate": "2021-07-02T17:47:06Z",
        "financialInstitutionId": "First National Bank",
        "cardLastFours": ["4321", "8765"],
    },
}
HISTORICAL_REQUIRED = [
    "userId",
    "transactionId",
    "amount",
    "currency",
    "status",
    "direction",
    "description",
    "cardBIN",
    "cardLastFour",
    "authorizationDate",
    "merchant",
]
CORE_REQUIRED = [
    "userId",
    "transactionId",
    "amount",
    "currency",
    "description",
    "direction",
    "status",
    "settledDate",
    "authorizationDate",
]


def changed(record: dict, **attributes) -> dict:
    record = copy.deepcopy(record)
    for name, value in attributes.items():
        if value is None:
            del record["attributes"][name]
        else:
            record["attributes"][name] = value
    return record


def pointers(problems) -> list[str]:
    return [pointer for pointer, _ in problems]


def test_the_guides_example_lines_are_valid():
    assert record_errors(HISTORICAL) == []
    assert record_errors(CORE) == []


@pytest.mark.parametrize("name", HISTORICAL_REQUIRED)
def test_each_required_historical_field_is_required(name):
    problems = record_errors(changed(HISTORICAL, **{name: None}))
    assert problems == [(f"/attributes/{name}", "is required")]


@pytest.mark.parametrize("name", CORE_REQUIRED)
def test_each_required_core_field_is_required(name):
    assert record_errors(changed(CORE, **{name: None})) == [(f"/attributes/{name}", "is required")]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("amount", "1000", "must be an integer"),
        ("amount", True, "must be an integer"),
        ("amount", 10.5, "must be an integer"),
        ("currency", "usd", "must be an ISO 4217 currency code, like USD"),
        ("status", "PENDING", "must be one of APPROVED, SETTLED, REVERSED, RETURNED, DECLINED"),
        ("direction", "UP", "must be DEBIT or CREDIT"),
        ("paymentType", "CASH", "must be CARD"),
        ("cardBIN", "12345", "must be the first 6 digits of the card"),
        ("cardLastFour", 4321, "must be the last 4 digits of the card"),
        ("cardNetwork", "JCB", "must be one of VISA, MASTERCARD, AMERICANEXPRESS, DISCOVER"),
        ("authorizationDate", "2021-07-02", "must be an ISO 8601 date-time"),
        ("authorizationDate", "2021-07-02T17:47:06", "must be an ISO 8601 date-time"),
        ("authorizationDate", "2021-13-02T17:47:06Z", "must be an ISO 8601 date-time"),
        ("userId", "  ", "must be a non-empty string"),
        ("merchant", "ADVANCEAUTO", "must be an object"),
        ("mcc", 1234, "must be a string"),
    ],
)
def test_each_field_is_checked_with_a_message_that_says_what_it_must_be(name, value, message):
    ((pointer, problem),) = record_errors(changed(HISTORICAL, **{name: value}))
    assert pointer == f"/attributes/{name}"
    assert problem.startswith(message)


def test_date_times_with_offsets_and_fractions_are_valid():
    for value in ("2021-07-02T17:47:06.123Z", "2021-07-02T17:47:06+02:00", "2021-07-02T17:47Z"):
        assert record_errors(changed(HISTORICAL, authorizationDate=value)) == []


def test_merchant_fields_are_checked_inside_the_object():
    record = changed(HISTORICAL, merchant={"name": 7, "addrState": "Pennsylvania"})
    assert record_errors(record) == [("/attributes/merchant/name", "must be a string")]


def test_core_transactions_are_always_settled_and_list_last_fours():
    assert record_errors(changed(CORE, status="APPROVED")) == [
        ("/attributes/status", "must be SETTLED")
    ]
    assert pointers(record_errors(changed(CORE, cardLastFours=["4321", "87"]))) == [
        "/attributes/cardLastFours"
    ]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ([], ["/"]),
        ("text", [""]),
        ({}, ["/type", "/id", "/attributes"]),
        ({"type": "incomingTransaction", "id": "x", "attributes": {}}, ["/type"]),
        ({"type": "historicalTransaction", "id": "", "attributes": []}, ["/id", "/attributes"]),
        ({"type": ["historicalTransaction"], "id": "x", "attributes": {}}, ["/type"]),
    ],
)
def test_the_record_envelope_is_checked(record, expected):
    assert pointers(record_errors(record)) == [pointer.rstrip("/") for pointer in expected]


def test_fields_the_tables_do_not_name_are_let_through():
    assert record_errors(changed(HISTORICAL, settledDate="whatever", cardProductId=1)) == []


def test_an_upload_part_item_needs_a_payment_type_and_the_date_its_status_names():
    item = changed(HISTORICAL, paymentType=None)
    assert part_item_errors(item) == [("/attributes/paymentType", "is required")]
    for status, date in (("SETTLED", "settledDate"), ("DECLINED", "transactionDate")):
        problems = part_item_errors(changed(HISTORICAL, status=status))
        assert problems == [(f"/attributes/{date}", f"is required when status is {status}")]
    assert (
        part_item_errors(
            changed(HISTORICAL, status="RETURNED", transactionDate="2021-07-03T10:00:00Z")
        )
        == []
    )


def test_an_upload_part_item_needs_a_merchant_name_and_a_us_state_but_no_merchant():
    assert part_item_errors(changed(HISTORICAL, merchant=None)) == []
    problems = part_item_errors(changed(HISTORICAL, merchant={"addrState": "ZZ"}))
    assert problems == [
        ("/attributes/merchant/name", "is required"),
        ("/attributes/merchant/addrState", "must be a US state code, like PA"),
    ]


def test_an_upload_part_item_is_a_historical_transaction():
    assert pointers(part_item_errors(CORE)) == ["/type"]


def test_an_upload_part_item_with_a_status_of_the_wrong_json_type_is_an_error_not_a_crash():
    problems = part_item_errors(changed(HISTORICAL, status=["SETTLED"]))
    assert pointers(problems) == ["/attributes/status"]
