"""Kard's auth endpoints: issuer access tokens for client credentials, WebView tokens for users."""

from typing import Any

from flask import Blueprint, Response, request

from bff.sandbox.auth import client_credentials
from bff.sandbox.blueprint import authenticated, json_response, simulator

bp = Blueprint("auth", __name__)
_NO_STORE = {"Cache-Control": "no-store"}


def _token_document(access_token: str, expires_in: int) -> dict[str, Any]:
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in}


@bp.post("/v2/auth/token")
def issue_access_token() -> Response:
    """Exchange client credentials for an issuer access token."""
    client_id, client_secret = client_credentials(
        request.headers.get("Authorization"), request.form, request.get_json(silent=True)
    )
    sim = simulator()
    target_issuer = request.headers.get("X-Kard-Target-Issuer")
    tokens = sim.tokens
    token = tokens.issue(sim.client.organization(client_id, client_secret, target_issuer))
    return json_response(_token_document(token.value, tokens.ttl), headers=_NO_STORE)


@bp.post("/v2/auth/issuers/<organization_id>/users/<user_id>/token")
@authenticated
def issue_webview_token(organization_id: str, user_id: str) -> Response:
    """Issue a WebView JWT for the user."""
    signer = simulator().webview
    document = _token_document(signer.issue(organization_id, user_id), signer.ttl)
    return json_response(document, headers=_NO_STORE)
