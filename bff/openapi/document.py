"""Build the OpenAPI document for one app's settings (sandbox-only operations only in sandbox)."""

from typing import Any

from bff.settings import Settings

OPENAPI_VERSION = "3.1.1"


def build_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every endpoint this app serves."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "kard-bff", "version": "1"},
        "paths": {
            "/healthz": {
                "get": {
                    "operationId": "getHealth",
                    "responses": {"200": {"description": "The process serves."}},
                }
            }
        },
    }
