"""The settings the app serving this request was built with."""

from flask import Flask, current_app

from bff.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Keep `settings` with the app, for its views and parts."""
    app.extensions["settings"] = settings


def settings() -> Settings:
    """The current app's settings."""
    return current_app.extensions["settings"]
