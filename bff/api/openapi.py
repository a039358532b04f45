"""`GET /openapi.json`: the API described, for people (`/docs`) and for client generators."""

from flask import Blueprint, current_app

from bff.current import settings
from bff.openapi import build_document

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def get_openapi_document():
    """The OpenAPI 3.1 document of this service, as configured (sandbox operations in sandbox)."""
    extensions = current_app.extensions
    if "openapi" not in extensions:
        extensions["openapi"] = build_document(settings())
    return extensions["openapi"]
