"""The webhook part of the app: the hook it hands notifications to, and its dispatcher, over the
inbox it opens on first use."""

import threading

from flask import Flask, current_app

from bff import current
from bff.observability.extension import http_tracing, metrics
from bff.settings import ConfigError, Settings
from bff.webhooks.dispatch import Dispatcher, Hook, load_hook
from bff.webhooks.inbox import open_inbox


def init_app(app: Flask, settings: Settings) -> None:
    """Import `BFF_WEBHOOK_HOOK` now, so a typo stops the start rather than a webhook."""
    current.parts(app)["webhook_hook"] = _webhook_hook(settings)
    current.parts(app)["dispatcher_lock"] = threading.Lock()


def dispatcher(app: Flask | None = None) -> Dispatcher:
    """The app's webhook dispatcher; its inbox is opened on first use."""
    app = app or current_app
    with current.parts(app)["dispatcher_lock"]:
        if "dispatcher" not in current.parts(app):
            settings = current.settings(app)
            current.parts(app)["dispatcher"] = Dispatcher(
                open_inbox(settings.state_dir, settings.redis_url),
                hook=current.parts(app)["webhook_hook"],
                forward_url=settings.webhook_forward_url,
                signing_key=settings.kard_webhook_keys[0] if settings.kard_webhook_keys else "",
                max_attempts=settings.webhook_max_attempts,
                max_age=settings.webhook_max_age,
                clock=current.clock(app),
                observer=metrics(app),
                tracing=http_tracing(app),
            )
        return current.parts(app)["dispatcher"]


def _webhook_hook(settings: Settings) -> Hook | None:
    if settings.webhook_hook is None:
        return None
    try:
        return load_hook(settings.webhook_hook)
    except ValueError as error:
        raise ConfigError(f"BFF_WEBHOOK_HOOK: {error}") from None
