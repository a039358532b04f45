"""`GET /openapi.json`: the API described, for people (`/docs`) and for client generators."""

from bff.current import mount, parts, settings
from bff.jsonio import JsonBlueprint
from bff.openapi import build_document

bp = JsonBlueprint("openapi", __name__)


@bp.get("/openapi.json")
def get_openapi_document():
    """The OpenAPI 3.1 document of this service, as configured and mounted (sandbox operations
    in sandbox)."""
    kept = parts()
    if "openapi" not in kept:
        kept["openapi"] = build_document(settings(), mount())
    return kept["openapi"]
