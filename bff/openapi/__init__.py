"""The OpenAPI 3.1 description of the BFF's HTTP API, built from the code's own tables."""

from bff.openapi.document import build_document

__all__ = ["build_document"]
