"""The fleet part of the app: its keys, and with `REDIS_URL` the shared Redis and the cache of
values minted once for the fleet."""

from flask import Flask

from bff.current import parts
from bff.fleet.cache import FleetCache
from bff.fleet.connection import SharedRedis
from bff.keys import Keys
from bff.settings import Settings

# A winner's mint is one Kard token call, which ends within KARD_TIMEOUT: its lock outlives it.
LOCK_MARGIN_SECONDS = 1.0


def init_app(app: Flask, settings: Settings) -> None:
    """Build the app's keys; with Redis, its connection and fleet cache."""
    keys = Keys(settings.secret_keys or (settings.kard_client_secret,))
    shared = SharedRedis(settings.redis_url) if settings.redis_url else None
    parts(app)["keys"] = keys
    parts(app)["shared_redis"] = shared
    parts(app)["fleet_cache"] = (
        FleetCache(shared, keys, lock_seconds=settings.kard_timeout + LOCK_MARGIN_SECONDS)
        if shared
        else None
    )


def keys(app: Flask | None = None) -> Keys:
    """The app's keys (`BFF_SECRET_KEY`, else derived from `KARD_CLIENT_SECRET`)."""
    return parts(app)["keys"]


def shared_redis(app: Flask | None = None) -> SharedRedis | None:
    """The app's shared Redis; None without `REDIS_URL`."""
    return parts(app)["shared_redis"]


def fleet_cache(app: Flask | None = None) -> FleetCache | None:
    """The app's fleet cache; None without `REDIS_URL`."""
    return parts(app)["fleet_cache"]
