"""kard-bff as a Flask extension, mounted in an app under a URL prefix: the issuer's own app, or
the one the standalone service builds (`bff.create_app`).

    from bff import KardBFF

    kard_bff = KardBFF()  # application factories: init_app per app

    def create_app():
        app = Flask(__name__)
        kard_bff.init_app(app, url_prefix="/rewards", user_loader=signed_in_user_id)
        return app

Everything kard-bff adds lives under its prefix, on one blueprint named `kard_bff`: its routes,
their hooks (request IDs, rate limit headers, CORS, metrics) and its JSON error shape. Its parts
are kept in one `app.extensions["kard_bff"]` entry. The host's routes, error handlers, JSON
provider, hooks, sessions and logging are left as they are.

Options, to `KardBFF(...)` (defaults for every app) or to `init_app` (for one app):

- `config`: the settings, as the environment's names (`KARD_CLIENT_ID`, ...). Each name is read
  from `config`, else from `app.config`, else from the process environment. Settings already
  loaded (`bff.settings.Settings`) are taken as they are.
- `url_prefix`: where the routes go, "/rewards" say ("" at the app's root).
- `user_loader`: a callable answering the signed-in user's Kard user ID (None when no one is
  signed in), called in the request's context: the host's own login names the user instead of
  a bearer token (BFF_AUTH_MODE is not read), and requests that change something must show they
  come from the host's own pages (`bff.cross_site`).
- `pages`: serve the theme studio, the embed example and /docs (they open sessions with bearer
  tokens, so not with a `user_loader`); `webhook`: serve Kard's webhook. Both off by default.
- `background`: start this process's attribution delivery and webhook dispatch threads with
  its first kard-bff request, and stop them when it exits (on by default; the standalone
  service's servers start them with each worker instead).
- `clock`, `tracer_provider`: the time its parts keep (`time.time`), and what traces its
  requests and Kard calls (none: no tracing).
- `observe_whole_app`: tag, count and trace every request of the app, not only those under the
  prefix: for the standalone service, whose app is its own.
"""

import dataclasses
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, current_app, request

from bff import current
from bff.api.bodies import MAX_BODY_BYTES
from bff.settings import HOST_AUTH_MODE, Settings, load_settings
from bff.workers import start_workers

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from bff.session import UserLoader

# A prefix is "" or path segments of plain characters, without a trailing slash.
_URL_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")
# The names of the environment's configuration, as `app.config` may hold them.
_CONFIG_NAME = re.compile(r"^(KARD_|BFF_)[A-Z0-9_]+$|^(REDIS_URL|PORT)$")
_workers_lock = threading.Lock()


class KardBFF:
    """The kard-bff extension: `KardBFF(app, **options)`, or `KardBFF(**options)` then
    `init_app(app, **options)` for each app of an application factory (see the module)."""

    def __init__(self, app: Flask | None = None, **options: Any):
        self._options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, **options: Any) -> None:
        """Mount kard-bff in `app`, with this extension's options updated by `options`."""
        _mount(app, **{**self._options, **options})

    @staticmethod
    def enroll_user(user_id: str) -> bool:
        """Enroll a user of the current app in Kard's rewards (Kard's Create Users): True when
        Kard enrolled them now, False when they already were. Kard serves offers and rewards to
        enrolled users only: call it when a user signs up for rewards, or signs in. Kard's
        refusals and failures raise `bff.errors.BffError`s."""
        from bff.kard.extension import kard
        from bff.session import is_user_id

        if not is_user_id(user_id):
            raise ValueError(f"{user_id!r} cannot name a Kard user.")
        return kard(current_app).enroll_user(user_id)


