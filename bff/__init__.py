"""kard-bff: a backend for frontend in front of the Kard rewards API."""

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bff.background import at_process_exit
from bff.settings import Settings, load_settings

if TYPE_CHECKING:
    from flask import Blueprint, Flask
    from opentelemetry.sdk.trace import TracerProvider

    from bff.current import Clock

# Attribution batches of 1,000 events fit well inside this; anything larger is refused with 413.
MAX_BODY_BYTES = 1_000_000


def create_app(
    config: Mapping[str, str] | Settings | None = None,
    *,
    clock: "Clock" = time.time,
    tracer_provider: "TracerProvider | None" = None,
) -> "Flask":
    """Build the BFF from the environment, or from `config`: environment-style names (in tests),
    or settings already loaded (the command line). Its views and parts read the time from
    `clock`; it traces with `tracer_provider` (none: no tracing)."""
    # Flask and the parts plugged into it load with the app, not with the package: importing a
    # pure module (bff.kard, bff.themes.codec, bff.errors, ...) loads no Flask.
    from flask import Flask

    from bff import cors, current, middleware, mount, session
    from bff.api import errors
    from bff.attributions import extension as attributions
    from bff.fleet import extension as fleet
    from bff.jsonio import OrjsonProvider, WholeBodyResponse
    from bff.kard import extension as kard
    from bff.observability import extension as observability
    from bff.offers import extension as offers
    from bff.ratelimit import extension as ratelimit
    from bff.themes import extension as themes
    from bff.webhooks import extension as webhooks

    settings = config if isinstance(config, Settings) else load_settings(config)
    # No Flask static route: bff.pages serves the pages and their assets, each with its headers.
    app = Flask(__name__, static_folder=None)
    app.response_class = WholeBodyResponse
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    middleware.init_service(app)
    errors.init_app(app)  # what happens before any route is matched
    # kard-bff's routes, hooks and error answers: one blueprint.
    scope = mount.create_blueprint()
    current.init_app(app, settings, clock)
    # The service counts and traces every request it answers, its own routes' and the rest.
    observability.init_app(app, app, settings, tracer_provider)
    middleware.init_app(app)  # every answer of the service has its request ID, routed or not
    cors.init_app(scope, settings.cors_origins)
    session.init_app(app, settings)
    if settings.sandbox:
        _mount_simulator(app, settings)
    fleet.init_app(app, settings)
    ratelimit.init_app(app, scope, settings)
    kard.init_app(app, settings)
    offers.init_app(app)
    themes.init_app(app, settings)
    attributions.init_app(app)
    webhooks.init_app(app, settings)
    errors.init_app(scope)
    register_blueprints(scope, settings)
    app.register_blueprint(scope)
    return app


def start_workers(app: "Flask") -> None:
    """Start this process's attribution delivery and webhook dispatch threads, and stop them
    when it ends (after SIGTERM, once its requests are done), handing back what they hold to
    other workers. Every server process calls it: `kard-bff serve`'s workers and wsgi.py."""
    from bff.attributions import extension as attributions
    from bff.webhooks import extension as webhooks

    for part in (attributions.delivery(app), webhooks.dispatcher(app)):
        part.ensure_worker()
        at_process_exit(part.stop_worker)  # a thread each: the two stop side by side


def stop_workers(app: "Flask") -> None:
    """Stop the attribution delivery and webhook dispatch threads of `app`, those that were
    made (a test's apps, or a host app that stops without exiting)."""
    from bff import current
    from bff.attributions import extension as attributions
    from bff.webhooks import extension as webhooks

    made = current.parts(app)
    for name, part in (("delivery", attributions.delivery), ("dispatcher", webhooks.dispatcher)):
        if name in made:
            part(app).stop_worker()


def register_blueprints(app: "Flask | Blueprint", settings: Settings) -> None:
    """Mount the endpoints; the dev session and the stand-in WebView's API exist only in sandbox."""
    from bff import pages
    from bff.api import (
        attributions,
        dev,
        health,
        metrics,
        offers,
        openapi,
        rewards,
        sessions,
        themes,
        webhooks,
        webview,
        webview_standin,
    )

    app.register_blueprint(pages.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(sessions.bp)
    app.register_blueprint(themes.bp)
    app.register_blueprint(webview.bp)
    app.register_blueprint(attributions.bp)
    app.register_blueprint(offers.bp)
    app.register_blueprint(rewards.bp)
    app.register_blueprint(webhooks.bp)
    if settings.sandbox:
        app.register_blueprint(dev.bp)
        app.register_blueprint(pages.sandbox_bp)
        app.register_blueprint(webview_standin.bp)


def _mount_simulator(app: "Flask", settings: Settings) -> None:
    """Mount Kard's simulator under /sandbox/kard; imported only in sandbox mode."""
    from bff import sandbox

    # It takes the credentials this BFF was configured with (the sandbox defaults if none), and
    # signs its webhooks with the key the BFF checks first, as Kard would.
    keys = settings.kard_webhook_keys
    simulator = sandbox.Simulator(
        organization_id=settings.kard_organization_id,
        client_id=settings.kard_client_id,
        client_secret=settings.kard_client_secret,
        target_issuers=tuple(filter(None, [settings.kard_target_issuer])),
        webhook_key=keys[0] if keys else sandbox.DEFAULT_WEBHOOK_KEY,
    )
    # With no subscription, notifications reach /webhooks/kard; only when it can check them.
    simulator.notify_host = bool(keys)
    sandbox.init_app(app, simulator)
