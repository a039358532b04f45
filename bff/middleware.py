"""What every response carries: an `X-Request-ID`, and headers that keep JSON from being sniffed
or cached; and what no response is: a Werkzeug redirect page, or one that sets a cookie."""

import logging
import random
import re

from flask import Blueprint, Flask, Response, g, has_request_context, request
from flask.sessions import NullSession, SessionInterface
from werkzeug.routing import RequestRedirect

from bff.errors import NotFound

REQUEST_ID_HEADER = "X-Request-ID"
# An app's own request ID is echoed only when it is short and plain, so logs stay clean.
_GOOD_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"  # the header, read from the environ: no Headers view


class NoCookieSessions(SessionInterface):
    """Flask's `session`, for a service that keeps no cookie: one shared empty, read-only session,
    so no request reads the cookie jar or builds a session object."""

    _empty = NullSession()

    def open_session(self, app: Flask, request: object) -> NullSession:
        return self._empty

    def save_session(self, app: Flask, session: object, response: Response) -> None:
        """Never called: Flask saves no null session."""


def init_app(scope: Flask | Blueprint) -> None:
    """Tag each of the scope's requests with an ID, and set the baseline response headers."""
    scope.before_request(_assign_request_id)
    scope.after_request(_finish_response)


def init_service(app: Flask) -> None:
    """What the standalone service sets for the whole app it owns: no session, and no
    Werkzeug redirect page (routing happens before any blueprint's hook could refuse it)."""
    app.session_interface = NoCookieSessions()
    app.before_request(_refuse_redirects)


def request_id() -> str:
    """The current request's ID, or "-" outside a request."""
    return g.get("request_id", "-") if has_request_context() else "-"


class RequestIdFilter(logging.Filter):
    """Add `request_id` to every log record, so one request's lines can be found together
    (unless it has one: the access log's lines are written once the request has ended)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


def request_id_for(given: str) -> str:
    """The ID of a request that sent `given` as its X-Request-ID: it, if short and plain, else
    a new one."""
    return given if _GOOD_REQUEST_ID.match(given) else _new_request_id()


def _assign_request_id() -> None:
    g.request_id = request_id_for(request.environ.get(_REQUEST_ID_ENVIRON, ""))


def _refuse_redirects() -> None:
    # Werkzeug would answer `//x` or a missing trailing slash with an HTML redirect that no error
    # handler sees; the BFF serves exact paths only, and answers in JSON.
    if isinstance(request.routing_exception, RequestRedirect):
        raise NotFound("No such endpoint.")


def _finish_response(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or _new_request_id()
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if headers.get("Content-Type", "").startswith("application/json"):
        headers.setdefault("Cache-Control", "no-store")
    return response


def _new_request_id() -> str:
    # An ID only needs to be unique, not unguessable: no system call for randomness per request.
    return f"{random.getrandbits(128):032x}"
