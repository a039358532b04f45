"""Kard's failures, translated once into `bff.errors` types: transport errors and error statuses.

Kard's three kinds of endpoint map their error statuses through one table, `StatusErrors`:

    status        API (`API_ERRORS`)    token (`TOKEN_ERRORS`)  storage (`STORAGE_ERRORS`)
    400/404/409   UpstreamRejected      UpstreamAuthFailed      UpstreamFailed
    401           UpstreamAuthFailed    UpstreamAuthFailed      UpstreamFailed
    403           UpstreamAuthFailed    UpstreamAuthFailed      UpstreamAuthFailed (or, expired,
                                                                PresignedUrlExpired: see storage)
    other 4xx     UpstreamFailed        UpstreamAuthFailed      UpstreamFailed
    429/503       UpstreamUnavailable, with Kard's Retry-After when it is well formed
    other         UpstreamFailed
"""

import logging
from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bff.errors import (
    KardUnreachable,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamFailed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bff.retries import retry_after_seconds

PASSED_THROUGH_STATUSES = frozenset({400, 404, 409})
BUSY_STATUSES = frozenset({429, 503})
REFRESHED_STATUSES = frozenset({401, 403})  # Kard refused the token: renew it, retry once


@dataclass(frozen=True)
class StatusErrors:
    """How one kind of Kard endpoint's error statuses become `bff.errors` types.

    The details may name `{status}` and whatever the caller passes to `error`.
    """

    busy: str
    refused: str
    refused_statuses: Container[int]
    failed: str
    passed_through: Container[int] = frozenset()

    def error(self, response: httpx.Response, **names: str) -> UpstreamError:
        """The error to raise for `response`, an answer that is not a success."""
        status = response.status_code
        if status in self.passed_through:
            return UpstreamRejected(status, kard_errors(response))
        if status in BUSY_STATUSES:
            retry_after = valid_retry_after(response.headers.get("Retry-After"))
            return UpstreamUnavailable(self.busy.format(**names), retry_after=retry_after)
        if status in self.refused_statuses:
            return UpstreamAuthFailed(self.refused.format(**names))
        return UpstreamFailed(self.failed.format(status=status, **names))


API_ERRORS = StatusErrors(
    passed_through=PASSED_THROUGH_STATUSES,
    refused_statuses=REFRESHED_STATUSES,
    refused="Kard refused the BFF's credentials for this request.",
    busy="Kard is busy or unavailable; try again later.",
    failed="Kard answered {status}.",
)
TOKEN_ERRORS = StatusErrors(
    refused_statuses=range(400, 500),
    refused="Kard refused the BFF's client credentials.",
    busy="Kard's token endpoint is busy or unavailable; try again later.",
    failed="Kard's token endpoint answered {status}.",
)
STORAGE_ERRORS = StatusErrors(  # the details name `what`: the upload or the download
    refused_statuses=frozenset({403}),
    refused="Kard's storage refused the presigned {what} URL.",
    busy="Kard's storage is busy or unavailable; try again later.",
    failed="Kard's storage answered {status} to the {what}.",
)


@contextmanager
def translate_transport_errors(timeout: float) -> Iterator[None]:
    """Turn httpx's transport failures inside the block into `bff.errors` types."""
    try:
        yield
    except httpx.ConnectError as exc:
        raise KardUnreachable("Kard could not be reached.") from exc
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"Kard did not answer within {timeout:g} s.") from exc
    except httpx.TransportError as exc:
        raise UpstreamFailed("Kard could not be reached.") from exc


def kard_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """Kard's error objects, kept as Kard sent them; a generic one when the body is unreadable."""
    status = str(response.status_code)
    try:
        errors = response.json()["errors"]
    except (ValueError, KeyError, TypeError):
        errors = None
    if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
        return [{"status": status, **error} for error in errors]
    return [
        {"status": status, "title": "Kard rejected the request", "detail": response.reason_phrase}
    ]


def valid_retry_after(header: str | None) -> str | None:
    """Kard's Retry-After when it is well formed, so nothing odd is echoed to apps."""
    if header is None or retry_after_seconds(header) is None:
        return None
    return header.strip()


def log_level(status: int) -> int:
    """Quiet for successes, INFO for the app's own bad requests, WARNING for Kard's trouble."""
    if status < 400:
        return logging.DEBUG
    return logging.INFO if status in PASSED_THROUGH_STATUSES else logging.WARNING
