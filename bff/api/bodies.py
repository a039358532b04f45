"""Reading request bodies, within the size limit however they are framed, with errors in the
contract's shape."""

from typing import Any

import orjson
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from bff.errors import BadRequest, Unprocessable

# Attribution batches of 1,000 events fit well inside this; anything larger is refused with 413.
MAX_BODY_BYTES = 1_000_000


def request_body() -> bytes:
    """The raw request body; 413 when it is over the request's limit (MAX_BODY_BYTES)."""
    body = request.get_data(cache=True)
    limit = request.max_content_length
    # Werkzeug refuses a Content-Length over the limit, but stops reading a chunked body at the
    # limit without a word: a streamed body that reaches the limit counts as over it.
    if request.content_length is None and limit is not None and len(body) >= limit:
        raise RequestEntityTooLarge()
    return body


def json_object(*, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; `{}` for an empty body when `optional`."""
    raw = request_body()
    if not raw.strip():
        if optional:
            return {}
        raise BadRequest("Send a JSON object as the request body.", pointer="")
    value = json_value(raw)
    if not isinstance(value, dict):
        raise Unprocessable("The request body must be a JSON object.", pointer="")
    return value


def json_value(raw: bytes) -> Any:
    """`raw`, a request body, parsed as JSON; 400 when it is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("The request body is not valid JSON.", pointer="") from exc
