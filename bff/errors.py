"""Errors the BFF answers with: the exception tree, framework-neutral (no Flask here), so pure
modules raise and read them. `bff.api.errors` turns each family into the one JSON answer.

Every error body has Kard's JSON:API shape, so apps need one parser::

    {"errors": [{"status": "422", "title": "...", "detail": "...", "source": {"pointer": "/x"}}]}

One answer describes at most `MAX_REPORTED_ERRORS` errors, then one more error counts the rest.

The tree::

    BffError                      any error with a status and a list of error objects
    ├── BadRequest          400   bad query parameter (source.parameter) or body (source.pointer)
    ├── Unauthorized        401   missing or bad session token (WWW-Authenticate: Bearer)
    │   └── BadSignature    401   a webhook's notify-signature missing or wrong (source.header;
    │                             no WWW-Authenticate: Kard signs, it does not log in)
    ├── NotFound            404
    ├── TooLarge            413   a batch over its limit
    ├── Unprocessable       422   a body that parsed but is invalid, one error per bad field
    ├── RateLimited         429   past a rate limit (bff.ratelimit); carries Retry-After
    ├── Unavailable         503   a dependency other than Kard is down; carries Retry-After
    └── UpstreamError             Kard did not give a usable answer
        ├── UpstreamRejected    400/404/409 from Kard, with Kard's own error details
        │   └── InvalidPathSegment  400   an ID that cannot be one Kard path segment: nothing sent
        ├── UpstreamAuthFailed  502   Kard refused the BFF's credentials, even after a refresh
        │   └── PresignedUrlExpired 502   Kard's storage refused an expired presigned URL
        ├── UpstreamUnavailable 503   Kard said 429/503; carries Retry-After
        │   ├── KardCircuitOpen 503   the breaker is open: nothing sent; Retry-After: cooldown left
        │   └── KardBusy        503   every slot for a Kard call stayed taken: nothing sent
        ├── UpstreamFailed      502   other 5xx, an unreachable Kard, or an unreadable answer
        │   └── KardUnreachable 502   no connection: the request never left (any method may retry)
        └── UpstreamTimeout     504   no answer within KARD_TIMEOUT

Two errors of pure code stay outside the tree, each answered 422 by its own handler, one error
object per problem: `bff.themes.codec.ThemeError` and `bff.kard.notifications.InvalidNotification`.
"""

from typing import Any, ClassVar

DEFAULT_RETRY_AFTER = "5"
# Error objects one answer describes: a body with thousands of bad fields gets the first ones and
# a count, not an answer many times its own size.
MAX_REPORTED_ERRORS = 50


def error_object(
    status: int,
    title: str,
    detail: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> dict[str, Any]:
    """Build one JSON:API error object."""
    error: dict[str, Any] = {"status": str(status), "title": title, "detail": detail}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    elif parameter is not None:
        error["source"] = {"parameter": parameter}
    return error


def bounded(errors: list[dict[str, Any]], unreported: int = 0) -> list[dict[str, Any]]:
    """The first MAX_REPORTED_ERRORS error objects, then one that says how many more there are.

    `unreported` counts problems a check found but stopped describing, past the bound.
    """
    more = max(0, len(errors) - MAX_REPORTED_ERRORS) + unreported
    if not more:
        return errors
    first = errors[0]  # the count is of the same kind of error (Kard's own may lack a title)
    summary = {
        "status": first["status"],
        "title": first.get("title", "More errors"),
        "detail": f"... and {more:,} more {'problem' if more == 1 else 'problems'}.",
    }
    return [*errors[:MAX_REPORTED_ERRORS], summary]


class BffError(Exception):
    """An error answered to the app with a status and a list of JSON:API error objects."""

    status = 500
    title = "Internal error"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        detail: str = "",
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        retry_after: str | None = None,
        unreported: int = 0,
    ):
        super().__init__(detail or self.title)
        if self.status == 503:
            self.headers = {**self.headers, "Retry-After": retry_after or DEFAULT_RETRY_AFTER}
        given = errors or [
            error_object(
                self.status, self.title, detail or self.title, pointer=pointer, parameter=parameter
            )
        ]
        self.errors = bounded(given, unreported)


class BadRequest(BffError):
    status = 400
    title = "Bad request"


class Unauthorized(BffError):
    status = 401
    title = "Unauthorized"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": "Bearer"}


class BadSignature(Unauthorized):
    """A webhook whose notify-signature is missing or does not match: 401 without a challenge."""

    headers: ClassVar[dict[str, str]] = {}


class SignInRequired(Unauthorized):
    """No user signed in to the host app that embeds kard-bff: 401 without a Bearer challenge,
    the host's login being its own."""

    headers: ClassVar[dict[str, str]] = {}


class Forbidden(BffError):
    status = 403
    title = "Forbidden"


class NotFound(BffError):
    status = 404
    title = "Not found"


class TooLarge(BffError):
    status = 413
    title = "Payload too large"


class Unprocessable(BffError):
    status = 422
    title = "Unprocessable entity"


class RateLimited(BffError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: str):
        super().__init__(detail)
        self.headers = {**self.headers, "Retry-After": retry_after}


class Unavailable(BffError):
    status = 503
    title = "Service unavailable"


class UpstreamError(BffError):
    status = 502
    title = "Bad gateway"


class UpstreamRejected(UpstreamError):
    """Kard refused the request itself (400/404/409): its status and details pass through."""

    def __init__(self, status: int, errors: list[dict[str, Any]]):
        self.status = status
        super().__init__(errors=errors)


class InvalidPathSegment(UpstreamRejected):
    """An ID that cannot be one segment of a Kard path (empty, "." or ".."): nothing is sent.

    A 400 like Kard's own refusals, so a view answers it and the outbox drops (never retries) it.
    """

    def __init__(self) -> None:
        detail = 'An ID in a Kard path cannot be empty, "." or "..".'
        super().__init__(400, [error_object(400, "Invalid ID", detail)])


class UpstreamAuthFailed(UpstreamError):
    title = "Kard authentication failed"


class PresignedUrlExpired(UpstreamAuthFailed):
    """Kard's storage refused a presigned URL because it has expired: ask Kard for a new one."""

    title = "Presigned URL expired"


class UpstreamUnavailable(UpstreamError):
    status = 503
    title = "Kard unavailable"


class KardCircuitOpen(UpstreamUnavailable):
    """The circuit breaker is open, Kard having failed call after call: nothing was sent
    (`bff.kard.protection`). A 503 like Kard's own, so the outbox keeps what it could not send."""

    def __init__(self, *, retry_after: str):
        super().__init__(
            "Kard keeps failing; the BFF stops calling it for a while.", retry_after=retry_after
        )


class KardBusy(UpstreamUnavailable):
    """Every slot for Kard calls in this process stayed taken (`KARD_MAX_CONCURRENCY`): nothing
    was sent."""

    def __init__(self, *, retry_after: str):
        super().__init__(
            "Too many Kard calls are in flight; try again soon.", retry_after=retry_after
        )


class UpstreamFailed(UpstreamError):
    title = "Kard error"


class KardUnreachable(UpstreamFailed):
    """Kard could not be reached and the request never left, so any method may be retried."""


class UpstreamTimeout(UpstreamError):
    status = 504
    title = "Kard timeout"