def _mount(
    app: Flask,
    *,
    config: Mapping[str, Any] | Settings | None = None,
    url_prefix: str = "",
    user_loader: "UserLoader | None" = None,
    pages: bool = False,
    webhook: bool = False,
    background: bool = True,
    clock: Callable[[], float] = time.time,
    tracer_provider: "TracerProvider | None" = None,
    observe_whole_app: bool = False,
) -> None:
    from bff import cors, middleware, mount, session
    from bff.api import errors
    from bff.attributions import extension as attributions
    from bff.fleet import extension as fleet
    from bff.kard import extension as kard
    from bff.observability import extension as observability
    from bff.offers import extension as offers
    from bff.ratelimit import extension as ratelimit
    from bff.themes import extension as themes
    from bff.webhooks import extension as webhooks

    if current.EXTENSION in app.extensions:
        raise RuntimeError("kard-bff is already mounted in this app: mount it once.")
    if not _URL_PREFIX.match(url_prefix):
        raise ValueError(f"url_prefix must be '' or like '/rewards', not {url_prefix!r}.")
    if pages and user_loader is not None:
        raise ValueError(
            "kard-bff's pages open sessions with bearer tokens: with a user_loader, your own"
            f" pages call {url_prefix}/api/v1/webview/session. Mount it with pages=False."
        )
    settings = _settings(app, config, url_prefix, host_sessions=user_loader is not None)
    if settings.auth_mode == HOST_AUTH_MODE and user_loader is None:
        raise ValueError("Settings for a host's sessions (auth_mode 'host') need a user_loader.")
    cookie = app.config.get("SESSION_COOKIE_NAME", "session") if user_loader else None
    mounted = current.Mount(url_prefix, pages, webhook, session_cookie=cookie)
    scope = mount.create_blueprint(unrouted_root=bool(url_prefix) and not pages)
    hooked = app if observe_whole_app else scope
    current.init_app(app, settings, clock, mounted)
    observability.init_app(app, hooked, settings, tracer_provider, url_prefix)
    middleware.init_app(hooked)
    if app.config.get("MAX_CONTENT_LENGTH") != MAX_BODY_BYTES:  # the app's limit is not ours
        scope.before_request(_limit_body)
    if background:
        scope.before_request(_start_background)
    cors.init_app(scope, settings.cors_origins, url_prefix, credentials=user_loader is not None)
    session.init_app(app, settings, user_loader)
    if settings.sandbox:
        _mount_simulator(app, settings, mounted)
    fleet.init_app(app, settings)
    ratelimit.init_app(app, scope, settings)
    kard.init_app(app, settings)
    offers.init_app(app)
    themes.init_app(app, settings)
    attributions.init_app(app)
    webhooks.init_app(app, settings)
    errors.init_app(scope)
    _register_blueprints(scope, settings, mounted)
    app.register_blueprint(scope, url_prefix=url_prefix or None)


def _settings(
    app: Flask,
    config: Mapping[str, Any] | Settings | None,
    url_prefix: str,
    *,
    host_sessions: bool,
) -> Settings:
    """The settings from `config`, `app.config` and the environment, in that order of
    precedence; a WebView path (the sandbox's stand-in) is one under the prefix."""
    if isinstance(config, Settings):
        settings = config
        if host_sessions:
            settings = dataclasses.replace(settings, auth_mode=HOST_AUTH_MODE)
    else:
        names = {
            name: str(value)
            for source in (os.environ, app.config, config or {})
            for name, value in source.items()
            if _CONFIG_NAME.match(name) and value is not None
        }
        settings = load_settings(names, host_sessions=host_sessions)
    if url_prefix and settings.kard_webview_url.startswith("/"):
        settings = dataclasses.replace(
            settings, kard_webview_url=url_prefix + settings.kard_webview_url
        )
    return settings


def _limit_body() -> None:
    # Per request: the host's own MAX_CONTENT_LENGTH (or none) is for its own routes.
    request.max_content_length = MAX_BODY_BYTES


def _start_background() -> None:
    app = current_app._get_current_object()
    if not current.parts(app).get("workers_started"):
        with _workers_lock:
            if not current.parts(app).get("workers_started"):
                start_workers(app)


def _register_blueprints(scope: Blueprint, settings: Settings, mounted: current.Mount) -> None:
    """Mount the endpoints; the dev session (for bearer tokens) and the stand-in WebView's API
    exist only in sandbox."""
    from bff import pages as page_routes
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

    if mounted.pages:
        scope.register_blueprint(page_routes.bp)
    if mounted.pages or settings.sandbox:
        scope.register_blueprint(page_routes.assets_bp)
    api = (health, metrics, openapi, sessions, themes, webview, attributions, offers, rewards)
    for module in api:
        scope.register_blueprint(module.bp)
    if mounted.webhook:
        scope.register_blueprint(webhooks.bp)
    if settings.sandbox:
        if settings.auth_mode != HOST_AUTH_MODE:
            scope.register_blueprint(dev.bp)
        scope.register_blueprint(page_routes.sandbox_bp)
        scope.register_blueprint(webview_standin.bp)


def _mount_simulator(app: Flask, settings: Settings, mounted: current.Mount) -> None:
    """Mount Kard's simulator under {url_prefix}/sandbox/kard; imported only in sandbox mode."""
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
    # With no subscription, notifications reach the BFF's webhook; only when it can check them.
    served = mounted.webhook and bool(keys)
    simulator.host_webhook = f"{mounted.url_prefix}/webhooks/kard".lstrip("/") if served else None
    sandbox.init_app(app, simulator, under=mounted.url_prefix)
