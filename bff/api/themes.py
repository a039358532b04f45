"""Themes for the WebView: encode, decode, and the named themes. No session needed."""

from bff.api.bodies import json_object
from bff.errors import NotFound, Unprocessable
from bff.jsonio import JsonBlueprint
from bff.ratelimit.extension import limit_address
from bff.themes import codec
from bff.themes.extension import named_themes

bp = JsonBlueprint("themes", __name__, url_prefix="/api/v1/themes")
bp.before_request(limit_address)

DECODE_KEYS = ("theme", "url")


@bp.post("/encode")
def encode_theme():
    """Validate and normalize a theme; answer its base64url value and normalized JSON."""
    value, normalized = codec.encode(json_object())
    return {"theme": value, "json": normalized}


@bp.post("/decode")
def decode_theme():
    """Decode `{"theme": "<base64url>"}` or `{"url": "<a WebView URL>"}` to the theme's JSON."""
    body = json_object()
    given = [key for key in body if key in DECODE_KEYS]
    unknown = [key for key in body if key not in DECODE_KEYS]
    if unknown or len(given) != 1 or not isinstance(body[given[0]], str):
        detail = 'Send {"theme": "<base64url>"} or {"url": "<a WebView URL>"}.'
        pointer = f"/{unknown[0]}" if unknown else ""
        raise Unprocessable(detail, pointer=pointer)
    return {"json": codec.decode(body[given[0]], pointer=f"/{given[0]}")}


@bp.get("")
def list_themes():
    """List the named themes of BFF_THEMES_DIR."""
    return {"themes": [theme.to_json() for theme in named_themes().values()]}


@bp.get("/<name>")
def get_theme(name: str):
    """Answer one named theme."""
    theme = named_themes().get(name)
    if theme is None:
        raise NotFound(f"No theme named {name!r}; see GET /api/v1/themes.")
    return theme.to_json()
