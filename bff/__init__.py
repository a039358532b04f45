"""kard-bff: a backend for frontend in front of the Kard rewards API."""

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bff.settings import Settings, load_settings
from bff.workers import start_workers, stop_workers

__all__ = ["KardBFF", "create_app", "start_workers", "stop_workers"]

if TYPE_CHECKING:
    from flask import Flask
    from opentelemetry.sdk.trace import TracerProvider

    from bff.current import Clock
    from bff.extension import KardBFF


def __getattr__(name: str) -> "type[KardBFF]":
    # `from bff import KardBFF` loads Flask then, not with the package.
    if name == "KardBFF":
        from bff.extension import KardBFF

        return KardBFF
    raise AttributeError(f"module 'bff' has no attribute {name!r}")


def create_app(
    config: Mapping[str, str] | Settings | None = None,
    *,
    clock: "Clock" = time.time,
    tracer_provider: "TracerProvider | None" = None,
) -> "Flask":
    """Build the standalone service from the environment, or from `config`: environment-style
    names (in tests), or settings already loaded (the command line). Its views and parts read
    the time from `clock`; it traces with `tracer_provider` (none: no tracing).

    It is an app of its own with kard-bff mounted at its root, pages and webhook included, and
    what only a service owning its app sets for all of it: JSON answers and limits for paths
    outside any route, no sessions, no redirect pages."""
    # Flask and the parts plugged into it load with the app, not with the package: importing a
    # pure module (bff.kard, bff.themes.codec, bff.errors, ...) loads no Flask.
    from flask import Flask

    from bff import middleware
    from bff.api import errors
    from bff.api.bodies import MAX_BODY_BYTES
    from bff.extension import KardBFF
    from bff.jsonio import OrjsonProvider, WholeBodyResponse

    settings = config if isinstance(config, Settings) else load_settings(config)
    # No Flask static route: bff.pages serves the pages and their assets, each with its headers.
    app = Flask(__name__, static_folder=None)
    app.response_class = WholeBodyResponse
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    middleware.init_service(app)
    errors.init_app(app)  # what happens before any route is matched
    KardBFF(
        app,
        config=settings,
        pages=True,
        webhook=True,
        background=False,  # `kard-bff serve`'s workers and wsgi.py start them: start_workers
        clock=clock,
        tracer_provider=tracer_provider,
        observe_whole_app=True,
    )
    return app
