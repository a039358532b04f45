"""Every failure answered in the one JSON shape: the Flask side of `bff.errors`.

One handler per error family, registered by `init_app`::

    BffError             its status, error objects and headers (the tree of bff.errors)
    ThemeError           422, one "Invalid theme" error per problem (bff.themes.codec)
    InvalidNotification  422, one error per bad field of a notification (bff.kard.notifications)
    HTTPException        Werkzeug's own (404, 405, 413, 415, ...), its Allow and Retry-After kept;
                         registered for each status code too, since Flask looks for a handler of
                         the code in the app (a host's `errorhandler(404)`) before one of the
                         class in the blueprint
    RedisError           503 with Retry-After: a store that must keep something (the outbox, the
                         inbox) could not, so nothing was accepted (bff.fleet.connection)
    Exception            500, logged; the app learns nothing of it
"""

import logging

import redis
from flask import Blueprint, Flask, Response
from werkzeug.exceptions import HTTPException, default_exceptions

from bff.errors import DEFAULT_RETRY_AFTER, BffError, Unavailable, Unprocessable, error_object
from bff.jsonio import json_response
from bff.kard.notifications import InvalidNotification
from bff.themes.codec import ThemeError

log = logging.getLogger(__name__)

THEME_ERROR_TITLE = "Invalid theme"
REDIS_RETRY_AFTER = "2"  # Redis comes back in seconds (a restart, a failover), or not soon

_HTTP_DETAILS = {
    400: "The request is malformed.",
    404: "No such endpoint.",
    405: "This endpoint does not accept that method.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
}


def init_app(scope: Flask | Blueprint) -> None:
    """Answer every error of the scope, ours or Werkzeug's or unexpected, in the one JSON shape."""
    scope.register_error_handler(BffError, _answer)
    scope.register_error_handler(ThemeError, _answer_theme_error)
    scope.register_error_handler(InvalidNotification, _answer_invalid_notification)
    scope.register_error_handler(HTTPException, _answer_http_exception)
    for code in default_exceptions:
        scope.register_error_handler(code, _answer_http_exception)
    scope.register_error_handler(redis.RedisError, _answer_redis_error)
    scope.register_error_handler(Exception, _answer_unexpected)


def _answer(error: BffError) -> Response:
    response = json_response({"errors": error.errors}, error.status)
    response.headers.update(error.headers)
    return response


def _answer_theme_error(error: ThemeError) -> Response:
    errors = [
        error_object(422, THEME_ERROR_TITLE, problem.detail, pointer=problem.pointer)
        for problem in error.problems
    ]
    return _answer(Unprocessable(errors=errors, unreported=error.unreported))


def _answer_invalid_notification(error: InvalidNotification) -> Response:
    errors = [
        error_object(
            422,
            Unprocessable.title,
            f"{pointer.rsplit('/', 1)[-1] or 'The body'} {message}",
            pointer=pointer,
        )
        for pointer, message in error.problems
    ]
    return _answer(Unprocessable(errors=errors))


def _answer_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    detail = _HTTP_DETAILS.get(status, error.description or error.name)
    response = json_response({"errors": [error_object(status, error.name, detail)]}, status)
    headers = dict(error.get_headers())
    for name in ("Allow", "Retry-After"):
        if name in headers:
            response.headers[name] = headers[name]
    if status == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = DEFAULT_RETRY_AFTER
    return response


def _answer_redis_error(error: redis.RedisError) -> Response:
    log.warning("Redis failed while serving a request: %s", type(error).__name__)
    return _answer(
        Unavailable(
            "The service's shared state (Redis) cannot be reached, so nothing was accepted;"
            " try again shortly.",
            retry_after=REDIS_RETRY_AFTER,
        )
    )


def _answer_unexpected(error: Exception) -> Response:
    log.error("unhandled %s", type(error).__name__, exc_info=error)
    return _answer(BffError("The server hit an unexpected error; it has been logged."))
