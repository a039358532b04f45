"""What the app serving this request was built with: its settings, the clock it reads the time
from (`time.time`, unless a test gave it another), and how kard-bff is mounted in it."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app

from bff.settings import Settings

Clock = Callable[[], float]  # seconds since the epoch, as `time.time` gives them
EXTENSION = "kard_bff"  # the one entry kard-bff keeps in `app.extensions`


@dataclass(frozen=True)
class Mount:
    """How kard-bff is mounted in its app: under which prefix, and what it serves there beside
    its API (what the standalone service serves, by default)."""

    url_prefix: str = ""  # "" at the app's root, else like "/rewards"
    pages: bool = True  # the theme studio, the embed example, /docs and their assets
    webhook: bool = True  # Kard's webhook
    session_cookie: str | None = None  # the host's session cookie, when the host names users


STANDALONE = Mount()  # the standalone service's: at the root of its own app, with everything


def init_app(app: Flask, settings: Settings, clock: Clock, mount: Mount) -> None:
    """Keep `settings`, `clock` and `mount` with the app, for its views and parts."""
    parts(app)["settings"] = settings
    parts(app)["clock"] = clock
    parts(app)["mount"] = mount


def parts(app: Flask | None = None) -> dict[str, Any]:
    """kard-bff's parts, kept with the app (the current app's by default): one entry of
    `app.extensions`, so that no extension of a host app can collide with them."""
    return (app or current_app).extensions.setdefault(EXTENSION, {})


def settings(app: Flask | None = None) -> Settings:
    """The app's settings (the current app's by default)."""
    return parts(app)["settings"]


def clock(app: Flask | None = None) -> Clock:
    """The app's clock (the current app's by default), for the parts that keep time."""
    return parts(app)["clock"]


def mount(app: Flask | None = None) -> Mount:
    """How kard-bff is mounted in the app (the current app's by default)."""
    return parts(app)["mount"]


def url_prefix(app: Flask | None = None) -> str:
    """Where kard-bff's routes are mounted in the app: "" at its root, else like "/rewards"."""
    return mount(app).url_prefix


def now() -> float:
    """The current app's time, in seconds since the epoch."""
    return clock()()


def utc_now() -> datetime:
    """The current app's time, as an aware datetime in UTC."""
    return datetime.fromtimestamp(now(), UTC)
