"""Liveness and readiness for load balancers and orchestrators."""

import os
from pathlib import Path

from bff.current import settings
from bff.errors import Unavailable, UpstreamError
from bff.fleet.extension import shared_redis
from bff.jsonio import JsonBlueprint
from bff.kard.extension import kard

bp = JsonBlueprint("health", __name__)


@bp.get("/healthz")
def get_health():
    """Answer 200 while the process serves."""
    return {"status": "ok"}


@bp.get("/readyz")
def get_readiness():
    """Answer 200 when a Kard access token can be had and the state the service keeps can be
    written (Redis when configured, else the state directory); else 503 naming what fails."""
    problems = []
    shared = shared_redis()
    if shared is not None and not shared.ping():
        problems.append("Redis cannot be reached")
    state_dir = settings().state_dir
    if shared is None and not _writable(state_dir):
        problems.append(f"the state directory {state_dir} cannot be written")
    try:
        kard().tokens.get()
    except UpstreamError as exc:
        problems.append(f"no Kard access token ({exc.errors[0]['detail']})")
    if problems:
        raise Unavailable(f"Not ready: {'; '.join(problems)}.")
    return {"status": "ready"}


def _writable(directory: Path) -> bool:
    """Whether `directory` can be written, or created where it does not exist yet."""
    existing = next(
        (path for path in (directory, *directory.absolute().parents) if path.exists()), None
    )
    return existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
