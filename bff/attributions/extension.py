"""The attributions part of the app: its delivery to Kard, over the outbox it opens on first use."""

import threading

from flask import Flask, current_app

from bff import current
from bff.attributions.delivery import Delivery, IndexedEvents, Outcome
from bff.attributions.outbox import open_outbox
from bff.attributions.outbox.store import Bounds
from bff.kard import extension as kard_extension
from bff.observability.extension import metrics

MIN_LEASE_SECONDS = 5.0


def init_app(app: Flask) -> None:
    """Prepare the app's delivery; its outbox opens when first needed."""
    current.parts(app)["delivery_lock"] = threading.Lock()


def delivery(app: Flask | None = None) -> Delivery:
    """The app's attribution delivery; its outbox is opened on first use."""
    app = app or current_app
    with current.parts(app)["delivery_lock"]:
        if "delivery" not in current.parts(app):
            settings = current.settings(app)
            bounds = Bounds(settings.outbox_max_user_events, settings.outbox_max_events)
            outbox = open_outbox(settings.state_dir, settings.redis_url, bounds)
            # A lease outlives any send (a POST is tried at most three times, each within
            # KARD_TIMEOUT); a dead process's chunks come back when its leases run out.
            lease_seconds = max(MIN_LEASE_SECONDS, 3 * settings.kard_timeout)
            current.parts(app)["delivery"] = Delivery(
                kard_extension.kard(app),
                outbox,
                lease_seconds=lease_seconds,
                max_attempts=settings.outbox_max_attempts,
                max_age=settings.outbox_max_age,
                clock=current.clock(app),
                observer=metrics(app),
            )
        return current.parts(app)["delivery"]


def send_events(user_id: str, events: IndexedEvents) -> Outcome:
    """Send the session user's events now, queueing what Kard cannot take (a worker started
    with the process delivers the queue: see `kard-bff serve` and wsgi.py); 503 with
    Retry-After, sending nothing, when the outbox might not hold them all."""
    return delivery().send(user_id, events)
