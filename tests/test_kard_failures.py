"""Kard's error statuses, mapped by one table for the API, the token endpoint and the storage."""

import httpx
import pytest

from bff.errors import (
    UpstreamAuthFailed,
    UpstreamFailed,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bff.kard.failures import API_ERRORS, STORAGE_ERRORS, TOKEN_ERRORS

DATE = "Wed, 21 Oct 2026 07:28:00 GMT"
API_BUSY = "Kard is busy or unavailable; try again later."
API_REFUSED = "Kard refused the BFF's credentials for this request."
TOKEN_REFUSED = "Kard refused the BFF's client credentials."
TOKEN_BUSY = "Kard's token endpoint is busy or unavailable; try again later."
STORAGE_BUSY = "Kard's storage is busy or unavailable; try again later."
STORAGE_REFUSED = "Kard's storage refused the presigned upload URL."


@pytest.mark.parametrize(
    ("table", "status", "retry_after", "expected", "detail"),
    [
        (API_ERRORS, 401, None, UpstreamAuthFailed, API_REFUSED),
        (API_ERRORS, 403, None, UpstreamAuthFailed, API_REFUSED),
        (API_ERRORS, 422, None, UpstreamFailed, "Kard answered 422."),
        (API_ERRORS, 429, "7", UpstreamUnavailable, API_BUSY),
        (API_ERRORS, 500, None, UpstreamFailed, "Kard answered 500."),
        (API_ERRORS, 302, None, UpstreamFailed, "Kard answered 302."),
        (TOKEN_ERRORS, 400, None, UpstreamAuthFailed, TOKEN_REFUSED),
        (TOKEN_ERRORS, 404, None, UpstreamAuthFailed, TOKEN_REFUSED),
        (TOKEN_ERRORS, 429, "7", UpstreamUnavailable, TOKEN_BUSY),
        (TOKEN_ERRORS, 201, None, UpstreamFailed, "Kard's token endpoint answered 201."),
        (TOKEN_ERRORS, 500, None, UpstreamFailed, "Kard's token endpoint answered 500."),
        (STORAGE_ERRORS, 403, None, UpstreamAuthFailed, STORAGE_REFUSED),
        (STORAGE_ERRORS, 401, None, UpstreamFailed, "Kard's storage answered 401 to the upload."),
        (STORAGE_ERRORS, 404, None, UpstreamFailed, "Kard's storage answered 404 to the upload."),
        (STORAGE_ERRORS, 503, "7", UpstreamUnavailable, STORAGE_BUSY),
    ],
)
def test_each_status_is_its_error_with_its_detail(table, status, retry_after, expected, detail):
    headers = {"Retry-After": retry_after} if retry_after else {}
    error = table.error(httpx.Response(status, headers=headers), what="upload")
    assert type(error) is expected
    assert str(error) == error.errors[0]["detail"] == detail
    assert error.headers.get("Retry-After") == retry_after


@pytest.mark.parametrize("status", [400, 404, 409])
def test_kards_own_refusals_pass_through_with_its_details(status):
    body = {"errors": [{"title": "Invalid Request", "detail": "no such offer"}]}
    error = API_ERRORS.error(httpx.Response(status, json=body))
    assert type(error) is UpstreamRejected and error.status == status
    assert error.errors == [{"status": str(status), **body["errors"][0]}]


def test_an_unreadable_refusal_gets_a_generic_error_object():
    error = API_ERRORS.error(httpx.Response(404, content=b"<html>"))
    assert error.errors == [
        {"status": "404", "title": "Kard rejected the request", "detail": "Not Found"}
    ]


@pytest.mark.parametrize(
    ("given", "echoed"), [(" 30 ", "30"), (DATE, DATE), ("soon", "5"), ("-1", "5"), (None, "5")]
)
def test_a_busy_answer_echoes_a_well_formed_retry_after_else_the_default(given, echoed):
    headers = {"Retry-After": given} if given is not None else {}
    error = API_ERRORS.error(httpx.Response(503, headers=headers))
    assert error.headers["Retry-After"] == echoed
