"""kard-bff's routes as one blueprint, `kard_bff`: its endpoints, their hooks and error answers
apply under its prefix only, and a path under it that no route serves is answered in kard-bff's
error shape (404, or 405 with the methods its path takes)."""

from flask import Blueprint

from bff.errors import NotFound
from bff.routing import ROUTABLE_METHODS, method_not_allowed, methods_routed_elsewhere

NAME = "kard_bff"
UNROUTED = f"{NAME}.unrouted"  # the endpoint of a path under the prefix that no route serves


def create_blueprint(*, unrouted_root: bool = False) -> Blueprint:
    """A fresh `kard_bff` blueprint for one app (hooks cannot be added once it is registered).
    With `unrouted_root`, the prefix itself (`/rewards`, `/rewards/`) is one of its unserved
    paths too: where it is mounted under a prefix without its index page."""
    bp = Blueprint(NAME, __name__)
    # OPTIONS too, and no automatic answer to it: a path nothing serves is a 404 for every method.
    unrouted = {
        "view_func": _unrouted,
        "methods": [*ROUTABLE_METHODS, "OPTIONS"],
        "provide_automatic_options": False,
    }
    bp.add_url_rule("/<path:unknown>", "unrouted", **unrouted)
    if unrouted_root:  # `/rewards/`, and `/rewards` too (no redirect)
        bp.add_url_rule("/", "unrouted", defaults={"unknown": ""}, strict_slashes=False, **unrouted)
    return bp


def _unrouted(unknown: str) -> None:
    allowed = methods_routed_elsewhere()
    if allowed:
        raise method_not_allowed(allowed)
    raise NotFound("No such endpoint.")
