"""What the URL map says about the current request's path, for fallback routes that answer 405."""

from flask import current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

ROUTABLE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def methods_routed_elsewhere() -> list[str]:
    """The methods another route than the current one takes for the request's path."""
    adapter = current_app.create_url_adapter(request)
    routed = []
    for method in ROUTABLE_METHODS:
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != request.endpoint:
            routed.append(method)
    return routed


def method_not_allowed(allowed: list[str]) -> MethodNotAllowed:
    """A 405 whose Allow names `allowed`, with HEAD and OPTIONS as Flask's own routes add them."""
    extra = ["HEAD"] if "GET" in allowed else []
    return MethodNotAllowed(valid_methods=[*allowed, *extra, "OPTIONS"])
