"""What the running app holds, for views: its settings, its Kard client and its CTA forms."""

import httpx
from flask import Flask, current_app

from bff import sandbox
from bff.cta import CtaForms
from bff.kard import KardClient
from bff.settings import Settings

# In sandbox without KARD_API_URL, the BFF calls the simulator mounted in this same app through a
# WSGI transport: the same HTTP requests and answers, without a socket or a port to know.
EMBEDDED_KARD_URL = "http://kard.embedded/sandbox/kard"


def init_app(app: Flask, settings: Settings) -> None:
    """Store the settings, mount the simulator in sandbox, and build the Kard client."""
    app.extensions["settings"] = settings
    app.extensions["cta_forms"] = CtaForms()
    transport = None
    if settings.sandbox:
        sandbox.init_app(app)
    api_url = settings.kard_api_url
    if api_url is None:
        api_url, transport = EMBEDDED_KARD_URL, httpx.WSGITransport(app=app)
    app.extensions["kard"] = KardClient(
        api_url=api_url,
        token_url=settings.kard_auth_url or f"{api_url}/v2/auth/token",
        client_id=settings.kard_client_id,
        client_secret=settings.kard_client_secret,
        organization_id=settings.kard_organization_id,
        target_issuer=settings.kard_target_issuer,
        timeout=settings.kard_timeout,
        transport=transport,
    )


def settings() -> Settings:
    """The current app's settings."""
    return current_app.extensions["settings"]


def cta_forms() -> CtaForms:
    """The call-to-action forms the current app serves."""
    return current_app.extensions["cta_forms"]


def kard() -> KardClient:
    """The current app's Kard client."""
    return current_app.extensions["kard"]
