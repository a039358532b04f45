"""`GET /metrics` for Prometheus: open in sandbox, else behind `BFF_METRICS_TOKEN` (a bearer
token), and not there at all without one."""

import hmac

from flask import Response, request

from bff.attributions.extension import delivery
from bff.current import clock, settings
from bff.errors import NotFound, Unauthorized
from bff.jsonio import JsonBlueprint
from bff.observability.metrics import exposition
from bff.observability.stores import StoreGauges
from bff.ratelimit.extension import limit_address
from bff.webhooks.extension import dispatcher

bp = JsonBlueprint("metrics", __name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/metrics")
def get_metrics() -> Response:
    """The metrics of every worker of this instance, in Prometheus's text format."""
    token = settings().metrics_token
    if token is None and not settings().sandbox:
        raise NotFound("No such endpoint.")
    if token is not None:
        limit_address()  # guessing the token costs a request like any other
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("GET /metrics needs the bearer token BFF_METRICS_TOKEN.")
    stores = StoreGauges(lambda: delivery().outbox, lambda: dispatcher().inbox, clock())
    body = exposition(stores)
    return Response(body, content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
