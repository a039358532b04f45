"""Liveness and readiness for load balancers and orchestrators."""

from flask import Blueprint

from bff.errors import Unavailable, UpstreamError
from bff.kard.extension import kard

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def get_health():
    """Answer 200 while the process serves."""
    return {"status": "ok"}


@bp.get("/readyz")
def get_readiness():
    """Answer 200 when a Kard access token can be had, else 503."""
    try:
        kard().tokens.get()
    except UpstreamError as exc:
        raise Unavailable(f"Not ready: no Kard access token ({exc.errors[0]['detail']})") from exc
    return {"status": "ready"}
