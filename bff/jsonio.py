"""JSON in and out with orjson, which measures several times faster than the standard library."""

from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider


class OrjsonProvider(JSONProvider):
    """Flask's JSON provider, backed by orjson (compact output, keys in insertion order)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(orjson.dumps(obj), mimetype="application/json")


class WholeBodyResponse(Response):
    """A response whose body is in memory goes to the server as one bytes object in a list, so a
    server can send it in one write (granian: `response_bytes`); any other body is streamed."""

    def get_app_iter(self, environ):
        app_iter = super().get_app_iter(environ)
        if not self.is_sequence:
            return app_iter
        try:
            return [b"".join(app_iter)]
        finally:
            app_iter.close()
