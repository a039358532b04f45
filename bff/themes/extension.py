"""The themes part of the app: the named themes, read and validated at start-up."""

from flask import Flask

from bff.current import parts
from bff.settings import Settings
from bff.themes.catalog import NamedTheme, load_themes


def init_app(app: Flask, settings: Settings) -> None:
    """Load the named themes of `BFF_THEMES_DIR` (and the bundled ones); a bad file stops the
    start."""
    parts(app)["themes"] = load_themes(settings.themes_dir, settings.default_theme)


def named_themes() -> dict[str, NamedTheme]:
    """The current app's named themes."""
    return parts()["themes"]
