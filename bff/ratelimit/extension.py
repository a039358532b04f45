"""The rate limits of the app: per session user (`BFF_RATE_LIMIT`), across every `/api/v1`
endpoint that needs a session, and per client address (`BFF_CLIENT_RATE_LIMIT`) on the endpoints
without one (themes, the webhook, the dev session). Health checks, pages and static files are
not limited: load balancers and browsers hit those.

A limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`,
errors included; past the limit the answer is 429 with `Retry-After`, before anything goes
upstream.
"""

from flask import Blueprint, Flask, Response, g, request

from bff import current
from bff.errors import RateLimited
from bff.fleet import extension as fleet
from bff.observability.extension import metrics
from bff.ratelimit import RateLimiter, Verdict
from bff.ratelimit.addresses import client_address
from bff.settings import Settings


def init_app(app: Flask, scope: Flask | Blueprint, settings: Settings) -> None:
    """Build the app's limiters (none for a limit turned off) and add the headers to answers."""
    shared, clock = fleet.shared_redis(app), current.clock(app)
    current.parts(app)["rate_limiters"] = {
        scope: RateLimiter(limit, namespace=scope, shared=shared, clock=clock)
        for scope, limit in (("user", settings.rate_limit), ("address", settings.client_rate_limit))
        if limit is not None
    }
    scope.after_request(_add_headers)


def limit_user(name: str) -> None:
    """Count a request of the session user, named opaquely (`Keys.name`); 429 past
    `BFF_RATE_LIMIT`."""
    _check("user", name)


def limit_address() -> None:
    """Count a request from the client's address; 429 past `BFF_CLIENT_RATE_LIMIT`. A
    blueprint's `before_request`."""
    address = client_address(
        request.remote_addr or "",
        request.headers.getlist("X-Forwarded-For"),
        current.settings().trusted_proxies,
    )
    _check("address", fleet.keys().name(address))


def _check(scope: str, identity: str) -> None:
    limiter = current.parts()["rate_limiters"].get(scope)
    if limiter is None:
        return
    g.rate_limit = verdict = limiter.hit(identity)
    if not verdict.allowed:
        metrics().rate_limited(scope)
        raise RateLimited(
            f"Too many requests; try again in {verdict.reset} s.", retry_after=str(verdict.reset)
        )


def _add_headers(response: Response) -> Response:
    verdict: Verdict | None = g.get("rate_limit")
    if verdict is not None:
        response.headers.extend(verdict.headers())  # never set elsewhere: no need to replace
    return response
