"""Reading JSON request bodies with errors in the contract's shape."""

from typing import Any

import orjson
from flask import request

from bff.errors import BadRequest, Unprocessable


def json_object(*, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; `{}` for an empty body when `optional`."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise BadRequest("Send a JSON object as the request body.", pointer="")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("The request body is not valid JSON.", pointer="") from exc
    if not isinstance(value, dict):
        raise Unprocessable("The request body must be a JSON object.", pointer="")
    return value
