"""The Kard part of the app: its client, and the per-user WebView tokens the client mints.

In sandbox without `KARD_API_URL`, the client calls the simulator mounted in this same app
through a WSGI transport: the same HTTP requests and answers, without a socket or a port to know.
"""

import httpx
from flask import Flask

from bff import current
from bff.fleet import extension as fleet
from bff.fleet.cache import FleetCache
from bff.kard.client import HttpTracing, KardClient, KardObserver
from bff.kard.protection import CircuitBreaker, Protection
from bff.observability.extension import http_tracing, metrics
from bff.settings import Settings
from bff.webview import WebViewTokens

EMBEDDED_KARD_ORIGIN = "http://kard.embedded"  # what the WSGI transport's requests name


def init_app(app: Flask, settings: Settings) -> None:
    """Build the app's Kard client and its WebView tokens, shared by the fleet with Redis."""
    transport = None
    api_url = settings.kard_api_url
    if api_url is None:
        api_url = f"{EMBEDDED_KARD_ORIGIN}{current.url_prefix(app)}/sandbox/kard"
        transport = httpx.WSGITransport(app=app)
    shared = fleet.fleet_cache(app)
    observer = metrics(app) if settings.metrics else None
    current.parts(app)["kard"] = client = kard_client(
        settings, api_url, transport, shared, observer, http_tracing(app)
    )
    current.parts(app)["webview_tokens"] = WebViewTokens(
        client.webview_token, clock=current.clock(app), fleet=shared, scope=client.identity
    )


def kard_client(
    settings: Settings,
    api_url: str,
    transport: httpx.BaseTransport | None = None,
    shared: FleetCache | None = None,
    observer: KardObserver | None = None,
    tracing: HttpTracing | None = None,
) -> KardClient:
    """A Kard client at `api_url` with the credentials, issuer, timeout and protection (the bound
    on calls in flight, the circuit breaker) of `settings`; with `shared`, its access token is
    the fleet's; `observer` counts its requests, `tracing` traces them."""
    return KardClient(
        api_url=api_url,
        token_url=settings.kard_auth_url or f"{api_url}/v2/auth/token",
        client_id=settings.kard_client_id,
        client_secret=settings.kard_client_secret,
        organization_id=settings.kard_organization_id,
        target_issuer=settings.kard_target_issuer,
        timeout=settings.kard_timeout,
        transport=transport,
        protection=Protection(
            max_concurrency=settings.kard_max_concurrency,
            breaker=CircuitBreaker(
                failures=settings.kard_breaker_failures, cooldown=settings.kard_breaker_seconds
            ),
        ),
        fleet=shared,
        observer=observer,
        tracing=tracing,
    )


def kard(app: Flask | None = None) -> KardClient:
    """The app's Kard client (the current app's by default)."""
    return current.parts(app)["kard"]


def webview_tokens() -> WebViewTokens:
    """The current app's per-user WebView tokens."""
    return current.parts()["webview_tokens"]
