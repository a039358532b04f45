"""kard-bff: a backend for frontend in front of the Kard rewards API."""

from collections.abc import Mapping

from flask import Flask

from bff import cors, extensions, middleware, session
from bff.errors import register_error_handlers
from bff.jsonio import OrjsonProvider, WholeBodyResponse
from bff.settings import Settings, load_settings

# Attribution batches of 1,000 events fit well inside this; anything larger is refused with 413.
MAX_BODY_BYTES = 1_000_000


def create_app(config: Mapping[str, str] | Settings | None = None) -> Flask:
    """Build the BFF from the environment, or from `config`: environment-style names (in tests),
    or settings already loaded (the command line)."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    # No Flask static route: bff.pages serves the pages and their assets, each with its headers.
    app = Flask(__name__, static_folder=None)
    app.response_class = WholeBodyResponse
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    register_extensions(app, settings)
    register_blueprints(app, settings)
    register_error_handlers(app)
    return app


def register_extensions(app: Flask, settings: Settings) -> None:
    """Wire in request IDs, CORS, session verification, and Kard (with the sandbox simulator)."""
    middleware.init_app(app)
    cors.init_app(app, settings.cors_origins)
    session.init_app(app, settings)
    extensions.init_app(app, settings)


def register_blueprints(app: Flask, settings: Settings) -> None:
    """Mount the endpoints; the dev session and the stand-in WebView's API exist only in sandbox."""
    from bff import pages
    from bff.api import (
        attributions,
        dev,
        health,
        offers,
        rewards,
        sessions,
        themes,
        webhooks,
        webview,
        webview_standin,
    )

    app.register_blueprint(pages.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(sessions.bp)
    app.register_blueprint(themes.bp)
    app.register_blueprint(webview.bp)
    app.register_blueprint(attributions.bp)
    app.register_blueprint(offers.bp)
    app.register_blueprint(rewards.bp)
    app.register_blueprint(webhooks.bp)
    if settings.sandbox:
        app.register_blueprint(dev.bp)
        app.register_blueprint(webview_standin.bp)
