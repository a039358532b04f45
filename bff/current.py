"""What the app serving this request was built with: its settings, and the clock it reads the
time from (`time.time`, unless a test gave it another)."""

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app

from bff.settings import Settings

Clock = Callable[[], float]  # seconds since the epoch, as `time.time` gives them


def init_app(app: Flask, settings: Settings, clock: Clock) -> None:
    """Keep `settings` and `clock` with the app, for its views and parts."""
    app.extensions["settings"] = settings
    app.extensions["clock"] = clock


def settings(app: Flask | None = None) -> Settings:
    """The app's settings (the current app's by default)."""
    return (app or current_app).extensions["settings"]


def clock(app: Flask | None = None) -> Clock:
    """The app's clock (the current app's by default), for the parts that keep time."""
    return (app or current_app).extensions["clock"]


def now() -> float:
    """The current app's time, in seconds since the epoch."""
    return clock()()


def utc_now() -> datetime:
    """The current app's time, as an aware datetime in UTC."""
    return datetime.fromtimestamp(now(), UTC)
