"""The simulator's views, one blueprint per area it serves, each registered by `register_routes`
under the simulator's own blueprint (its call log, faults and errors)."""

from flask import Blueprint

from bff.sandbox.routes import (
    auth,
    control,
    enrollment,
    files,
    incoming,
    s3,
    subscriptions,
    transactions,
    users,
    webview,
)

AREAS = (
    auth,
    enrollment,
    users,
    incoming,
    transactions,
    files,
    subscriptions,
    s3,
    control,
    webview,
)


def register_routes(simulator_bp: Blueprint) -> None:
    """Register every area's blueprint on the simulator's blueprint."""
    for area in AREAS:
        simulator_bp.register_blueprint(area.bp)
