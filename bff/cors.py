"""CORS for `/api/v1`: only the web origins in `BFF_CORS_ORIGINS` may call it from a browser.

With a host's cookie sessions (`credentials`), those origins may send the cookie
(`Access-Control-Allow-Credentials`) and `X-Kard-BFF`, which `bff.cross_site` asks for."""

from flask import Blueprint, Flask, Response, request

from bff.cross_site import REQUIRED_HEADER

API_PREFIX = "/api/v1/"
ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-ID"
CREDENTIALED_HEADERS = f"{ALLOWED_HEADERS}, {REQUIRED_HEADER}"
PREFLIGHT_MAX_AGE = "600"
# What a page may read of an answer: its request ID, when to retry, and the rate limit.
EXPOSED_HEADERS = "X-Request-ID, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset"


def init_app(
    scope: Flask | Blueprint,
    origins: tuple[str, ...],
    url_prefix: str = "",
    *,
    credentials: bool = False,
) -> None:
    """Answer preflights and mark the scope's responses under `url_prefix`/api/v1 readable by
    the allowed origins (with their cookies, for `credentials`)."""
    allowed = frozenset(origins)
    if not allowed:
        return  # no browser may call the API: nothing to add to any response
    api_prefix = url_prefix + API_PREFIX
    allowed_headers = CREDENTIALED_HEADERS if credentials else ALLOWED_HEADERS

    @scope.after_request
    def add_cors_headers(response: Response) -> Response:
        if not request.path.startswith(api_prefix):
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin not in allowed:
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = allowed_headers
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
