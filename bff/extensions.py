"""What the running app holds, for views: settings, the Kard client, CTA forms, themes,
WebView tokens, attribution delivery and the webhook dispatcher."""

import threading

import httpx
from flask import Flask, current_app

from bff import sandbox
from bff.background import at_process_exit
from bff.cta import CtaForms
from bff.delivery import Delivery
from bff.kard import KardClient
from bff.outbox import Bounds, open_outbox
from bff.settings import ConfigError, Settings
from bff.theme_catalog import NamedTheme, load_themes
from bff.webhooks.dispatch import Dispatcher, Hook, load_hook
from bff.webhooks.inbox import open_inbox
from bff.webview import WebViewTokens

# In sandbox without KARD_API_URL, the BFF calls the simulator mounted in this same app through a
# WSGI transport: the same HTTP requests and answers, without a socket or a port to know.
EMBEDDED_KARD_URL = "http://kard.embedded/sandbox/kard"
MIN_LEASE_SECONDS = 5.0


def init_app(app: Flask, settings: Settings) -> None:
    """Store the settings, mount the simulator in sandbox, and build the Kard client."""
    app.extensions["settings"] = settings
    app.extensions["cta_forms"] = CtaForms()
    app.extensions["themes"] = load_themes(settings.themes_dir, settings.default_theme)
    transport = None
    if settings.sandbox:
        simulator = sandbox.init_app(app)
        if settings.kard_webhook_keys:  # the simulator signs its webhooks as Kard would
            simulator.webhook_key = settings.kard_webhook_keys[0]
    api_url = settings.kard_api_url
    if api_url is None:
        api_url, transport = EMBEDDED_KARD_URL, httpx.WSGITransport(app=app)
    app.extensions["kard"] = client = kard_client(settings, api_url, transport)
    app.extensions["webview_tokens"] = WebViewTokens(client.webview_token)
    app.extensions["delivery_lock"] = threading.Lock()
    app.extensions["webhook_hook"] = _webhook_hook(settings)


def kard_client(
    settings: Settings, api_url: str, transport: httpx.BaseTransport | None = None
) -> KardClient:
    """A Kard client at `api_url` with the credentials, issuer and timeout of `settings`."""
    return KardClient(
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


def themes() -> dict[str, NamedTheme]:
    """The current app's named themes."""
    return current_app.extensions["themes"]


def webview_tokens() -> WebViewTokens:
    """The current app's per-user WebView tokens."""
    return current_app.extensions["webview_tokens"]


def delivery(app: Flask | None = None) -> Delivery:
    """The app's attribution delivery; its outbox is opened on first use."""
    app = app or current_app
    with app.extensions["delivery_lock"]:
        if "delivery" not in app.extensions:
            settings = app.extensions["settings"]
            bounds = Bounds(settings.outbox_max_user_events, settings.outbox_max_events)
            outbox = open_outbox(settings.state_dir, settings.redis_url, bounds)
            # A lease outlives any send (a POST is tried at most three times, each within
            # KARD_TIMEOUT); a dead process's chunks come back when its leases run out.
            lease_seconds = max(MIN_LEASE_SECONDS, 3 * settings.kard_timeout)
            app.extensions["delivery"] = Delivery(
                app.extensions["kard"], outbox, lease_seconds=lease_seconds
            )
        return app.extensions["delivery"]


def dispatcher(app: Flask | None = None) -> Dispatcher:
    """The app's webhook dispatcher; its inbox is opened on first use."""
    app = app or current_app
    with app.extensions["delivery_lock"]:
        if "dispatcher" not in app.extensions:
            settings = app.extensions["settings"]
            app.extensions["dispatcher"] = Dispatcher(
                open_inbox(settings.state_dir, settings.redis_url),
                hook=app.extensions["webhook_hook"],
                forward_url=settings.webhook_forward_url,
                signing_key=settings.kard_webhook_keys[0] if settings.kard_webhook_keys else "",
            )
        return app.extensions["dispatcher"]


def start_workers(app: Flask) -> None:
    """Start this process's delivery and dispatch threads, and stop them when it ends (after
    SIGTERM, once its requests are done), handing back what they hold to other workers."""
    for part in (delivery(app), dispatcher(app)):
        part.ensure_worker()
        at_process_exit(part.stop_worker)  # a thread each: the two stop side by side


def _webhook_hook(settings: Settings) -> Hook | None:
    """Import BFF_WEBHOOK_HOOK at start-up, so a typo stops the service rather than a webhook."""
    if settings.webhook_hook is None:
        return None
    try:
        return load_hook(settings.webhook_hook)
    except ValueError as error:
        raise ConfigError(f"BFF_WEBHOOK_HOOK: {error}") from None
