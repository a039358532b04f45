"""Named themes: the `<name>.json` files of `BFF_THEMES_DIR`, read and validated at start-up."""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bff.settings import ConfigError
from bff.themes import codec

THEME_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class NamedTheme:
    """A theme from the themes folder, normalized and encoded once."""

    name: str
    json: dict[str, Any]
    theme: str  # the base64url value

    def to_json(self) -> dict[str, Any]:
        """The contract's `{"name", "json", "theme"}`."""
        return {"name": self.name, "json": self.json, "theme": self.theme}


def load_themes(directory: Path, default: str | None) -> dict[str, NamedTheme]:
    """Read every `<name>.json` in `directory`; a bad file stops start-up naming it."""
    if not directory.is_dir():
        raise ConfigError(f"BFF_THEMES_DIR is not a folder: {directory}")
    catalog = {}
    for path in sorted(directory.glob("*.json")):
        if not THEME_NAME.match(path.stem):
            raise ConfigError(f"BFF_THEMES_DIR: {path.name}: name themes a-z, 0-9, - and _")
        catalog[path.stem] = _named_theme(path)
    if default is not None and default not in catalog:
        names = ", ".join(catalog) or "none"
        raise ConfigError(f"BFF_DEFAULT_THEME={default!r} is not in BFF_THEMES_DIR ({names})")
    return catalog


def _named_theme(path: Path) -> NamedTheme:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        value, normalized = codec.encode(raw)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"BFF_THEMES_DIR: {path.name} is not readable JSON ({exc})") from exc
    except codec.ThemeError as exc:
        raise ConfigError(f"BFF_THEMES_DIR: {path.name} is not a valid theme: {exc}") from exc
    return NamedTheme(path.stem, normalized, value)
